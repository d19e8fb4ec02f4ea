package control

import (
	"net/http"
	"testing"
)

// Who may call what: no key, a wrong key or a revoked one is 401; a role
// below the call's is 403; nothing changes either way.
func TestAPIKeysAndRoles(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	id := str(r.create(frost("roles")), "id")
	before := r.wallets()
	body := frost("another")

	r.call("POST", "/v1/wallets", "", body).refused(t, http.StatusUnauthorized, "unauthenticated", "Authorization: Bearer")
	r.call("POST", "/v1/wallets", "", body, "Authorization", "Bearer prt_aaaaaaaaaaaaaaaa_"+
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb").refused(t, http.StatusUnauthorized, "invalid_api_key", "paratro apikey create")
	r.call("POST", "/v1/wallets", "", body, "Authorization", "Basic YWRtaW46YWRtaW4=").refused(t, http.StatusUnauthorized, "unauthenticated", "Bearer")
	keys, err := r.clients["ben"].APIKeys(t.Context())
	if err != nil || len(keys) != 1 {
		t.Fatalf("ben's keys: %v, %v", keys, err)
	}
	if _, err := r.clients["ben"].RevokeAPIKey(t.Context(), keys[0].ID); err != nil {
		t.Fatal(err)
	}
	r.call("POST", "/v1/wallets", "ben", body).refused(t, http.StatusUnauthorized, "api_key_revoked", "make a new one")
	r.call("GET", "/v1/wallets", "ben", "").refused(t, http.StatusUnauthorized, "api_key_revoked")

	r.call("POST", "/v1/wallets", "viv", body).refused(t, http.StatusForbidden, "forbidden", "needs the admin role", "viv is viewer")
	r.call("POST", "/v1/wallets", "vault", body).refused(t, http.StatusForbidden, "forbidden", "admin role")
	r.call("POST", "/v1/wallets/"+id+"/rotate-keys", "vault", "").refused(t, http.StatusForbidden, "forbidden", "admin role")
	// An admin may not export backups or destroy; only owners may.
	r.enroll("vault")
	if _, err := r.clients["ana"].AddOperator(t.Context(), "vault", "admin"); err != nil {
		t.Fatal(err)
	}
	r.call("POST", "/v1/wallets/"+id+"/backup-exports", "vault", "", "Paratro-OTP", r.otp("vault")).refused(t, http.StatusForbidden, "forbidden", "owner role")
	r.call("GET", "/v1/backup-exports", "vault", "").refused(t, http.StatusForbidden, "forbidden", "owner role")
	r.call("POST", "/v1/wallets/"+id+"/destroy", "vault", "", "Paratro-OTP", r.otp("vault")).refused(t, http.StatusForbidden, "forbidden", "owner role")
	if after := r.wallets(); after != before {
		t.Fatalf("wallets changed: %s, was %s", after, before)
	}
	if n := len(r.auditEvents("auth.refused")); n < 9 {
		t.Fatalf("%d refusals audited", n)
	}
}
