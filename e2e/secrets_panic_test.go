//go:build unix

package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// inducedPanics is release case 32's induced panic: vault's party is
// restarted with PARATRO_FAILPOINT=panic:<point> (package failpoint),
// GOTRACEBACK=all (every goroutine's stack, not only the panicking one's)
// and PARATRO_DEBUG=1, and ben starts a ceremony that reaches the point
// while secrets are live in vault's memory:
//
//   - keygen:before-test in a FROST wallet create: vault's new share exists,
//     nothing is stored;
//   - sign:after-send in a CMP sign without presignature: vault's share,
//     Paillier key and its nonces are in use, its first message has left.
//
// What the user sees, asserted: vault's party dies with the Go runtime's
// exit status 2 and a traceback starting "panic: failpoint <point>: induced
// panic" on stderr (a ceremony's goroutine does not recover); restarted
// without the failpoint, it gives the ceremony up ("aborted-after-restart")
// and tells the others, so ben's command fails with a paratro error (no
// panic or traceback of its own) well before its deadline, ana's party
// reports the ceremony failed, and no holder's shares changed (no wallet
// made, nothing pending). The traceback and vault's log join the goroutine
// dumps searched for every secret, machine words of numbers included.
func (h *hygiene) inducedPanics() {
	t, e := h.t, h.e
	t.Helper()
	ben := e.parties["ben"].home
	vault, ana := e.parties["vault"], e.parties["ana"]
	for _, c := range []struct {
		point, kind string
		args        []string
	}{
		{"keygen:before-test", "keygen", []string{"wallet", "create", "--name", "hygiene-panic", "--chain", "bitcoin", "--scheme", "schnorr",
			"--threshold", "2-of-3", "--parties", "ana,ben,vault", "--timeout", "1m", "--output", "json"}},
		{"sign:after-send", "sign", []string{"wallet", "sign", e.wallet.ID, "--digest", digest(), "--signers", "ana,vault", "--no-presignature",
			"--timeout", "1m", "--output", "json"}},
	} {
		began := time.Now()
		before := h.shareRows()
		vault.kill()
		logStart := fileSize(vault.logPath)
		vault.extraEnv = []string{"PARATRO_FAILPOINT=panic:" + c.point, "GOTRACEBACK=all", "PARATRO_DEBUG=1"}
		vfrom, afrom := vault.mark(), ana.mark()
		if err := vault.start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan result, 1)
		go func() { done <- h.run(ben, nil, c.args...) }()
		select {
		case <-vault.exit:
		case <-time.After(90 * time.Second):
			t.Fatalf("vault's party did not die at panic:%s; its log:\n%s", c.point, vault.logTail())
		}
		status := vault.cmd.ProcessState.ExitCode()
		out := readFrom(t, vault.logPath, logStart)
		h.mu.Lock()
		h.dumps = append(h.dumps, namedText{fmt.Sprintf("vault's party's output with a panic at %s", c.point), out})
		h.mu.Unlock()
		started := vault.waitEvent(t, vfrom, 5*time.Second, "started "+c.kind, is("started", c.kind, ""))
		if status != 2 || !strings.Contains(out, "panic: failpoint "+c.point+": induced panic") || !strings.Contains(out, "goroutine ") {
			t.Errorf("vault's party at panic:%s: exit status %d, want 2 and a traceback of the failpoint's panic; its output:\n%s", c.point, status, lastLines(out, 30))
		}
		if err := vault.start(); err != nil {
			t.Fatal(err)
		}
		waitUp(t, vault)
		vault.waitEvent(t, vfrom, 30*time.Second, "aborted-after-restart", func(ev event) bool {
			return ev.Event == "aborted-after-restart" && ev.Ceremony == started.Ceremony
		})
		r := <-done
		if r.code == exitOK || strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") || !strings.Contains(r.stderr, "\nparatro: error: ") {
			t.Errorf("ben's %s with vault panicking: want a paratro error:\n%s", c.kind, r)
		}
		if r.elapsed > 45*time.Second {
			t.Errorf("ben's %s with vault panicking ended after %s: not told, it waited for its deadline", c.kind, r.elapsed.Round(time.Second))
		}
		ana.waitEvent(t, afrom, 30*time.Second, "ana's "+c.kind+" failed", is("failed", c.kind, started.Ceremony))
		if after := h.shareRows(); !slices.Equal(after, before) {
			t.Errorf("the shares changed in a %s that failed with vault's panic:\nbefore %v\nafter  %v", c.kind, before, after)
		}
		t.Logf("induced panic at %s in %s %.12s: vault exited %d; ben's %s failed with exit %d after %s (%s in all)", c.point, c.kind,
			started.Ceremony, status, strings.Join(c.args[:2], " "), r.code, r.elapsed.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	}
}

// waitUp waits until p's party, just started, says it disabled core dumps
// (so it is past Main's start: its secret variables are blanked, its
// limits set).
func waitUp(t *testing.T, p *partyProc) {
	t.Helper()
	p.mu.Lock()
	marker := fmt.Sprintf("--- e2e: start %d of %s's party\n", p.starts, p.name)
	p.mu.Unlock()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(p.logPath)
		if i := strings.LastIndex(string(b), marker); i >= 0 && strings.Contains(string(b[i:]), "core dumps off") {
			return
		}
		if !p.running() || time.Now().After(deadline) {
			t.Fatalf("%s's party did not start; its log:\n%s", p.name, p.logTail())
		}
	}
}

// shareRows are every holder's shares as share list --output json shows
// them: holder, wallet, state and epoch, sorted.
func (h *hygiene) shareRows() []string {
	t := h.t
	t.Helper()
	var out []string
	for _, n := range holders {
		r := h.run(h.e.parties[n].home, nil, "share", "list", "--output", "json")
		var rows []struct {
			Wallet string `json:"wallet_id"`
			State  string `json:"state"`
			Epoch  uint64 `json:"epoch"`
		}
		if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &rows) != nil {
			t.Fatalf("share list:\n%s", r)
		}
		for _, row := range rows {
			out = append(out, fmt.Sprintf("%s %s %s epoch %d", n, row.Wallet, row.State, row.Epoch))
		}
	}
	slices.Sort(out)
	return out
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// readFrom is the file from offset on.
func readFrom(t interface{ Fatal(...any) }, path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
