package control

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/relay"
)

// Destroying takes two distinct owners, each with a TOTP code: the same
// owner twice is refused and audited, and changes nothing. A destroyed
// wallet refuses signing and rotation through the API and from the CLI.
func TestDestroyNeedsTwoOwners(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	if _, err := r.clients["ana"].AddOperator(t.Context(), "vault", relay.RoleOwner); err != nil {
		t.Fatal(err)
	}
	r.enroll("vault")
	id := str(r.create(frost("old")), "id")
	path := "/v1/wallets/" + id + "/destroy"

	r.call("POST", path, "ben", "", "Paratro-OTP", r.otp("ben")).refused(t, http.StatusForbidden, "forbidden", "owner role")
	r.call("POST", path, "ana", "").refused(t, http.StatusUnauthorized, "mfa_required")
	first := r.call("POST", path, "ana", "", "Paratro-OTP", r.otp("ana")).ok(t, http.StatusAccepted)
	if str(first, "status") != "destroy_pending" || first["needed"] != 2.0 || strings.Join(names(first["approvals"]), ",") != "ana" {
		t.Fatalf("first approval: %v", first)
	}
	pending := r.call("GET", "/v1/wallets/"+id, "viv", "").ok(t, http.StatusOK)
	r.call("POST", path, "ana", "", "Paratro-OTP", r.otp("ana")).refused(t, http.StatusConflict, "duplicate_approval", "another owner", "nothing changed")
	if again := r.call("GET", "/v1/wallets/"+id, "viv", "").ok(t, http.StatusOK); str(again, "status") != StatusActive ||
		len(obj(again, "destroy")["approvals"].([]any)) != 1 || str(again, "updated_at") != str(pending, "updated_at") {
		t.Fatalf("after the duplicate: %v", again)
	}
	notes := r.call("GET", "/v1/notifications", "vault", "").ok(t, http.StatusOK)["notifications"].([]any)
	if len(notes) != 1 || !strings.Contains(str(notes[0].(map[string]any), "message"), "ana approved destroying wallet "+id) {
		t.Fatalf("vault's notifications: %v", notes)
	}

	done := r.call("POST", path, "vault", "", "Paratro-OTP", r.otp("vault")).ok(t, http.StatusOK)
	if str(done, "status") != StatusDestroyed || strings.Join(names(done["approvals"]), ",") != "ana,vault" {
		t.Fatalf("second approval: %v", done)
	}
	w := r.call("GET", "/v1/wallets/"+id, "viv", "").ok(t, http.StatusOK)
	if str(w, "status") != StatusDestroyed || w["destroyed_at"] == nil {
		t.Fatalf("destroyed wallet: %v", w)
	}
	r.call("POST", "/v1/wallets/"+id+"/sign", "vault", `{"digest":"`+digestHex(3)+`"}`).refused(t, http.StatusConflict, "wallet_destroyed")
	r.call("POST", "/v1/wallets/"+id+"/rotate-keys", "ben", "", "Paratro-OTP", r.otp("ben")).refused(t, http.StatusConflict, "wallet_destroyed")
	r.call("POST", path, "ana", "", "Paratro-OTP", r.otp("ana")).refused(t, http.StatusConflict, "wallet_destroyed")

	// From the CLI: ben signs with his own identity; the relay refuses.
	req := &coord.Request{Kind: ceremony.KindSign, Scheme: ceremony.SchemeSchnorr, WalletID: id, Parties: r.walletParties(),
		Required: 2, Epoch: 1, ConfigDigest: str(w, "config_digest"), Digest: digestHex(3), Deadline: r.clock.now().Add(time.Minute)}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := coord.Initiate(ctx, r.clients["ben"], r.homes["ben"].ID, req, nil)
	var ae *relay.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.Code != "wallet_destroyed" {
		t.Fatalf("CLI sign of a destroyed wallet: %v", err)
	}

	outcomes := map[string]int{}
	for _, e := range r.auditEvents("wallet.destroy") {
		outcomes[e.Event+" "+e.Outcome]++
	}
	if outcomes[audit.EventDestroyApproved+" ok"] != 2 || outcomes[audit.EventDestroyApproved+" refused"] != 1 || outcomes[audit.EventDestroyed+" ok"] != 1 {
		t.Fatalf("audit: %v", outcomes)
	}
}

// names reads a JSON array of strings.
func names(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
