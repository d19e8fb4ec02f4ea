//go:build unix

package e2e_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// Refresh with a test signature, killed at every step (SECURITY.md (c)
// case 26): parties' processes are started with PARATRO_FAILPOINT, so that
// each kills itself (SIGKILL, as a power cut would) at one exact step of
// one rotate-keys, and are restarted once every one of them died. The
// steps, in the order a party reaches them (package internal/failpoint):
//
//   - before-test (after output): the protocol is done, the test
//     signature with the new shares has not started; nothing stored. The
//     others cannot finish the test signature without it: a kill there
//     goes only with other kills at before-test;
//   - after-test (after pending write): the test signature verified, the
//     new share is stored pending, not confirmed;
//   - after-confirm (after ACK send): its confirmation was posted;
//   - before-commit: it holds every confirmation, the new share is still
//     pending;
//   - after-commit: the new share is active, nothing reported yet.
//
// While the killed parties are down, each holder's shares are read: a
// killed party holds the old share active at every step but after-commit
// (and the new one pending from after-test on), and no holder has lost its
// old share unless the relay's mailbox holds a signed confirmation of
// every party (the old share is deleted only when the full ACK set is
// held). Afterwards, once the pending shares settled (the deadline has
// passed), every holder holds exactly one share, active, of one epoch:
// the next one if every party confirmed, the old one otherwise; and the
// wallet signs with every 2-of-3 pair (ECDSA signatures checked with
// go-ethereum, BIP-340 ones with btcd).
//
// Several parties are killed in one refresh where all their steps are
// reached (nobody is restarted, so nobody aborts, until all died): this
// covers the initiator (ben, whose home also runs rotate-keys) and the
// third party (ana) without refreshes of their own. The wallets: a 2-of-3
// FROST (Schnorr) one (TestKeygenKilledInEachRound's, or one made here),
// whose refresh takes milliseconds, so that
// a short deadline can be waited out (the holder path is the same as
// CMP's), and the world's CMP wallet for one refresh that needs no
// deadline to pass (vault alone at after-commit: the others, alive, finish
// it, and vault, restarted, finishes it too: it records the wallet and
// reports success, so rotate-keys succeeds). By
// default vault is killed at every step, ben at before-test, after-confirm
// and after-commit, ana at after-test, before-commit and after-commit;
// PARATRO_E2E_ALL_CRASHPOINTS=1 adds the rest of the 3×5 matrix (ana at
// before-test and after-confirm, ben at after-test and before-commit) and
// vault killed alone, the others alive, at after-test, after-confirm and
// (CMP) before-commit. Each rotate-keys needs one of ben's TOTP codes.
func TestRefreshKilledAtEveryStep(t *testing.T) {
	e := setup(t)
	all := os.Getenv("PARATRO_E2E_ALL_CRASHPOINTS") != ""
	frost := frostWallet // made on first use if no earlier test left one
	for _, tc := range []struct {
		scheme  string
		kills   [][2]string // party, step (refresh:<step>)
		advance bool        // the new shares become active
		extra   bool        // only with PARATRO_E2E_ALL_CRASHPOINTS
	}{
		{"schnorr", [][2]string{{"vault", "before-test"}, {"ben", "before-test"}}, false, false},
		{"schnorr", [][2]string{{"vault", "after-test"}, {"ana", "after-test"}, {"ben", "after-confirm"}}, false, false},
		{"schnorr", [][2]string{{"vault", "after-confirm"}, {"ana", "before-commit"}, {"ben", "after-commit"}}, true, false},
		{"schnorr", [][2]string{{"vault", "before-commit"}, {"ana", "after-commit"}, {"ben", "after-confirm"}}, true, false},
		{"ecdsa", [][2]string{{"vault", "after-commit"}}, true, false},

		{"schnorr", [][2]string{{"ana", "before-test"}}, false, true},
		{"schnorr", [][2]string{{"ben", "after-test"}, {"vault", "after-confirm"}, {"ana", "after-confirm"}}, false, true},
		{"schnorr", [][2]string{{"ben", "before-commit"}, {"ana", "after-confirm"}, {"vault", "after-commit"}}, true, true},
		{"schnorr", [][2]string{{"vault", "after-test"}}, false, true},
		{"schnorr", [][2]string{{"vault", "after-confirm"}}, true, true},
		{"ecdsa", [][2]string{{"vault", "before-commit"}}, true, true},
	} {
		var names []string
		for _, k := range tc.kills {
			names = append(names, k[0]+" at "+k[1])
		}
		t.Run(tc.scheme+" "+strings.Join(names, ", "), func(t *testing.T) {
			if tc.extra && !all {
				t.Skip("PARATRO_E2E_ALL_CRASHPOINTS=1 runs it")
			}
			e.healthy(t)
			w := e.wallet
			if tc.scheme == "schnorr" {
				if frost == nil {
					r := e.cmd(e.parties["ben"].home, "wallet", "create", "--name", fmt.Sprintf("refresh-kill-%d", time.Now().Unix()%10000),
						"--chain", "bitcoin", "--scheme", "schnorr", "--threshold", "2-of-3", "--parties", "ana,ben,vault", "--timeout", "60s", "--output", "json")
					if r.code != exitOK {
						t.Fatalf("wallet create:\n%s", r)
					}
					frost = new(decode[createJSON](t, r))
				}
				w = *frost
			}
			refreshKilledAt(t, e, w, tc.scheme, tc.kills, tc.advance)
		})
	}
}

// refreshKilledAt runs rotate-keys on wallet w with each party of kills
// killing itself at its step, restarts them once all died, and checks the
// invariants of TestRefreshKilledAtEveryStep.
func refreshKilledAt(t *testing.T, e *env, w createJSON, scheme string, kills [][2]string, advance bool) {
	n := e.walletEpoch(t, w.ID)
	armed := map[*partyProc]int{} // the start that carries the failpoint
	t.Cleanup(func() {
		for p, start := range armed {
			if p.starts == start || !p.running() { // still armed, or down
				p.kill()
				if err := p.start(); err != nil {
					t.Error(err)
				}
			}
		}
	})
	for _, k := range kills {
		p := e.parties[k[0]]
		p.kill()
		p.extraEnv = []string{"PARATRO_FAILPOINT=refresh:" + k[1]}
		if err := p.start(); err != nil {
			t.Fatal(err)
		}
		armed[p] = p.starts
	}
	marks := e.marks()
	// FROST: milliseconds of work, and a deadline short enough to wait
	// out. A CMP refresh takes seconds; one that leaves no pending share
	// (kills at before-test and after-commit only) waits for no deadline:
	// a generous one costs nothing.
	timeout := 15 * time.Second
	if scheme == "ecdsa" {
		timeout = 2 * time.Minute
		for _, k := range kills {
			if k[1] != "before-test" && k[1] != "after-commit" {
				timeout = 45 * time.Second
			}
		}
	}
	run := e.begin(e.parties["ben"].home, "rotate-keys", w.ID, "--timeout", timeout.String(), "--output", "json")
	st := e.parties["ana"].waitEvent(t, marks["ana"], 30*time.Second, "started refresh", is("started", "refresh", ""))
	for _, k := range kills {
		diedAt(t, e.parties[k[0]], "refresh:"+k[1], timeout+5*time.Second)
	}
	t.Logf("%s killed in refresh %.12s of %s (epoch %d)", describeKills(kills), st.Ceremony, w.ID, n)

	// The killed parties are down: nothing has been settled after the fact.
	states := e.allShareStates(t, w.ID)
	acks := e.confirmations(t, st.Ceremony)
	t.Logf("shares while down: %v; confirmations on the relay from %v", states, acks)
	old, next := fmt.Sprintf("%d:active", n), fmt.Sprintf("%d:pending", n+1)
	for _, k := range kills {
		s := states[k[0]]
		switch k[1] {
		case "before-test":
			if s != old {
				t.Errorf("%s, killed at %s, holds %q, want only %s", k[0], k[1], s, old)
			}
		case "after-commit":
			if s != fmt.Sprintf("%d:active", n+1) {
				t.Errorf("%s, killed at %s, holds %q, want only epoch %d active", k[0], k[1], s, n+1)
			}
		default:
			if !strings.Contains(s, old) || !strings.Contains(s, next) {
				t.Errorf("%s, killed at %s, holds %q, want %s and %s", k[0], k[1], s, old, next)
			}
		}
	}
	for _, name := range holders {
		if !strings.Contains(states[name], old) && len(acks) < len(holders) {
			t.Errorf("%s no longer holds its epoch %d share (%q) although the relay holds confirmations from %v only", name, n, states[name], acks)
		}
	}

	for _, k := range kills {
		if err := e.parties[k[0]].start(); err != nil {
			t.Fatal(err)
		}
	}
	r := run.wait()
	t.Logf("rotate-keys: exit %d after %s (timeout %s); stderr:\n%s", r.code, r.elapsed.Round(10*time.Millisecond), timeout, lastLines(r.stderr, 1))
	if r.code == exitOK && !advance {
		t.Errorf("rotate-keys reported success although the refresh left every holder on epoch %d:\n%s", n, r)
	}
	onlyCommitted := true
	for _, k := range kills {
		// Restarted, a party gives the refresh up, unless it had
		// committed: then it is over (every party confirmed) and it
		// finishes it, recording the wallet and reporting success.
		restarted := "aborted-after-restart"
		if k[1] == "after-commit" {
			restarted = "done"
		} else {
			onlyCommitted = false
		}
		e.parties[k[0]].waitEvent(t, marks[k[0]], 15*time.Second, restarted, is(restarted, "refresh", st.Ceremony))
	}
	if onlyCommitted && r.code != exitOK {
		t.Errorf("every killed party had committed the new share, but rotate-keys failed:\n%s", r)
	}

	// Every pending share is settled once the deadline has passed.
	final := e.settledShares(t, w.ID, timeout+60*time.Second)
	want := n
	if advance {
		want = n + 1
	}
	for _, name := range holders {
		if final[name] != fmt.Sprintf("%d:active", want) {
			t.Errorf("after a refresh with %s, %s's shares of %s are %q, want only epoch %d active (all on one epoch)", describeKills(kills), name, w.ID, final[name], want)
		}
	}
	if t.Failed() {
		return
	}
	for _, pair := range []string{"ana,ben", "ana,vault", "ben,vault"} {
		if scheme == "schnorr" {
			e.signSchnorr(t, w.ID, w.PublicKey, pair)
		} else {
			e.signECDSA(t, w, pair)
		}
	}
}

func describeKills(kills [][2]string) string {
	var out []string
	for _, k := range kills {
		out = append(out, k[0]+" at refresh:"+k[1])
	}
	return strings.Join(out, ", ")
}

// walletEpoch is the epoch of wallet every holder holds, and only, active.
func (e *env) walletEpoch(t *testing.T, wallet string) uint64 {
	t.Helper()
	var n uint64
	states := e.allShareStates(t, wallet)
	for i, name := range holders {
		var ep uint64
		s := states[name]
		if _, err := fmt.Sscanf(s, "%d:active", &ep); err != nil || s != fmt.Sprintf("%d:active", ep) || (i > 0 && ep != n) {
			t.Fatalf("%s's shares of %s are %q: not one active epoch agreed by every holder", name, wallet, s)
		}
		n = ep
	}
	return n
}

// confirmations are the names of the holders whose signed confirmation of
// ceremony cid is in the relay's mailbox (envelopes of type confirm whose
// signature verifies under the sender's identity), read as ana.
func (e *env) confirmations(t *testing.T, cid string) []string {
	t.Helper()
	members := map[string]identity.Public{}
	names := map[string]string{}
	for _, name := range holders {
		id := e.parties[name].public(t)
		members[id.Fingerprint()] = id
		names[id.Fingerprint()] = name
	}
	cl, _ := e.client(t, e.parties["ana"].home)
	msgs, err := cl.Messages(t.Context(), cid, 0, 0)
	if err != nil {
		t.Fatalf("read ceremony %.12s: %v", cid, err)
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range msgs {
		if m.Kind != relay.KindEnvelope {
			continue
		}
		h, err := envelope.Inspect(m.Data, func(fp string) (identity.Public, bool) { p, ok := members[fp]; return p, ok })
		if err == nil && ceremony.MessageType(h.Type) == ceremony.TypeConfirm && !seen[h.From] {
			seen[h.From] = true
			out = append(out, names[h.From])
		}
	}
	return out
}

// publics caches the holders' public identities (each read opens a file
// keyring: a key derivation).
var publics sync.Map // home → identity.Public

// public is the holder's public identity.
func (p *partyProc) public(t *testing.T) identity.Public {
	t.Helper()
	if id, ok := publics.Load(p.home); ok {
		return id.(identity.Public)
	}
	id := p.env.loadIdentity(t, p.home).Public
	publics.Store(p.home, id)
	return id
}
