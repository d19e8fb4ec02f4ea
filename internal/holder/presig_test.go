package holder_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/shares"
)

// TestPresignatureSignsOnceAtEveryParty: a presignature made by a presign
// ceremony signs once; a second request naming it, with another digest or
// the same, is refused by every party before any message leaves
// (SECURITY.md release case 11), and so is one naming it with another
// signer subset, used or not; so is one whose mark survived a crash
// (case 28), and every presignature after a restore.
func TestPresignatureSignsOnceAtEveryParty(t *testing.T) {
	if testing.Short() {
		t.Skip("CMP presign and sign ceremonies: seconds, and minutes under the race detector; runs without -short")
	}
	hs := holders(t)
	fixture := ceremonytest.ECDSAShares(t)
	for id, h := range hs {
		if err := h.Import("wal_ps", 1, fixture[id]); err != nil {
			t.Fatal(err)
		}
	}
	signers := []party.ID{"alice", "bob"}
	presignOnce := func() string {
		t.Helper()
		d, err := hs["alice"].Describe(ceremony.KindPresign, "wal_ps", signers, nil, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		requireNoErrors(t, run(t, hs, d, nil))
		for _, id := range signers {
			list, err := hs[id].Store.Presignatures("wal_ps", string(id))
			if err != nil || len(list) == 0 || list[len(list)-1].ID != holder.PresignatureID(d) {
				t.Fatalf("%s holds %v, %v", id, list, err)
			}
		}
		return holder.PresignatureID(d)
	}
	sign := func(id, text string) (map[party.ID]error, int64) {
		t.Helper()
		d, err := hs["alice"].Describe(ceremony.KindSign, "wal_ps", signers, ceremonytest.Digest(text), time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		d.PresignatureID = id
		var sent atomic.Int64
		errs := run(t, hs, d, func(to party.ID, m *ceremony.Message) []*ceremony.Message {
			sent.Add(1)
			return []*ceremony.Message{m}
		})
		return errs, sent.Load()
	}

	ps := presignOnce()
	digest := ceremonytest.Digest("pay once")
	d, _ := hs["alice"].Describe(ceremony.KindSign, "wal_ps", signers, digest, time.Now().Add(time.Minute))
	d.PresignatureID = ps
	res := runPair(t, hs["alice"], hs["bob"], d, "sign with the presignature failed")
	addr, _ := ethereum.Address(fixture["alice"].PublicKey())
	if err := ethereum.VerifyDigest(addr, digest, res.Signature); err != nil {
		t.Fatal(err)
	}

	for _, text := range []string{"pay twice", "pay once"} {
		errs, sent := sign(ps, text)
		for _, id := range signers {
			if !errors.Is(errs[id], shares.ErrPresignatureUsed) {
				t.Fatalf("second use (%q): %s got %v, want it refused as used", text, id, errs[id])
			}
		}
		if sent != 0 {
			t.Fatalf("second use (%q): %d messages left the parties", text, sent)
		}
	}

	// The same presignature asked for by another signer subset, once it
	// was used and while it is still unused: every party of the request
	// refuses before a message leaves it (those that hold it because it
	// was used or made by other signers, the others because they hold no
	// such presignature), and an unused one stays usable by its signers.
	subsets := [][]party.ID{{"alice", "carol"}, {"bob", "carol"}, {"alice", "bob", "carol"}}
	signWith := func(id string, subset []party.ID, text string) (map[party.ID]error, int64) {
		t.Helper()
		d, err := hs[subset[0]].Describe(ceremony.KindSign, "wal_ps", subset, ceremonytest.Digest(text), time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		d.PresignatureID = id
		var sent atomic.Int64
		errs := run(t, hs, d, func(to party.ID, m *ceremony.Message) []*ceremony.Message {
			sent.Add(1)
			return []*ceremony.Message{m}
		})
		return errs, sent.Load()
	}
	refusedEverywhere := func(t *testing.T, errs map[party.ID]error, sent int64, holder func(party.ID) bool) {
		t.Helper()
		for id, err := range errs {
			switch {
			case err == nil:
				t.Fatalf("%s signed with a presignature of other signers", id)
			case !holder(id) && !errors.Is(err, shares.ErrNotFound):
				t.Fatalf("%s: got %v, want no such presignature", id, err)
			case holder(id) && errors.Is(err, shares.ErrNotFound):
				t.Fatalf("%s: got %v, want its presignature refused", id, err)
			}
		}
		if sent != 0 {
			t.Fatalf("%d messages left the parties", sent)
		}
	}
	t.Run("the used presignature asked for by other signer subsets", func(t *testing.T) {
		for _, subset := range subsets {
			errs, sent := signWith(ps, subset, "other signers")
			refusedEverywhere(t, errs, sent, func(id party.ID) bool { return id != "carol" })
			for _, id := range subset {
				if id != "carol" && !errors.Is(errs[id], shares.ErrPresignatureUsed) {
					t.Fatalf("%v: %s got %v, want it refused as used", subset, id, errs[id])
				}
			}
		}
	})
	t.Run("an unused presignature asked for by other signer subsets", func(t *testing.T) {
		fresh := presignOnce()
		for _, subset := range subsets {
			errs, sent := signWith(fresh, subset, "other signers")
			refusedEverywhere(t, errs, sent, func(id party.ID) bool { return id != "carol" })
		}
		for _, id := range signers {
			p, err := hs[id].Presignature(&ceremony.Descriptor{WalletID: "wal_ps", PresignatureID: fresh, Parties: signers,
				Epoch: 1, ConfigDigest: fixture[id].ConfigDigest()})
			if err != nil {
				t.Fatalf("%s: the refused requests spent the presignature: %v", id, err)
			}
			p.Wipe()
		}
	})

	t.Run("a mark that survived a crash", func(t *testing.T) {
		ps := presignOnce()
		// alice marked it used, then died before her signature share left.
		if err := hs["alice"].Store.MarkPresignatureUsed("wal_ps", "alice", ps); err != nil {
			t.Fatal(err)
		}
		reopened, err := shares.Open(hs["alice"].Store.Dir(), keyringOf(t, hs["alice"]))
		if err != nil {
			t.Fatal(err)
		}
		alice := &holder.Holder{ID: "alice", Store: reopened}
		d, _ := alice.Describe(ceremony.KindSign, "wal_ps", signers, ceremonytest.Digest("after the crash"), time.Now().Add(time.Minute))
		d.PresignatureID = ps
		if _, err := alice.Run(ctx, d, ceremony.NewMemoryNetwork(signers...).Endpoint("alice"), nil); !errors.Is(err, shares.ErrPresignatureUsed) {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("no presignature survives a restore", func(t *testing.T) {
		ps := presignOnce()
		if err := hs["bob"].Store.Destroy("wal_ps", "bob"); err != nil {
			t.Fatal(err)
		}
		if err := hs["bob"].Restore("wal_ps", 1, fixture["bob"]); err != nil {
			t.Fatal(err)
		}
		d, _ := hs["bob"].Describe(ceremony.KindSign, "wal_ps", signers, ceremonytest.Digest("after the restore"), time.Now().Add(time.Minute))
		d.PresignatureID = ps
		if _, err := hs["bob"].Run(ctx, d, ceremony.NewMemoryNetwork(signers...).Endpoint("bob"), nil); !errors.Is(err, shares.ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("a presignature of other signers is refused", func(t *testing.T) {
		ps := presignOnce()
		d, _ := hs["alice"].Describe(ceremony.KindSign, "wal_ps", []party.ID{"alice", "carol"}, ceremonytest.Digest("x"), time.Now().Add(time.Minute))
		d.PresignatureID = ps
		if _, err := hs["alice"].Presignature(d); err == nil {
			t.Fatal("a presignature of alice+bob was accepted for alice+carol")
		}
	})
}
