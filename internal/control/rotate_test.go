package control

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/coord"
)

// rotate-keys with a code in the Paratro-OTP header starts at once; while
// it runs a second one is refused (busy); after it the epoch is one more
// and the key the same.
func TestRotateWithCode(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	vault := func(ctx context.Context, p *coord.Proposal) (coord.Decision, error) {
		if p.Request.Kind == ceremony.KindRefresh {
			select { // hold the refresh until the test has seen it running
			case <-gate:
			case <-ctx.Done():
				return coord.Decision{}, ctx.Err()
			}
		}
		return coord.Decision{Approve: true}, nil
	}
	r := newRig(t, rigOptions{decide: map[string]coord.Decider{"vault": vault}})
	w := r.create(frost("hot"))
	id := str(w, "id")
	started := r.call("POST", "/v1/wallets/"+id+"/rotate-keys", "ben", "", "Paratro-OTP", r.otp("ben")).ok(t, http.StatusAccepted)
	if str(obj(started, "wallet"), "status") != StatusRotating || str(obj(started, "rotation"), "status") != RotationRunning {
		t.Fatalf("started: %v", started)
	}
	r.call("POST", "/v1/wallets/"+id+"/rotate-keys", "ben", "", "Paratro-OTP", r.otp("ben")).refused(t, http.StatusConflict, "busy", "rotating its keys")
	r.call("POST", "/v1/wallets/"+id+"/sign", "vault", `{"digest":"`+digestHex(1)+`"}`).refused(t, http.StatusConflict, "busy")
	close(gate)
	after := r.waitWallet(id, StatusActive)
	if after["epoch"] != 2.0 || str(after, "public_key") != str(w, "public_key") || str(obj(after, "rotation"), "status") != RotationDone ||
		obj(after, "rotation")["to_epoch"] != 2.0 {
		t.Fatalf("after: %v", after)
	}
	if rotated := r.auditEvents(audit.EventRotated); len(rotated) != 1 || rotated[0].Outcome != "ok" {
		t.Fatalf("audit: %+v", rotated)
	}
}

// The TOTP rules on rotate-keys: a code is used once, a code two steps
// old is refused, and wrong codes in a row lock the operator out (even a
// right code is then refused), all audited; nothing changes meanwhile.
func TestRotateTOTPRules(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	id := str(r.create(frost("otp")), "id")
	rotate := func(code string) response {
		return r.call("POST", "/v1/wallets/"+id+"/rotate-keys", "ben", "", "Paratro-OTP", code)
	}
	code := r.otp("ben")
	rotate(code).ok(t, http.StatusAccepted)
	w := r.waitWallet(id, StatusActive)
	rotate(code).refused(t, http.StatusUnauthorized, "mfa_reused", "already used")
	rotate(r.codeAt("ben", r.clock.now().Add(-60*time.Second))).refused(t, http.StatusUnauthorized, "mfa_invalid", "rejected")

	// Six wrong codes in a row from ana (an owner may rotate too): the
	// fifth starts the lockout, which refuses even a right code.
	wrong := r.codeAt("ana", r.clock.now().Add(10*time.Minute))
	as := func(code string) response {
		return r.call("POST", "/v1/wallets/"+id+"/rotate-keys", "ana", "", "Paratro-OTP", code)
	}
	for i := 1; i <= 4; i++ {
		as(wrong).refused(t, http.StatusUnauthorized, "mfa_invalid", fmt.Sprintf("%d of 5 attempts left", 5-i))
	}
	as(wrong).refused(t, http.StatusForbidden, "mfa_locked", "locked out", "ask an owner")
	as(wrong).refused(t, http.StatusForbidden, "mfa_locked")
	as(r.otp("ana")).refused(t, http.StatusForbidden, "mfa_locked")
	if st, err := r.clients["ana"].MFAStatus(t.Context()); err != nil || st.LockedUntil == nil {
		t.Fatalf("ana's MFA status: %+v, %v", st, err)
	}
	if now := r.waitWallet(id, StatusActive); now["epoch"] != w["epoch"] || str(obj(now, "rotation"), "id") != str(obj(w, "rotation"), "id") {
		t.Fatalf("the wallet changed: %v, was %v", now, w)
	}
	if n := len(r.auditEvents(audit.EventMFAReused)); n != 1 {
		t.Fatalf("%d reuses audited", n)
	}
	if n := len(r.auditEvents(audit.EventMFALockedOut)); n != 3 {
		t.Fatalf("%d lockouts audited", n)
	}
}

// An action waits for the code of the operator who asked, once, for ten
// minutes; others cannot see or confirm it, and an operator without TOTP
// is told to enrol instead of getting an action.
func TestRotateActionConfirmation(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	id := str(r.create(frost("act")), "id")
	ask := func() string {
		return str(obj(r.call("POST", "/v1/wallets/"+id+"/rotate-keys", "ben", "").ok(t, http.StatusAccepted), "action"), "id")
	}
	act := ask()
	confirm := "/v1/actions/" + act + "/confirm"
	r.call("POST", confirm, "ana", `{"otp":"`+r.otp("ana")+`"}`).refused(t, http.StatusNotFound, "not_found", "operator who asked")
	r.call("POST", confirm, "ben", `{}`).refused(t, http.StatusUnauthorized, "mfa_required", "Paratro-OTP")
	r.call("POST", confirm, "ben", `{"otp":"12345x"}`).refused(t, http.StatusUnauthorized, "mfa_invalid")
	r.call("POST", confirm, "ben", `{"code":"123456"}`).refused(t, http.StatusBadRequest, "bad_request", `unknown field "code"`)
	if w := r.waitWallet(id, StatusActive); w["epoch"] != 1.0 {
		t.Fatalf("rotated before the code: %v", w)
	}
	r.call("POST", confirm, "ben", "", "Paratro-OTP", r.otp("ben")).ok(t, http.StatusAccepted)
	r.call("POST", confirm, "ben", `{"otp":"`+r.otp("ben")+`"}`).refused(t, http.StatusConflict, "action_done")
	if w := r.waitWallet(id, StatusActive); w["epoch"] != 2.0 {
		t.Fatalf("after confirming: %v", w)
	}

	late := ask()
	r.clock.advance(ActionTTL + time.Second)
	if a := r.call("GET", "/v1/actions/"+late, "ben", "").ok(t, http.StatusOK); str(a, "status") != "expired" {
		t.Fatalf("action: %v", a)
	}
	r.call("POST", "/v1/actions/"+late+"/confirm", "ben", `{"otp":"`+r.otp("ben")+`"}`).refused(t, http.StatusGone, "action_expired", "ask again")

	// vault is an operator, not an admin; promoted, it has no TOTP yet.
	r.call("POST", "/v1/wallets/"+id+"/rotate-keys", "vault", "").refused(t, http.StatusForbidden, "forbidden", "admin")
	if _, err := r.clients["ana"].AddOperator(t.Context(), "vault", "admin"); err != nil {
		t.Fatal(err)
	}
	r.call("POST", "/v1/wallets/"+id+"/rotate-keys", "vault", "").refused(t, http.StatusForbidden, "mfa_not_enrolled", "paratro mfa enroll")
}
