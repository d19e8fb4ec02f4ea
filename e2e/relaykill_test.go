//go:build unix

package e2e_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// SECURITY.md release case 18: the relay is killed (SIGKILL) during each
// protocol round of a CMP sign, key generation, refresh and presign, and
// restarted on the same address and data directory a second later: the
// ceremony completes, and the relay holds exactly one envelope per
// (sender, recipient, session, type, round), so no party's repost after a
// restart delivered a message twice.
//
// Each ceremony is killed at every one of its rounds in a row: at the
// first envelope of round 2, restarted, killed again at the first envelope
// of round 3, and so on (a round whose envelope appeared only after a later
// round's fails the test: it was not killed in). One key generation, one
// refresh and one presign cover their rounds, each of them costing
// seconds of Paillier work; a sign too, and with
// PARATRO_E2E_ALL_CRASHPOINTS=1 also one sign per round, killed in that
// round only. (Round 2 carries a ceremony's first protocol messages: the
// refresh's first kill is at its very first message.) FROST ceremonies are
// not killed here: a
// FROST key generation or sign is over in milliseconds, before the test
// can see one of its rounds on the relay.
func TestRelayKilledInEachRound(t *testing.T) {
	e := setup(t)
	all := os.Getenv("PARATRO_E2E_ALL_CRASHPOINTS") != ""
	members := map[string]identity.Public{}
	for _, name := range holders {
		id := e.parties[name].public(t)
		members[id.Fingerprint()] = id
	}
	sender := func(fp string) (identity.Public, bool) { p, ok := members[fp]; return p, ok }
	ana, ben := e.parties["ana"], e.parties["ben"]

	// A CMP key generation (messages in rounds 2 to 5, then the test
	// signature and the confirmations), killed in each round; its wallet
	// signs with a pair other than the initiator alone. (The subtests
	// that need one of ben's TOTP codes, keygen and refresh, are apart:
	// the codes come one per 30 s.)
	t.Run("keygen rounds 2-5", func(t *testing.T) {
		e.healthy(t)
		from := ana.mark()
		run := e.begin(ben.home, "wallet", "create", "--name", fmt.Sprintf("relay-kill-%d", time.Now().Unix()%10000), "--chain", "ethereum",
			"--threshold", "2-of-3", "--parties", "ana,ben,vault", "--timeout", "3m", "--output", "json")
		cid := ana.waitEvent(t, from, 60*time.Second, "started keygen", is("started", "keygen", "")).Ceremony
		e.killRelayAtRounds(t, run, ana.home, cid, sender, []int{2, 3, 4, 5})
		r := run.wait()
		if r.code != exitOK {
			t.Fatalf("wallet create across relay restarts failed:\n%s", r)
		}
		w := decode[createJSON](t, r)
		if w.Address == "" {
			t.Fatalf("wallet create printed no address: %s", r.stdout)
		}
		e.requireOneEnvelopePerSlot(t, cid, sender)
		e.signECDSA(t, w, "ana,vault")
		t.Logf("wallet %s made across relay restarts in rounds 2-5 (%s) signs", w.ID, r.elapsed.Round(10*time.Millisecond))
	})

	// A full 2-of-3 CMP sign sends its protocol messages in rounds 2 to 5.
	signRounds := [][]int{{2, 3, 4, 5}}
	if all {
		signRounds = append(signRounds, []int{2}, []int{3}, []int{4}, []int{5})
	}
	for _, rounds := range signRounds {
		t.Run(fmt.Sprintf("sign rounds %v", rounds), func(t *testing.T) {
			e.healthy(t)
			d := digest()
			from := ana.mark()
			run := e.begin(ben.home, "wallet", "sign", e.wallet.ID, "--digest", d, "--signers", "ana,vault",
				"--no-presignature", "--timeout", "2m", "--output", "json")
			cid := ana.waitEvent(t, from, 30*time.Second, "started sign", is("started", "sign", "")).Ceremony
			e.killRelayAtRounds(t, run, ana.home, cid, sender, rounds)
			r := run.wait()
			if r.code != exitOK {
				t.Fatalf("sign across relay restarts in rounds %v failed:\n%s", rounds, r)
			}
			s := decode[signJSON](t, r)
			checkSignature(t, e.wallet, d, s.Signature)
			e.requireOneEnvelopePerSlot(t, cid, sender)
			t.Logf("signed across relay restarts in rounds %v in %s; signature verified with go-ethereum", rounds, r.elapsed.Round(10*time.Millisecond))
		})
	}

	// A CMP presign (messages in rounds 2 to 7) of the signer set {ana,
	// ben}, made by its keeper's pool (party run --presign 1
	// --presign-with the other): the presignature made across the
	// restarts then signs.
	t.Run("presign rounds 2-7", func(t *testing.T) {
		e.healthy(t)
		relayKilledInPresign(t, e, sender)
	})

	// A CMP refresh of the world's wallet (messages in rounds 2 to 5).
	t.Run("refresh rounds 2-5", func(t *testing.T) {
		e.healthy(t)
		n := e.epoch(t)
		from := ana.mark()
		run := e.begin(ben.home, "rotate-keys", e.wallet.ID, "--timeout", "3m", "--output", "json")
		cid := ana.waitEvent(t, from, 60*time.Second, "started refresh", is("started", "refresh", "")).Ceremony
		e.killRelayAtRounds(t, run, ana.home, cid, sender, []int{2, 3, 4, 5})
		r := run.wait()
		if r.code != exitOK {
			t.Fatalf("rotate-keys across relay restarts failed:\n%s", r)
		}
		if rot := decode[rotateJSON](t, r); rot.FromEpoch != n || rot.Epoch != n+1 || rot.Address != e.wallet.Address {
			t.Errorf("rotate-keys printed epoch %d -> %d at %s; want %d -> %d at %s", rot.FromEpoch, rot.Epoch, rot.Address, n, n+1, e.wallet.Address)
		}
		e.requireOneEnvelopePerSlot(t, cid, sender)
		for name, ep := range e.epochs(t) {
			if ep != n+1 {
				t.Errorf("%s holds epoch %d, want %d", name, ep, n+1)
			}
		}
		e.sign(t, "ana,vault")
	})
}

// relayKilledInPresign restarts the keeper of {ana, ben} with --presign 1
// --presign-with the other, kills the relay in each round of the first
// presign it runs, and signs with the presignature it made.
func relayKilledInPresign(t *testing.T, e *env, sender func(string) (identity.Public, bool)) {
	ana, ben := e.parties["ana"], e.parties["ben"]
	keeper, other := ana, ben
	if ben.fp < ana.fp {
		keeper, other = ben, ana
	}
	restart := func(args []string) {
		t.Helper()
		keeper.kill()
		keeper.args = args
		if err := keeper.start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { restart(nil) })
	from, fromOther := keeper.mark(), other.mark()
	restart([]string{"--presign", "1", "--presign-with", other.name})
	var st event
	timer := time.NewTimer(15 * time.Second)
	defer timer.Stop()
	for found := false; !found; {
		keeper.mu.Lock()
		ch := keeper.notify
		keeper.mu.Unlock()
		if st, found = keeper.find(from, is("started", "presign", "")); found {
			break
		}
		select {
		case <-ch:
		case <-timer.C:
			// Every pool of {ana, ben} is full: a sign uses one up.
			t.Logf("no presign within 15 s: every pool of {%s, %s} is full; a sign uses one", keeper.name, other.name)
			e.sign(t, "ana,ben")
			st = keeper.waitEvent(t, from, 60*time.Second, "started presign", is("started", "presign", ""))
			found = true
		}
	}
	cid := st.Ceremony
	e.killRelayAtRounds(t, nil, ana.home, cid, sender, []int{2, 3, 4, 5, 6, 7})
	keeper.waitEvent(t, from, 90*time.Second, "presign done", is("done", "presign", cid))
	other.waitEvent(t, fromOther, 30*time.Second, "presign done", is("done", "presign", cid))
	e.requireOneEnvelopePerSlot(t, cid, sender)
	restart(nil) // no more presigns: the signs below use up the pool
	t.Logf("presign %.12s of %s completed across relay restarts in rounds 2-7", cid, st.Wallet)

	w := e.wallet
	if st.Wallet != w.ID {
		r := e.cmd(ben.home, "wallet", "show", st.Wallet, "--output", "json")
		if r.code != exitOK {
			t.Fatalf("wallet show %s:\n%s", st.Wallet, r)
		}
		w = decode[createJSON](t, r)
		// checkSignature recovers an Ethereum address: that of the key,
		// whatever the wallet's chain.
		pub, err := hex.DecodeString(w.PublicKey)
		if err != nil {
			t.Fatalf("wallet show %s: public key %q", st.Wallet, w.PublicKey)
		}
		key, err := crypto.DecompressPubkey(pub)
		if err != nil {
			t.Fatalf("wallet show %s: public key %s: %v", st.Wallet, w.PublicKey, err)
		}
		w.Address = crypto.PubkeyToAddress(*key).Hex()
	}
	// The pool is used oldest first: sign until the new presignature is.
	for range 4 {
		d := digest()
		r := e.cmd(ben.home, "wallet", "sign", w.ID, "--digest", d, "--signers", "ana,ben", "--timeout", "60s", "--output", "json")
		if r.code != exitOK {
			t.Fatalf("sign with {ana, ben}:\n%s", r)
		}
		s := decode[presigSignJSON](t, r)
		checkSignature(t, w, d, s.Signature)
		if s.Presignature == "" {
			break
		}
		if s.Presignature == cid {
			t.Logf("signed with presignature %.12s, made across the relay restarts; verified with go-ethereum", cid)
			return
		}
		t.Logf("signed with an older presignature %.12s", s.Presignature)
	}
	t.Fatalf("no sign used presignature %.12s, made across the relay restarts", cid)
}

// killRelayAtRounds kills the relay (SIGKILL) at the first protocol
// envelope of each of rounds, in turn, in ceremony cid's own session (not
// its test signature's), read as the holder of home, and restarts it a
// second later on the same address and data. It fails the test if a
// round's first envelope was seen only once a later round's was there
// already (that round was not killed in).
func (e *env) killRelayAtRounds(t *testing.T, run *running, home, cid string, sender func(string) (identity.Public, bool), rounds []int) {
	t.Helper()
	cl, _ := e.client(t, home)
	started := time.Now()
	for _, round := range rounds {
		for {
			if run != nil && run.exited() {
				t.Fatalf("the command ended before round %d of %.12s reached the relay:\n%s", round, cid, run.wait())
			}
			if time.Since(started) > 3*time.Minute {
				t.Fatalf("no envelope of round %d of %.12s on the relay after %s", round, cid, time.Since(started).Round(time.Second))
			}
			if top := e.topRound(t, cl, cid, sender); top >= round {
				e.relay.kill()
				if top > round {
					t.Errorf("round %d of %.12s passed unseen: the first envelope seen was of round %d", round, cid, top)
				}
				t.Logf("SIGKILL relay at the first envelope of round %d of %.12s (%s in)", top, cid, time.Since(started).Round(10*time.Millisecond))
				time.Sleep(time.Second)
				if err := e.relay.start(); err != nil {
					t.Fatal(err)
				}
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// topRound is the highest round of the protocol envelopes of ceremony
// cid's own session (the session of its first protocol envelope) that cl
// may read, 0 if none or if the relay does not answer.
func (e *env) topRound(t *testing.T, cl *relay.Client, cid string, sender func(string) (identity.Public, bool)) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	msgs, err := cl.Messages(ctx, cid, 0, 0)
	if err != nil {
		return 0
	}
	var sid []byte
	top := 0
	for _, m := range msgs {
		if m.Kind != relay.KindEnvelope {
			continue
		}
		h, err := envelope.Inspect(m.Data, sender)
		if err != nil || ceremony.MessageType(h.Type) != ceremony.TypeProtocol {
			continue
		}
		if sid == nil {
			sid = h.SessionID
		}
		if bytes.Equal(h.SessionID, sid) {
			top = max(top, h.Round)
		}
	}
	return top
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
