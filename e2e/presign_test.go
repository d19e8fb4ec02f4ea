//go:build unix

package e2e_test

import (
	"strings"
	"testing"
	"time"
)

// presigSignJSON is what wallet sign --output json says about presignatures.
type presigSignJSON struct {
	signJSON
	ElapsedMS         int64  `json:"elapsed_ms"`
	Presignature      string `json:"presignature"`
	PresignaturesLeft *int   `json:"presignatures_left"`
}

// presignaturesLeft is what share list --output json says the holder has
// left for the wallet.
func (e *env) presignaturesLeft(t *testing.T, name string) int {
	t.Helper()
	r := e.cmd(e.parties[name].home, "share", "list", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("share list: %s", r)
	}
	for _, row := range decode[[]struct {
		Wallet            string `json:"wallet_id"`
		State             string `json:"state"`
		PresignaturesLeft *int   `json:"presignatures_left"`
	}](t, r) {
		if row.Wallet == e.wallet.ID && row.State == "active" && row.PresignaturesLeft != nil {
			return *row.PresignaturesLeft
		}
	}
	t.Fatalf("share list shows no presignature count for %s:\n%s", e.wallet.ID, r.stdout)
	return 0
}

// waitPools waits until every holder has want presignatures left.
func (e *env) waitPools(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var got []int
		ok := true
		for _, n := range holders {
			k := e.presignaturesLeft(t, n)
			got = append(got, k)
			ok = ok && k == want
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("presignatures left (ana, ben, vault): %v, want %d each; vault's log:\n%s", got, want, e.parties["vault"].logTail())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// The presignature pool with every party a separate process: party run
// --presign 1 fills one presignature per signer set (each holder is in two
// of the three sets: share list shows 2), and wallet sign uses one in one
// round. vault then kills itself (SIGKILL) right after it marked a
// presignature used and before its signature share left: that sign fails,
// and after the restart the pool refills and the next sign with the same
// signers uses another presignature: the marked one is never used again.
func TestPresignaturePoolAcrossProcesses(t *testing.T) {
	e := setup(t)
	restart := func(args []string, failpoint string) {
		for _, n := range holders {
			p := e.parties[n]
			p.kill()
			p.args = args
			if n == "vault" && failpoint != "" {
				p.extraEnv = []string{"PARATRO_FAILPOINT=" + failpoint}
			}
			if err := p.start(); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() { restart(nil, "") })
	restart([]string{"--presign", "1"}, "")
	e.waitPools(t, 2)

	sign := func(signers string) (presigSignJSON, result) {
		t.Helper()
		d := digest()
		r := e.cmd(e.parties["ben"].home, "wallet", "sign", e.wallet.ID, "--digest", d, "--signers", signers, "--timeout", "20s", "--output", "json")
		if r.code != exitOK {
			return presigSignJSON{}, r
		}
		s := decode[presigSignJSON](t, r)
		checkSignature(t, e.wallet, d, s.Signature)
		return s, r
	}
	s, r := sign("ana,vault")
	if r.code != exitOK || s.Presignature == "" {
		t.Fatalf("sign with the pool full did not use a presignature:\n%s", r)
	}
	t.Logf("signed by ana and vault with presignature %.12s in %d ms (%s with process start); %v left", s.Presignature, s.ElapsedMS, r.elapsed.Round(time.Millisecond), *s.PresignaturesLeft)
	e.waitPools(t, 2) // refilled

	// vault dies between its durable mark and its signature share.
	restart([]string{"--presign", "1"}, "sign:after-mark")
	e.waitPools(t, 2)
	vault := e.parties["vault"]
	from := vault.mark()
	if _, r := sign("ana,vault"); r.code == exitOK {
		t.Fatalf("the sign succeeded although vault died before its signature share left:\n%s", r)
	}
	select {
	case <-vault.exit:
	case <-time.After(10 * time.Second):
		t.Fatalf("vault's party did not die at sign:after-mark; its log:\n%s", vault.logTail())
	}
	if !strings.Contains(tail(vault.logPath, 5), "failpoint sign:after-mark") {
		t.Fatalf("vault's party exited, but not at the failpoint; its log:\n%s", vault.logTail())
	}
	killed := vault.waitEvent(t, from, 5*time.Second, "started sign", is("started", "sign", ""))
	if err := vault.start(); err != nil {
		t.Fatal(err)
	}
	e.waitPools(t, 2)
	s2, r := sign("ana,vault")
	if r.code != exitOK || s2.Presignature == "" || s2.Presignature == s.Presignature {
		t.Fatalf("after the restart (killed in sign %.12s): presignature %q, before %q:\n%s", killed.Ceremony, s2.Presignature, s.Presignature, r)
	}
	t.Logf("after the kill in sign %.12s, the next sign used presignature %.12s", killed.Ceremony, s2.Presignature)
}
