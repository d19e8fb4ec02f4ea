//go:build unix

package e2e_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
)

// checkEvidence checks that holder's audit log keeps, with its failed
// outcome of ceremony cid, culprit's signed envelopes as evidence
// (SECURITY.md (c) case 12): each file is beside the log (0600, in a 0700
// directory) with the SHA-256 the entry names; its signature verifies
// with culprit's public identity (identity.json of culprit's home, what
// culprit shares with identity show) and not with holder's; it is bound
// to cid, sent by culprit, to holder or to everyone; and one of them is a
// protocol message of the given round. (That the envelope kept carries
// the changed message is TestMisbehaviourKeepsTheCulpritsSignedEnvelope's,
// internal/coord.)
func (e *env) checkEvidence(t *testing.T, holder *partyProc, cid string, culprit *partyProc, round int) {
	t.Helper()
	logPath := filepath.Join(holder.home, "audit.log")
	entries, err := audit.ReadAll(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var evs []audit.Evidence
	for _, a := range entries {
		if a.Event == audit.EventOutcome && a.Ceremony == cid {
			evs = a.Evidence
		}
	}
	if len(evs) == 0 {
		t.Fatalf("%s's audit log keeps no evidence with its outcome of ceremony %.12s", holder.name, cid)
	}
	self, err1 := identity.LoadPublic(holder.home)
	them, err2 := identity.LoadPublic(culprit.home)
	if err1 != nil || err2 != nil {
		t.Fatalf("public identities: %v, %v", err1, err2)
	}
	byCulprit := func(fp string) (identity.Public, bool) { return them, fp == culprit.fp }
	ofRound := false
	for _, ev := range evs {
		raw, err := audit.ReadEvidence(logPath, ev)
		if err != nil {
			t.Fatal(err)
		}
		h, err := envelope.Inspect(raw, byCulprit)
		if err != nil || h.From != culprit.fp || h.Ceremony != cid || h.Round != ev.Round {
			t.Fatalf("%s's evidence %+v: header %+v, %v; want an envelope %s signed for ceremony %.12s", holder.name, ev, h, err, culprit.name, cid)
		}
		if _, err := envelope.Inspect(raw, func(string) (identity.Public, bool) { return self, true }); !errors.Is(err, envelope.ErrUnauthenticated) {
			t.Errorf("%s's evidence %.12s verifies with %s's own key too: %v", holder.name, ev.SHA256, holder.name, err)
		}
		if h.To != ev.To || h.To != "" && h.To != holder.fp {
			t.Errorf("%s's evidence %+v is addressed to %q", holder.name, ev, h.To)
		}
		ofRound = ofRound || h.Round == round && h.Type == uint8(ceremony.TypeProtocol)
		for _, p := range []string{filepath.Join(holder.home, audit.EvidenceDir), filepath.Join(holder.home, ev.File)} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]os.FileMode{true: 0o700, false: 0o600}[fi.IsDir()]; fi.Mode().Perm() != want {
				t.Errorf("%s has mode %v, want %v", p, fi.Mode().Perm(), want)
			}
		}
	}
	if !ofRound {
		t.Errorf("none of %s's %d kept envelopes of %s is of round %d: %+v", holder.name, len(evs), culprit.name, round, evs)
	}
	t.Logf("%s kept %d envelopes %s signed in ceremony %.12s; each verifies with %s's public identity", holder.name, len(evs), culprit.name, cid, culprit.name)
}
