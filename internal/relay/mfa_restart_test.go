package relay

import (
	"net/http"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/identity"
)

// totpRig is a control relay with ana (owner) and ben (admin), both
// enrolled in TOTP, that the test restarts.
type totpRig struct {
	*controlRelay
	ana, ben             party
	anaSecret, benSecret string
}

func newTOTPRig(t *testing.T) *totpRig {
	r := &totpRig{controlRelay: startControlRelay(t)}
	r.ana, r.ben = r.join(t, "ana"), r.join(t, "ben")
	r.admit(t, r.ana.id.Public)
	r.admit(t, r.ben.id.Public)
	r.anaSecret, r.benSecret = r.enroll(t, r.ana), r.enroll(t, r.ben)
	return r
}

// restart restarts the relay on its data directory (store closed and
// reopened) and gives ana and ben clients of the new server.
func (r *totpRig) restart(t *testing.T) {
	t.Helper()
	r.testRelay.restart(t, r.cfg)
	for _, p := range []*party{&r.ana, &r.ben} {
		c, err := NewClient(r.hs.URL, p.id, ClientOptions{Now: r.clk.now})
		if err != nil {
			t.Fatal(err)
		}
		p.c = c
	}
}

// rotate asks to start a refresh (rotate-keys) of a wallet as p with code,
// which needs a TOTP code.
func (r *totpRig) rotate(t *testing.T, p party, code string) error {
	t.Helper()
	other := r.ana
	if p.fp() == r.ana.fp() {
		other = r.ben
	}
	req := []byte(`{"type":"request","signer":"` + p.fp() + `","body":{"kind":"refresh","wallet_id":"wal_x"}}`)
	p.c.SetOTP(code)
	return p.c.CreateCeremony(ctx(t), CreateCeremony{ID: newCeremonyID(), Members: []identity.Public{other.id.Public},
		Request: req, Deadline: r.clk.now().Add(time.Hour)})
}

// audited counts the audit entries of event whose actor is p.
func (r *totpRig) audited(t *testing.T, event string, p party) int {
	t.Helper()
	n := 0
	for _, e := range r.events(t, event) {
		if e.Actor == p.id.Label() {
			n++
		}
	}
	return n
}

// SECURITY.md case 36: a TOTP code is usable once within its window, and
// the relay remembers that across a restart: the same code, sent again to
// the restarted relay, in its own step and in the next (one step of skew),
// is refused as reused and audited.
func TestATOTPCodeIsNotAcceptedAgainAfterARelayRestart(t *testing.T) {
	r := newTOTPRig(t)
	code := r.code(t, r.benSecret, 0)
	if err := r.rotate(t, r.ben, code); err != nil {
		t.Fatalf("the first use of the code: %v", err)
	}
	r.restart(t)
	apiErr(t, r.rotate(t, r.ben, code), http.StatusUnauthorized, "mfa_reused")
	r.clk.advance(30 * time.Second) // the code's step is now the previous one, still in the window
	apiErr(t, r.rotate(t, r.ben, code), http.StatusUnauthorized, "mfa_reused")
	if n := r.audited(t, audit.EventMFAReused, r.ben); n != 2 {
		t.Fatalf("%d reuses audited, want 2", n)
	}
	// The restarted relay still takes a fresh code, of ben's and of ana's.
	if err := r.rotate(t, r.ben, r.code(t, r.benSecret, 0)); err != nil {
		t.Fatalf("ben's next code: %v", err)
	}
	if err := r.rotate(t, r.ana, r.code(t, r.anaSecret, 0)); err != nil {
		t.Fatalf("ana's code: %v", err)
	}
}

// SECURITY.md case 37: wrong codes lock an operator out (five by default),
// counted across restarts; the lockout survives a restart, refuses the
// right code while it lasts (audited), is the operator's alone, and ends
// after MFALockout (15 minutes by default).
func TestATOTPLockoutSurvivesARelayRestart(t *testing.T) {
	r := newTOTPRig(t)
	wrong := r.code(t, r.benSecret, 5) // a code of another time: wrong now
	for i := 1; i <= 3; i++ {
		apiErr(t, r.rotate(t, r.ben, wrong), http.StatusUnauthorized, "mfa_invalid")
	}
	r.restart(t) // the three failures are remembered
	apiErr(t, r.rotate(t, r.ben, wrong), http.StatusUnauthorized, "mfa_invalid")
	apiErr(t, r.rotate(t, r.ben, wrong), http.StatusForbidden, "mfa_locked")
	r.restart(t)
	locked := r.audited(t, audit.EventMFALockedOut, r.ben)
	apiErr(t, r.rotate(t, r.ben, r.code(t, r.benSecret, 0)), http.StatusForbidden, "mfa_locked")
	if n := r.audited(t, audit.EventMFALockedOut, r.ben); n != locked+1 {
		t.Fatalf("the refused right code was not audited as a lockout: %d, was %d", n, locked)
	}
	st, err := r.ben.c.MFAStatus(ctx(t))
	if err != nil || st.LockedUntil == nil {
		t.Fatalf("status after the restart = %+v, %v", st, err)
	}
	if err := r.rotate(t, r.ana, r.code(t, r.anaSecret, 0)); err != nil {
		t.Fatalf("ana is not locked out by ben's failures: %v", err)
	}
	r.clk.advance(14 * time.Minute)
	apiErr(t, r.rotate(t, r.ben, r.code(t, r.benSecret, 0)), http.StatusForbidden, "mfa_locked")
	r.clk.advance(2 * time.Minute)
	r.restart(t)
	if err := r.rotate(t, r.ben, r.code(t, r.benSecret, 0)); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	if n := r.audited(t, audit.EventMFAFailed, r.ben); n != 4 {
		t.Errorf("%d wrong codes audited, want 4 (the fifth locked)", n)
	}
}
