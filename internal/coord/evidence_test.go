package coord

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/protocol"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/identity"
)

// liar is the relay as seen by a malicious member's party: while on, each
// protocol broadcast of round `round` the member posts goes out with the
// last byte of the CBOR field `field` of its content flipped, sealed again
// and signed with the member's own identity, as a party that lies in its
// messages would. (The test opens the envelope with a recipient's
// identity to change it: a real liar changes it before sealing.)
type liar struct {
	Relay
	self     *identity.Identity
	to       []*identity.Identity // the recipients of its broadcasts
	round    int
	field    string
	on       atomic.Bool
	mu       sync.Mutex
	tampered [][]byte // the payloads it posted changed
}

func (l *liar) Post(ctx context.Context, ceremonyID, kind string, data []byte) (uint64, error) {
	if l.on.Load() && kind == kindEnvelope {
		if bad, ok := l.tamper(data); ok {
			data = bad
		}
	}
	return l.Relay.Post(ctx, ceremonyID, kind, data)
}

func (l *liar) tamper(raw []byte) ([]byte, bool) {
	find := func(fp string) (identity.Public, bool) {
		if fp == l.self.Fingerprint() {
			return l.self.Public, true
		}
		return identity.Public{}, false
	}
	h, err := envelope.Inspect(raw, find)
	if err != nil || !h.Broadcast() || h.Type != uint8(ceremony.TypeProtocol) || h.Round != l.round {
		return nil, false
	}
	var to []identity.Public
	for _, id := range l.to {
		to = append(to, id.Public)
	}
	_, pt, err := envelope.Open(l.to[0], raw, func(fp string) (identity.Public, bool) { return find(fp) })
	if err != nil {
		return nil, false
	}
	pm := new(protocol.Message)
	if pm.UnmarshalBinary(pt) != nil || len(ceremonytest.Field(pm, l.field)) == 0 {
		return nil, false
	}
	f := bytes.Clone(ceremonytest.Field(pm, l.field))
	f[len(f)-1] ^= 0x01
	ceremonytest.SetField(pm, l.field, f)
	payload, err := pm.MarshalBinary()
	if err != nil {
		return nil, false
	}
	bad, err := envelope.Seal(l.self, h, payload, to)
	if err != nil {
		return nil, false
	}
	l.mu.Lock()
	l.tampered = append(l.tampered, payload)
	l.mu.Unlock()
	return bad, true
}

// startWith is start, with party i's relay client wrapped by wrap.
func (r *rig) startWith(i int, decide Decider, wrap func(Relay) Relay) {
	r.startParty(i, decide, func(p *Party) { p.Relay = wrap(p.Relay) })
}

// TestMisbehaviourKeepsTheCulpritsSignedEnvelope (SECURITY.md (c) case
// 12, signed evidence in the audit): vault, a signer, flips its z_i in the
// FROST sign's round-3 broadcast, in an envelope it signs itself, through
// the real relay. ana's party fails the sign naming vault, and its audit
// entry of the failed outcome names vault's envelopes kept beside the log
// (0600 files in a 0700 evidence directory, named by SHA-256): each is
// exactly what the relay served, its signature verifies with vault's
// public identity alone (and not with ben's; one changed byte and it does
// not verify), it is bound to that ceremony, and one of them is the
// round-3 broadcast carrying the tampered message. A changed file is
// refused by audit.ReadEvidence.
func TestMisbehaviourKeepsTheCulpritsSignedEnvelope(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	ana, ben, vault := r.homes[0], r.homes[1], r.homes[2]
	lie := &liar{self: vault.ID, to: []*identity.Identity{ana.ID}, round: 3, field: "Z_i"}
	r.start(0, approveAll)
	r.start(1, approveAll)
	r.startWith(2, approveAll, func(c Relay) Relay { lie.Relay = c; return lie })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wallet := holder.NewWalletID()
	if _, err := r.initiate(ctx, 0, &Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: wallet,
		WalletName: "ops", Chain: "bitcoin", Parties: r.parties(), Required: 2, Deadline: time.Now().Add(30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	lie.on.Store(true)
	epoch, cd := r.share(0, wallet)
	_, err := r.initiate(ctx, 0, &Request{Kind: ceremony.KindSign, Scheme: ceremony.SchemeSchnorr, WalletID: wallet,
		Parties: r.parties(), Signers: []string{ana.ID.Fingerprint(), vault.ID.Fingerprint()}, Required: 2, Epoch: epoch,
		ConfigDigest: cd, Digest: hex.EncodeToString(make([]byte, 32)), Deadline: time.Now().Add(30 * time.Second)})
	var fe *FailedError
	if !errors.As(err, &fe) || !errors.Is(err, ceremony.ErrMisbehaviour) {
		t.Fatalf("the sign with a lying vault: %v, want failed for misbehaviour", err)
	}
	lie.mu.Lock()
	tampered := slices.Clone(lie.tampered)
	lie.mu.Unlock()
	if len(tampered) != 1 {
		t.Fatalf("vault posted %d tampered round-3 broadcasts, want 1", len(tampered))
	}

	var entry audit.Entry
	for _, e := range r.auditOf(0, 6) { // keygen and sign: request, approved, outcome
		if e.Event == audit.EventOutcome && e.Ceremony == fe.CeremonyID {
			entry = e
		}
	}
	vfp := vault.ID.Fingerprint()
	if entry.Outcome != "failed" || !slices.Equal(entry.Culprits, []string{vfp}) || len(entry.Evidence) == 0 {
		t.Fatalf("ana's audit entry of the failed sign: %+v, want failed, culprit vault, with evidence", entry)
	}
	logPath := filepath.Join(ana.Dir, "audit.log")
	byVault := func(fp string) (identity.Public, bool) { return vault.ID.Public, fp == vfp }
	found := false
	for _, ev := range entry.Evidence {
		raw, err := audit.ReadEvidence(logPath, ev)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Sender != vault.ID.Label() || ev.Size != len(raw) || ev.File != filepath.Join("evidence", ev.SHA256+".envelope") {
			t.Errorf("evidence %+v (%d bytes read)", ev, len(raw))
		}
		h, err := envelope.Inspect(raw, byVault)
		if err != nil || h.From != vfp || h.Ceremony != fe.CeremonyID || h.Round != ev.Round || h.To != ev.To ||
			ceremony.MessageType(h.Type).String() != ev.Type {
			t.Fatalf("evidence %+v: header %+v, %v: want an envelope vault signed for ceremony %.12s", ev, h, err, fe.CeremonyID)
		}
		if _, err := envelope.Inspect(raw, func(string) (identity.Public, bool) { return ben.ID.Public, true }); !errors.Is(err, envelope.ErrUnauthenticated) {
			t.Errorf("evidence %s verifies with ben's key too: %v", ev.SHA256, err)
		}
		changed := bytes.Clone(raw)
		changed[len(changed)/2] ^= 0x01
		if _, err := envelope.Inspect(changed, byVault); err == nil {
			t.Errorf("evidence %s with a byte changed still verifies", ev.SHA256)
		}
		_, pt, err := envelope.Open(ana.ID, raw, byVault)
		if err != nil {
			t.Fatalf("ana cannot open the envelope she kept: %v", err)
		}
		if h.Round == 3 && h.Broadcast() && bytes.Equal(pt, tampered[0]) {
			found = true
		}
		for _, p := range []string{filepath.Join(ana.Dir, "evidence"), filepath.Join(ana.Dir, ev.File)} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]os.FileMode{true: 0o700, false: 0o600}[fi.IsDir()]; fi.Mode().Perm() != want {
				t.Errorf("%s has mode %v, want %v", p, fi.Mode().Perm(), want)
			}
		}
	}
	if !found {
		t.Fatalf("none of the %d envelopes kept is vault's tampered round-3 broadcast: %+v", len(entry.Evidence), entry.Evidence)
	}

	file := filepath.Join(ana.Dir, entry.Evidence[0].File)
	raw, _ := os.ReadFile(file)
	raw[len(raw)-1] ^= 0x01
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.ReadEvidence(logPath, entry.Evidence[0]); err == nil || !strings.Contains(err.Error(), "was changed") {
		t.Fatalf("a changed evidence file is read without complaint: %v", err)
	}
	t.Logf("ana kept %d of vault's envelopes as evidence: %+v", len(entry.Evidence), entry.Evidence)
}

// A transport keeps each member's last keptPerSender envelopes, and
// Evidence returns only the culprits' ones, each member's oldest first,
// at most maxEvidence in all: a member that sends many messages cannot
// grow the evidence or the memory it takes without bound.
func TestEvidenceIsTheCulpritsLastEnvelopes(t *testing.T) {
	tr := &Transport{}
	for seq := range uint64(20) {
		from := "carol"
		if seq%4 == 0 {
			from = "bob"
		}
		tr.keep(&Received{Seq: seq, Header: envelope.Header{From: from, Round: int(seq)}, Raw: []byte{byte(seq)}})
	}
	seqs := func(rs []*Received) []uint64 {
		var out []uint64
		for _, r := range rs {
			out = append(out, r.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		culprits []string
		want     []uint64
	}{
		{[]string{"carol"}, []uint64{13, 14, 15, 17, 18, 19}},
		{[]string{"bob"}, []uint64{0, 4, 8, 12, 16}},
		{[]string{"bob", "carol"}, []uint64{0, 4, 8, 12, 16, 17, 18, 19}},
		{[]string{"dave"}, nil},
		{nil, nil},
	} {
		if got := seqs(tr.Evidence(tc.culprits)); !slices.Equal(got, tc.want) {
			t.Errorf("Evidence(%v) = %v, want %v", tc.culprits, got, tc.want)
		}
	}
}
