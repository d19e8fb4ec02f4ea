//go:build unix

package e2e_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// A key generation with vault's party killed (SIGKILL, by PARATRO_FAILPOINT
// keygen:after-round-N, internal/holder's failpointTransport) right after
// it posted its first protocol message of round N (SECURITY.md (c) case
// 25). The threshold library keeps its round state in memory only, so the
// restarted party cannot resume; whatever the round:
//
//   - the restarted party only reports the ceremony it gave up
//     (aborted-after-restart), and takes no further part in it;
//   - no holder has a share of the wallet, active or pending, nor a record
//     of it (wallet show shows only the relay's view: status failed):
//     nothing can become active later;
//   - the others fail cleanly, naming vault: left down past the deadline,
//     wallet create exits 124 (timed out) "waiting for vault" and ana's and
//     ben's parties report the keygen failed waiting for vault's
//     fingerprint; restarted at once, its abort ends the keygen with exit 1
//     (failed) "party vault restarted during the ceremony", well before the
//     deadline;
//   - wallet create run again, with vault restarted, succeeds, and the
//     wallet signs with every 2-of-3 pair (BIP-340 signatures checked with
//     btcd; ECDSA ones with go-ethereum).
//
// FROST key generation (messages in rounds 2 and 3) takes milliseconds:
// both its rounds run by default, round 2 left down past a short deadline,
// round 3 restarted at once. A CMP key generation (messages in rounds 2 to
// 5) costs seconds of Paillier prime generation at each party: by default
// one, killed in its last round, 5, after which ana and ben hold the new
// key's shares in memory and have only the test signature left (the case
// in which most could go wrong); rounds 2 to 4, and a CMP rerun, run with
// PARATRO_E2E_ALL_CRASHPOINTS=1. Each wallet create needs one of ben's TOTP
// codes.
func TestKeygenKilledInEachRound(t *testing.T) {
	e := setup(t)
	all := os.Getenv("PARATRO_E2E_ALL_CRASHPOINTS") != ""
	vault := e.parties["vault"]
	t.Cleanup(func() {
		vault.kill()
		if err := vault.start(); err != nil {
			t.Error(err)
		}
	})
	for i, tc := range []struct {
		scheme  string
		round   int
		down    bool // vault stays down past the deadline (else restarted at once)
		timeout time.Duration
		extra   bool // only with PARATRO_E2E_ALL_CRASHPOINTS
	}{
		{"schnorr", 2, true, 5 * time.Second, false},
		{"schnorr", 3, false, 30 * time.Second, false},
		{"ecdsa", 2, true, 60 * time.Second, true},
		{"ecdsa", 3, false, 90 * time.Second, true},
		{"ecdsa", 4, false, 90 * time.Second, true},
		{"ecdsa", 5, false, 90 * time.Second, false},
	} {
		t.Run(fmt.Sprintf("%s round %d", tc.scheme, tc.round), func(t *testing.T) {
			if tc.extra && !all {
				t.Skip("costs a CMP key generation; PARATRO_E2E_ALL_CRASHPOINTS=1 runs it")
			}
			e.healthy(t)
			name := fmt.Sprintf("round-kill-%d-%d", time.Now().Unix()%10000, i)
			keygenKilledInRound(t, e, name, tc.scheme, tc.round, tc.down, tc.timeout)
		})
	}
	reruns := []string{"schnorr"}
	if all {
		reruns = append(reruns, "ecdsa")
	}
	for _, scheme := range reruns {
		t.Run(scheme+" rerun", func(t *testing.T) {
			e.healthy(t)
			chain := map[string]string{"schnorr": "bitcoin", "ecdsa": "ethereum"}[scheme]
			r := e.cmd(e.parties["ben"].home, "wallet", "create", "--name", fmt.Sprintf("round-kill-again-%s-%d", scheme, time.Now().Unix()%10000),
				"--chain", chain, "--scheme", scheme, "--threshold", "2-of-3", "--parties", "ana,ben,vault", "--timeout", "2m", "--output", "json")
			if r.code != exitOK {
				t.Fatalf("wallet create after the kills:\n%s", r)
			}
			w := decode[createJSON](t, r)
			t.Logf("wallet create after the kills: %s in %s", w.ID, r.elapsed.Round(10*time.Millisecond))
			if scheme == "schnorr" {
				frostWallet = &w // TestRefreshKilledAtEveryStep refreshes it: one TOTP code less
			}
			for _, pair := range []string{"ana,ben", "ana,vault", "ben,vault"} {
				if scheme == "schnorr" {
					e.signSchnorr(t, w.ID, w.PublicKey, pair)
				} else {
					e.signECDSA(t, w, pair)
				}
			}
		})
	}
}

// frostWallet is a 2-of-3 FROST wallet of ana, ben and vault that signs
// with every pair (made by TestKeygenKilledInEachRound), or nil.
var frostWallet *createJSON

func keygenKilledInRound(t *testing.T, e *env, name, scheme string, round int, down bool, timeout time.Duration) {
	ana, ben, vault := e.parties["ana"], e.parties["ben"], e.parties["vault"]
	point := fmt.Sprintf("keygen:after-round-%d", round)
	vault.kill()
	vault.extraEnv = []string{"PARATRO_FAILPOINT=" + point}
	if err := vault.start(); err != nil {
		t.Fatal(err)
	}
	marks := e.marks()
	chain := map[string]string{"schnorr": "bitcoin", "ecdsa": "ethereum"}[scheme]
	run := e.begin(ben.home, "wallet", "create", "--name", name, "--chain", chain, "--scheme", scheme, "--threshold", "2-of-3",
		"--parties", "ana,ben,vault", "--timeout", timeout.String(), "--output", "json")
	st := vault.waitEvent(t, marks["vault"], 30*time.Second, "started keygen", is("started", "keygen", ""))
	diedAt(t, vault, point, timeout)
	t.Logf("vault's party killed itself at %s in keygen %.12s of %s", point, st.Ceremony, st.Wallet)
	from := vault.mark()
	if !down {
		if err := vault.start(); err != nil {
			t.Fatal(err)
		}
	}
	r := run.wait()
	t.Logf("wallet create: exit %d after %s (timeout %s); stderr:\n%s", r.code, r.elapsed.Round(10*time.Millisecond), timeout, lastLines(r.stderr, 2))
	if strings.TrimSpace(r.stdout) != "" {
		t.Errorf("a failed wallet create printed on stdout: %s", r.stdout)
	}
	if down {
		if r.code != exitTimeout {
			t.Errorf("wallet create with vault down: exit %d, want %d (timed out)\n%s", r.code, exitTimeout, r)
		}
		if !strings.Contains(r.stderr, "waiting for vault") && !strings.Contains(r.stderr, "no report from vault") {
			t.Errorf("the error does not name vault:\n%s", r.stderr)
		}
		for _, p := range []*partyProc{ana, ben} {
			if ev := p.waitEvent(t, marks[p.name], 5*time.Second, "failed keygen", is("failed", "keygen", st.Ceremony)); !strings.Contains(ev.Error, vault.fp) {
				t.Errorf("%s's party should report the keygen timed out waiting for vault (%s); got %v", p.name, vault.fp, ev)
			}
		}
		if err := vault.start(); err != nil {
			t.Fatal(err)
		}
	} else {
		if r.code != exitFailure {
			t.Errorf("wallet create with vault restarted: exit %d, want %d (failed)\n%s", r.code, exitFailure, r)
		}
		if !strings.Contains(r.stderr, "party vault restarted during the ceremony") {
			t.Errorf("the error does not say vault restarted:\n%s", r.stderr)
		}
		if r.elapsed > timeout/2 {
			t.Errorf("wallet create took %s to fail: the restarted party should have told the others at once", r.elapsed)
		}
		for _, p := range []*partyProc{ana, ben} {
			if ev := p.waitEvent(t, marks[p.name], 5*time.Second, "failed keygen", is("failed", "keygen", st.Ceremony)); !strings.Contains(ev.Error, "vault restarted") {
				t.Errorf("%s's party should report the keygen aborted because vault restarted; got %v", p.name, ev)
			}
		}
	}
	vault.waitEvent(t, from, 15*time.Second, "aborted-after-restart", is("aborted-after-restart", "keygen", st.Ceremony))

	// Nothing of the wallet anywhere: no share, active or pending, and no
	// record. The others ended the ceremony before the checks (their
	// failed events), and settle nothing later: they stored nothing.
	states := e.allShareStates(t, st.Wallet)
	for _, n := range holders {
		if s := states[n]; s != "" {
			t.Errorf("%s holds shares of %s after the keygen in which vault died: %s, want none", n, st.Wallet, s)
		}
		// No record in the home: wallet show falls back on the relay's
		// view, which must say the wallet failed.
		if w := e.cmd(e.parties[n].home, "wallet", "show", st.Wallet, "--output", "json"); w.code == exitOK {
			v := decode[struct {
				Status    string `json:"status"`
				PublicKey string `json:"public_key"`
			}](t, w)
			if v.Status != "failed" || v.PublicKey != "" {
				t.Errorf("wallet show %s at %s after the keygen in which vault died: want the relay's view, status failed, and no key:\n%s", st.Wallet, n, w.stdout)
			}
		}
	}
	// The restarted party did not resume: it reported the ceremony given
	// up and nothing else of it.
	vault.mu.Lock()
	for _, ev := range vault.events[min(from, len(vault.events)):] {
		if ev.Ceremony == st.Ceremony && ev.Event != "aborted-after-restart" {
			t.Errorf("the restarted vault reported %v of the keygen it died in", ev)
		}
	}
	vault.mu.Unlock()
}

// signECDSA signs a fresh digest with an ECDSA wallet w and signers (ben
// initiates) and checks the signature with go-ethereum (checkSignature).
func (e *env) signECDSA(t *testing.T, w createJSON, signers string) {
	t.Helper()
	d := digest()
	r := e.cmd(e.parties["ben"].home, "wallet", "sign", w.ID, "--digest", d, "--signers", signers, "--timeout", "60s", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("sign %s --signers %s:\n%s", w.ID, signers, r)
	}
	s := decode[signJSON](t, r)
	if !sameSet(s.Signers, strings.Split(signers, ",")...) {
		t.Errorf("sign printed signers %v, want %s", s.Signers, signers)
	}
	checkSignature(t, w, d, s.Signature)
	t.Logf("%s signed by %s; go-ethereum verifies it", w.ID, signers)
}
