//go:build unix

package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Refresh with a test signature, killed at every step: vault's party is
// started with PARATRO_FAILPOINT, so that it kills itself (SIGKILL, as a
// power cut would) at one exact step of a rotate-keys, and is restarted.
// Whatever the step, afterwards every holder is on the same epoch (all old
// shares or all new ones), nothing is left pending, and the wallet signs
// with the restarted party in either pair.
//
//   - before-test: the refresh's protocol is done, the test signature with
//     the new shares has not started: nobody stored or confirmed anything,
//     all keep the old shares (at once: vault tells the others it gave up).
//   - after-test: vault's test signature verified and it stored its new
//     share, but died before confirming it; ana and ben confirmed theirs.
//     Nobody can hold every confirmation, so after the deadline every
//     party, vault included, discards the new share: all old.
//   - before-commit: every confirmation is in, vault died before making its
//     new share active; ana and ben switched. After the deadline vault finds
//     all confirmations, its own included, in the relay's mailbox and
//     switches too: all new.
func TestRefreshKilledAtEveryStep(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		point   string
		advance bool // the new shares become active
	}{
		{"refresh:before-test", false},
		{"refresh:after-test", false},
		{"refresh:before-commit", true},
	} {
		t.Run(tc.point, func(t *testing.T) {
			e.healthy(t)
			refreshKilledAt(t, e, tc.point, tc.advance)
		})
	}
}

func refreshKilledAt(t *testing.T, e *env, point string, advance bool) {
	vault := e.parties["vault"]
	n := e.epoch(t)
	vault.kill()
	vault.extraEnv = []string{"PARATRO_FAILPOINT=" + point}
	if err := vault.start(); err != nil {
		t.Fatal(err)
	}
	marks := e.marks()
	const timeout = 40 * time.Second
	run := e.begin(e.parties["ben"].home, "rotate-keys", e.wallet.ID, "--timeout", timeout.String(), "--output", "json")
	st := vault.waitEvent(t, marks["vault"], 30*time.Second, "started refresh", is("started", "refresh", ""))
	select {
	case <-vault.exit:
	case <-time.After(timeout):
		run.wait()
		t.Fatalf("vault's party did not die at %s; its log:\n%s", point, vault.logTail())
	}
	if !strings.Contains(tail(vault.logPath, 5), "failpoint "+point) {
		t.Fatalf("vault's party exited, but not at the failpoint; its log:\n%s", vault.logTail())
	}
	t.Logf("vault's party killed itself at %s in refresh %.12s", point, st.Ceremony)
	from := vault.mark()
	if err := vault.start(); err != nil {
		t.Fatal(err)
	}
	r := run.wait()
	t.Logf("rotate-keys: exit %d after %s; stderr:\n%s", r.code, r.elapsed.Round(10*time.Millisecond), r.stderr)
	if r.code == exitOK {
		t.Errorf("rotate-keys reported success although vault died at %s:\n%s", point, r)
	}
	vault.waitEvent(t, from, 15*time.Second, "aborted-after-restart", is("aborted-after-restart", "refresh", st.Ceremony))

	// The parties holding a pending share settle it after the deadline.
	if point != "refresh:before-test" {
		settlers := []string{"vault"}
		if point == "refresh:after-test" {
			settlers = append(settlers, "ana", "ben")
		}
		for _, name := range settlers {
			ev := e.parties[name].waitEvent(t, marks[name], timeout+60*time.Second, "settled", is("settled", "refresh", st.Ceremony))
			t.Logf("%s: %s", name, ev.Detail)
		}
	}
	want := n
	if advance {
		want = n + 1
	}
	for name, ep := range e.epochs(t) {
		if ep != want {
			t.Errorf("after a refresh killed at %s, %s holds epoch %d, want %d", point, name, ep, want)
		}
	}
	for _, name := range holders {
		if states := shareStates(t, e, name); states != fmt.Sprintf("%d:active", want) {
			t.Errorf("%s's shares of the wallet: %s, want only epoch %d active", name, states, want)
		}
	}
	e.sign(t, "ana,vault")
	e.sign(t, "ben,vault")
}

// shareStates lists the states of a holder's shares of the harness's
// wallet: "2:active", "2:active 3:pending".
func shareStates(t *testing.T, e *env, name string) string {
	t.Helper()
	return walletShareStates(t, e, name, e.wallet.ID)
}
