//go:build unix

package e2e_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tamperPresign is TestMaliciousPartyAcrossProcesses/tamper-presign
// (SECURITY.md (c) case 12 for presign): every party runs party run
// --presign 1, vault from the adversary build adv changing the enc proof
// of its round-2 messages of every CMP presign. The presigns of the two
// signer sets with vault fail at ana and at ben naming vault, each
// keeping vault's signed round-2 envelope as evidence, and store nothing:
// ana and ben hold one presignature each (of their own set, whose presign
// completed), vault none. ana and ben stay up; with vault honest again
// and no pool running, they sign in one round with their set's
// presignature, which leaves none (as before the test, so that the tests
// after it find no presignature).
func (e *env) tamperPresign(t *testing.T, adv string) {
	t.Helper()
	ana, ben, vault := e.parties["ana"], e.parties["ben"], e.parties["vault"]
	for _, n := range holders {
		if k := e.presignaturesLeft(t, n); k != 0 {
			t.Fatalf("%s holds %d presignatures of the wallet before the test, want none (the tests before this one make none)", n, k)
		}
	}
	start := func(p *partyProc, binary string, args []string, extra ...string) {
		t.Helper()
		p.args = args
		if err := startAs(p, binary, extra...); err != nil {
			t.Error(err)
		}
	}
	restored := false
	restore := func() {
		for _, p := range []*partyProc{ana, ben, vault} {
			start(p, bin, nil)
		}
		restored = true
	}
	t.Cleanup(func() {
		if !restored {
			restore()
		}
	})
	marks := e.marks()
	began := time.Now()
	presign := []string{"--presign", "1"}
	start(ana, bin, presign)
	start(ben, bin, presign)
	start(vault, adv, presign, adversaryEnv+"=tamper:presign:round=2:field=Proof")

	failed := map[string]event{}
	for _, p := range []*partyProc{ana, ben} {
		failed[p.name] = p.waitEvent(t, marks[p.name], 90*time.Second, "a presign failed naming vault", func(ev event) bool {
			return is("failed", "presign", "")(ev) && strings.Contains(ev.Error, "(culprit: "+vault.fp+")")
		})
		p.waitEvent(t, marks[p.name], 90*time.Second, "the presign of ana and ben done", is("done", "presign", ""))
	}
	if !strings.Contains(tail(vault.logPath, 60), "paratro: adversary: cmp/presign-offline round 2: field Proof flipped") {
		t.Fatalf("vault's party did not misbehave in presign; its log:\n%s", vault.logTail())
	}
	t.Logf("presigns with vault failed at ana (%.12s) and ben (%.12s), ana and ben's done, %s after the start", failed["ana"].Ceremony,
		failed["ben"].Ceremony, time.Since(began).Round(10*time.Millisecond))
	if failed["ana"].Ceremony == failed["ben"].Ceremony {
		t.Fatalf("ana and ben report the same failed presign %.12s: they share no signer set with vault", failed["ana"].Ceremony)
	}
	for name, want := range map[string]int{"ana": 1, "ben": 1, "vault": 0} {
		if got := e.presignaturesLeft(t, name); got != want {
			t.Errorf("%s holds %d presignatures, want %d: only ana and ben's presign completed", name, got, want)
		}
	}
	if !ana.running() || !ben.running() {
		t.Fatalf("an honest party died: ana running %v, ben running %v", ana.running(), ben.running())
	}
	for _, p := range []*partyProc{ana, ben} {
		checkAuditBlames(t, filepath.Join(p.home, "audit.log"), failed[p.name].Ceremony, vault.fp)
		e.checkEvidence(t, p, failed[p.name].Ceremony, vault, 2)
	}

	restore()
	s := presigSign(t, e, "ana,ben")
	if s.Presignature == "" || s.PresignaturesLeft == nil || *s.PresignaturesLeft != 0 {
		t.Errorf("the sign by ana and ben used presignature %q, %v left; want theirs, none left", s.Presignature, s.PresignaturesLeft)
	}
	for _, name := range []string{"ana", "ben"} {
		if got := e.presignaturesLeft(t, name); got != 0 {
			t.Errorf("%s holds %d presignatures after the sign, want none", name, got)
		}
	}
}
