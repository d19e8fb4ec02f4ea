//go:build unix

package e2e_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// SECURITY.md release case 18: the relay is killed (SIGKILL) during each
// round of a CMP sign and in a CMP key generation, and restarted on the
// same address and data directory: the ceremony completes, and the relay
// holds exactly one envelope per (sender, recipient, type, round), so no
// party's repost after the restart delivered a message twice. The refresh
// is covered by TestRelayKilledMidRefresh.
func TestRelayKilledInEachRound(t *testing.T) {
	e := setup(t)
	members := map[string]identity.Public{}
	for _, name := range holders {
		id := e.loadIdentity(t, e.parties[name].home)
		members[id.Fingerprint()] = id.Public
	}
	sender := func(fp string) (identity.Public, bool) { p, ok := members[fp]; return p, ok }

	// A full 2-of-3 CMP sign sends its protocol messages in rounds 2 to 5.
	for _, round := range []int{2, 3, 4, 5} {
		t.Run(fmt.Sprintf("sign round %d", round), func(t *testing.T) {
			e.healthy(t)
			d := digest()
			known := e.knownCeremonies(t)
			run := e.begin(e.parties["ben"].home, "wallet", "sign", e.wallet.ID, "--digest", d, "--signers", "ana,vault",
				"--no-presignature", "--timeout", "90s", "--output", "json")
			cid := e.killRelayAtRound(t, run, known, sender, round)
			r := run.wait()
			if r.code != exitOK {
				t.Fatalf("sign across a relay restart in round %d failed:\n%s", round, r)
			}
			s := decode[signJSON](t, r)
			checkSignature(t, e.wallet, d, s.Signature)
			e.requireOneEnvelopePerSlot(t, cid, sender)
			t.Logf("signed across a relay restart in round %d in %s; signature verified with go-ethereum", round, r.elapsed.Round(10*time.Millisecond))
		})
	}

	// A CMP key generation (5 rounds, then the test signature and the
	// confirmations): the relay dies in round 4, whose messages carry the
	// Paillier proofs and the shares (one key generation: each costs
	// seconds of prime generation; the relay's restart does not depend on
	// the kind, which the sign rounds above already cover one by one).
	for _, round := range []int{4} {
		t.Run(fmt.Sprintf("keygen round %d", round), func(t *testing.T) {
			e.healthy(t)
			known := e.knownCeremonies(t)
			run := e.begin(e.parties["ben"].home, "wallet", "create", "--name", fmt.Sprintf("relay-kill-%d", round), "--chain", "ethereum",
				"--threshold", "2-of-3", "--parties", "ana,ben,vault", "--timeout", "3m", "--output", "json")
			cid := e.killRelayAtRound(t, run, known, sender, round)
			r := run.wait()
			if r.code != exitOK {
				t.Fatalf("wallet create across a relay restart in round %d failed:\n%s", round, r)
			}
			var w createJSON
			if err := json.Unmarshal([]byte(r.stdout), &w); err != nil || w.Address == "" {
				t.Fatalf("wallet create printed %q: %v", r.stdout, err)
			}
			e.requireOneEnvelopePerSlot(t, cid, sender)
			// Every holder activated the same wallet: a sign by a pair that
			// was not the initiator alone verifies against its address.
			d := digest()
			sr := e.cmd(e.parties["ben"].home, "wallet", "sign", w.ID, "--digest", d, "--signers", "ana,vault", "--timeout", "60s", "--output", "json")
			if sr.code != exitOK {
				t.Fatalf("sign with the wallet made across a relay restart:\n%s", sr)
			}
			checkSignature(t, w, d, decode[signJSON](t, sr).Signature)
			t.Logf("wallet %s made across a relay restart in round %d (%s) signs; verified with go-ethereum", w.ID, round, r.elapsed.Round(10*time.Millisecond))
		})
	}
}

// knownCeremonies are the ceremonies in ana's inbox now.
func (e *env) knownCeremonies(t *testing.T) map[string]bool {
	t.Helper()
	cl, _ := e.client(t, e.parties["ana"].home)
	items, err := cl.Inbox(t.Context(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, it := range items {
		known[it.CeremonyID] = true
	}
	return known
}

// killRelayAtRound waits until the first protocol envelope of round (any
// sender) of the ceremony run started (one not in known) is on the relay,
// SIGKILLs the relay and restarts it a second later on the same address
// and data. It returns the ceremony's ID.
func (e *env) killRelayAtRound(t *testing.T, run *running, known map[string]bool, sender func(string) (identity.Public, bool), round int) string {
	t.Helper()
	cl, _ := e.client(t, e.parties["ana"].home)
	started := time.Now()
	for {
		if run.exited() {
			t.Fatalf("the command ended before round %d reached the relay:\n%s", round, run.wait())
		}
		if time.Since(started) > 120*time.Second {
			t.Fatalf("no envelope of round %d on the relay after 120 s", round)
		}
		if cid := e.ceremonyAtRound(t, cl, known, sender, round); cid != "" {
			e.relay.kill()
			t.Logf("SIGKILL relay at the first envelope of round %d of %.12s (%s in)", round, cid, time.Since(started).Round(10*time.Millisecond))
			time.Sleep(time.Second)
			if err := e.relay.start(); err != nil {
				t.Fatal(err)
			}
			return cid
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ceremonyAtRound returns a ceremony in ana's inbox, not in known, whose
// mailbox holds a protocol envelope of round, or "".
func (e *env) ceremonyAtRound(t *testing.T, cl *relay.Client, known map[string]bool, sender func(string) (identity.Public, bool), round int) string {
	t.Helper()
	ctx := t.Context()
	items, err := cl.Inbox(ctx, 0, 0)
	if err != nil {
		return ""
	}
	for _, it := range items {
		if known[it.CeremonyID] {
			continue
		}
		msgs, err := cl.Messages(ctx, it.CeremonyID, 0, 0)
		if err != nil {
			continue
		}
		for _, m := range msgs {
			if m.Kind != relay.KindEnvelope {
				continue
			}
			if h, err := envelope.Inspect(m.Data, sender); err == nil && ceremony.MessageType(h.Type) == ceremony.TypeProtocol && h.Round == round {
				return it.CeremonyID
			}
		}
	}
	return ""
}

// requireOneEnvelopePerSlot fails if ceremony cid's mailbox, as ana reads
// it, holds two envelopes for one (sender, recipient, session, type,
// round): a message delivered twice.
func (e *env) requireOneEnvelopePerSlot(t *testing.T, cid string, sender func(string) (identity.Public, bool)) {
	t.Helper()
	cl, _ := e.client(t, e.parties["ana"].home)
	msgs, err := cl.Messages(t.Context(), cid, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]uint64{}
	n := 0
	for _, m := range msgs {
		if m.Kind != relay.KindEnvelope {
			continue
		}
		h, err := envelope.Inspect(m.Data, sender)
		if err != nil {
			t.Errorf("envelope #%d of %.12s does not inspect: %v", m.Seq, cid, err)
			continue
		}
		slot := fmt.Sprintf("%s>%s %x type %d round %d", h.From, h.To, h.SessionID, h.Type, h.Round)
		if first, dup := seen[slot]; dup {
			t.Errorf("envelopes #%d and #%d of %.12s fill one slot (%s): a message reached the mailbox twice", first, m.Seq, cid, slot)
		}
		seen[slot] = m.Seq
		n++
	}
	if n == 0 {
		t.Fatalf("no envelope of %.12s readable by ana", cid)
	}
	t.Logf("%d envelopes readable by ana, one per slot", n)
}
