package ceremony_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

func TestDescriptorsAreRefusedBeforeAnyHandlerExists(t *testing.T) {
	shares := ceremonytest.SchnorrShares(t)
	keygen := func(required int, ids ...party.ID) func(*ceremony.Descriptor) {
		return func(d *ceremony.Descriptor) {
			d.Kind, d.Parties, d.Required, d.Epoch, d.ConfigDigest, d.Digest = ceremony.KindKeygen, ids, required, 0, nil, nil
		}
	}
	cases := []struct {
		name, want string
		edit       func(*ceremony.Descriptor)
	}{
		{"required 1 would make every share the key", "required must be at least 2", keygen(1, "alice", "bob", "carol")},
		{"required above total", "required must be between 2 and total", keygen(4, "alice", "bob", "carol")},
		{"required 0", "required must be between 2", keygen(0, "alice", "bob", "carol")},
		{"negative required", "required must be between 2", keygen(-1, "alice", "bob", "carol")},
		{"more than 64 parties", "between 2 and 64 parties", keygen(2, manyIDs(65)...)},
		{"a NUL ID (the zero scalar)", "party ID", keygen(2, "\x00", "alice", "bob")},
		{"IDs equal as scalars", "printable", keygen(2, "a", "\x00a", "bob")},
		{"a 33-byte ID", "1-32 printable", keygen(2, party.ID(strings.Repeat("x", 33)), "alice", "bob")},
		{"a duplicate ID", "duplicates", keygen(2, "alice", "alice", "bob")},
		{"a space in an ID", "printable", keygen(2, "al ice", "alice", "bob")},
		{"a lone signer", "between 2 and 64 parties", func(d *ceremony.Descriptor) { d.Parties = []party.ID{"alice"} }},
		{"fewer signers than the threshold", "2 signers given, the wallet needs 3", func(d *ceremony.Descriptor) { d.Required = 3 }},
		{"a signer outside the wallet", "not a party of this wallet", func(d *ceremony.Descriptor) { d.Parties = []party.ID{"alice", "mallory"} }},
		{"this party not among the signers", "not a participant", func(d *ceremony.Descriptor) { d.Parties = []party.ID{"bob", "carol"} }},
		{"a short digest", "digest must be 32 bytes", func(d *ceremony.Descriptor) { d.Digest = d.Digest[:31] }},
		{"no digest", "digest must be 32 bytes", func(d *ceremony.Descriptor) { d.Digest = nil }},
		{"a wrong epoch digest", "share epoch mismatch", func(d *ceremony.Descriptor) { d.ConfigDigest = ceremonytest.Digest("old epoch") }},
		{"a wrong threshold", "share needs 2 signers", func(d *ceremony.Descriptor) { d.Required = 3; d.Parties = ceremonytest.FixtureParties }},
		{"an ecdsa ceremony with a schnorr share", "share is schnorr", func(d *ceremony.Descriptor) { d.Scheme = ceremony.SchemeECDSA }},
		{"a presignature for schnorr", "presignatures are for ecdsa", func(d *ceremony.Descriptor) { d.PresignatureID = "p1" }},
		{"an unknown kind", "unknown ceremony kind", func(d *ceremony.Descriptor) { d.Kind = "mint" }},
		{"an unknown scheme", "unknown scheme", func(d *ceremony.Descriptor) { d.Scheme = "rsa" }},
		{"a bad wallet ID", "wallet ID", func(d *ceremony.Descriptor) { d.WalletID = "../etc" }},
		{"no deadline", "no deadline", func(d *ceremony.Descriptor) { d.Deadline = time.Time{} }},
		{"a zero ceremony ID", "ceremony ID is zero", func(d *ceremony.Descriptor) { d.ID = ceremony.ID{} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := ceremonytest.Sign(shares, ceremonytest.Digest("x"), "alice", "bob")
			c.edit(d)
			share := shares["alice"]
			if d.Kind == ceremony.KindKeygen {
				share = nil
			}
			sent := 0
			tr := countingTransport{sent: &sent}
			_, err := ceremony.Run(ctx, d, ceremony.Config{Self: "alice", Share: share, Transport: tr})
			if !errors.Is(err, ceremony.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an invalid-ceremony error containing %q", err, c.want)
			}
			if sent != 0 {
				t.Fatalf("%d messages were sent for an invalid ceremony", sent)
			}
		})
	}
}

func manyIDs(n int) []party.ID {
	ids := make([]party.ID, n)
	for i := range ids {
		ids[i] = party.ID("p" + strings.Repeat("x", i%20) + string(rune('A'+i%26)) + string(rune('a'+i/26)))
	}
	return ids
}

type countingTransport struct{ sent *int }

func (c countingTransport) Send(context.Context, *ceremony.Message) error { *c.sent++; return nil }
func (c countingTransport) Receive(x context.Context) (*ceremony.Message, error) {
	<-x.Done()
	return nil, x.Err()
}

func TestSessionIDsBindTheWholeDescriptor(t *testing.T) {
	base := func() *ceremony.Descriptor {
		return &ceremony.Descriptor{ID: ceremony.ID{1}, Kind: ceremony.KindSign, Scheme: ceremony.SchemeECDSA,
			WalletID: "wal_a", Parties: []party.ID{"alice", "bob"}, Required: 2, Epoch: 1,
			ConfigDigest: ceremonytest.Digest("epoch 1"), Digest: ceremonytest.Digest("pay"), Deadline: time.Unix(100, 0)}
	}
	sid := base().SessionID()
	t.Run("it does not depend on the order parties are listed in", func(t *testing.T) {
		d := base()
		d.Parties = []party.ID{"bob", "alice"}
		if !bytes.Equal(d.SessionID(), sid) {
			t.Fatal("reordering the parties changed the session ID")
		}
	})
	edits := map[string]func(*ceremony.Descriptor){
		"ceremony ID":           func(d *ceremony.Descriptor) { d.ID = ceremony.ID{2} },
		"kind":                  func(d *ceremony.Descriptor) { d.Kind = ceremony.KindPresign },
		"scheme":                func(d *ceremony.Descriptor) { d.Scheme = ceremony.SchemeSchnorr },
		"wallet":                func(d *ceremony.Descriptor) { d.WalletID = "wal_b" },
		"parties":               func(d *ceremony.Descriptor) { d.Parties = []party.ID{"alice", "carol"} },
		"threshold":             func(d *ceremony.Descriptor) { d.Required = 3 },
		"epoch":                 func(d *ceremony.Descriptor) { d.Epoch = 2 },
		"epoch digest":          func(d *ceremony.Descriptor) { d.ConfigDigest = ceremonytest.Digest("epoch 2") },
		"message digest":        func(d *ceremony.Descriptor) { d.Digest = ceremonytest.Digest("pay more") },
		"presignature":          func(d *ceremony.Descriptor) { d.PresignatureID = "p7" },
		"deadline":              func(d *ceremony.Descriptor) { d.Deadline = time.Unix(101, 0) },
		"index (0 is not none)": func(d *ceremony.Descriptor) { d.Index = index(0) },
		"field boundaries":      func(d *ceremony.Descriptor) { d.WalletID, d.PresignatureID = "wal_", "a" },
	}
	t.Run("two indexes differ", func(t *testing.T) {
		a, b := base(), base()
		a.Index, b.Index = index(1), index(2)
		if bytes.Equal(a.SessionID(), b.SessionID()) {
			t.Fatal("indexes 1 and 2 give one session ID")
		}
	})
	for name, edit := range edits {
		t.Run("changing the "+name+" changes it", func(t *testing.T) {
			d := base()
			edit(d)
			if bytes.Equal(d.SessionID(), sid) {
				t.Fatal("session ID unchanged")
			}
		})
	}
	t.Run("two new ceremony IDs differ", func(t *testing.T) {
		if a, b := ceremony.NewID(), ceremony.NewID(); a == b {
			t.Fatal("NewID repeated")
		}
	})
}

func TestParseID(t *testing.T) {
	id := ceremony.NewID()
	got, err := ceremony.ParseID(id.String())
	if err != nil || got != id {
		t.Fatalf("round trip: %v %v", got, err)
	}
	for _, bad := range []string{"", "zz", id.String()[:10]} {
		if _, err := ceremony.ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) succeeded", bad)
		}
	}
}

func TestSanitizeMakesPeerTextSafeToShow(t *testing.T) {
	in := "evil\x1b[31mred\x1b[0m\nline two\x00" + strings.Repeat("A", 64<<10)
	got := ceremony.Sanitize(in)
	if strings.ContainsAny(got, "\x1b\n\x00") {
		t.Fatalf("control characters survived: %q", got[:40])
	}
	if len([]rune(got)) > 201 {
		t.Fatalf("not truncated: %d runes", len([]rune(got)))
	}
	if !strings.HasPrefix(got, "evil[31mred[0m line two") {
		t.Fatalf("got %q", got[:30])
	}
}
