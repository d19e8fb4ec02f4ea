package relay

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/identity"
)

// clock is a settable clock shared by a relay and its clients.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// controlRelay is a relay with an audit log and a settable clock, and
// clients that sign with that clock.
type controlRelay struct {
	*testRelay
	clk   *clock
	audit string
	cfg   Config // the relay's configuration, to restart it with
}

func startControlRelay(t *testing.T) *controlRelay {
	t.Helper()
	clk := &clock{}
	path := filepath.Join(t.TempDir(), "audit.log")
	log, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	cfg := Config{Audit: log, Now: clk.now}
	r := startRelay(t, cfg)
	return &controlRelay{testRelay: r, clk: clk, audit: path, cfg: cfg}
}

// join registers a new identity without admitting it.
func (r *controlRelay) join(t *testing.T, name string) party {
	t.Helper()
	id := newIdentity(t, name)
	c, err := NewClient(r.hs.URL, id, ClientOptions{Now: r.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(ctx(t)); err != nil {
		t.Fatal(err)
	}
	return party{id, c}
}

// enroll enrols p in TOTP and returns the secret; the enrolment is
// confirmed with the current code, and the clock moves on one step.
func (r *controlRelay) enroll(t *testing.T, p party) string {
	t.Helper()
	en, err := p.c.MFAEnroll(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	p.c.SetOTP(r.code(t, en.Secret, 0))
	if _, err := p.c.MFAConfirm(ctx(t)); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(30 * time.Second)
	return en.Secret
}

// code is the TOTP code of secret, steps time steps from the relay's now.
func (r *controlRelay) code(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, r.clk.now().Add(time.Duration(steps)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// bearer sends an API-key request as curl would.
func (r *controlRelay) bearer(t *testing.T, key, method, path, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, r.hs.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	return send(t, req)
}

func (r *controlRelay) events(t *testing.T, event string) []audit.Entry {
	t.Helper()
	all, err := audit.ReadAll(r.audit)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range all {
		if e.Event == event {
			out = append(out, e)
		}
	}
	return out
}

func TestBootstrapMakesTheFirstOwnerOnce(t *testing.T) {
	r := startControlRelay(t)
	ana, ben := r.join(t, "ana"), r.join(t, "ben")
	_, err := ana.c.Operators(ctx(t))
	apiErr(t, err, http.StatusForbidden, "no_owner")
	err = ana.c.CreateCeremony(ctx(t), CreateCeremony{ID: newCeremonyID(), Members: []identity.Public{ben.id.Public},
		Request: requestStatement(ana.fp()), Deadline: time.Now().Add(time.Hour)})
	apiErr(t, err, http.StatusForbidden, "no_owner")

	if err := WriteBootstrap(r.dir, ana.id.Public); err != nil {
		t.Fatal(err)
	}
	r.srv.consumeBootstrap(r.dir)
	if _, err := os.Stat(filepath.Join(r.dir, BootstrapFile)); !os.IsNotExist(err) {
		t.Fatalf("bootstrap file left behind: %v", err)
	}
	ops, err := ana.c.Operators(ctx(t))
	if err != nil || len(ops) != 1 || ops[0].Role != RoleOwner || ops[0].Fingerprint != ana.fp() {
		t.Fatalf("operators = %+v, %v", ops, err)
	}

	// A second bootstrap (say, by someone who got at the host later) is refused.
	if err := WriteBootstrap(r.dir, ben.id.Public); err != nil {
		t.Fatal(err)
	}
	r.srv.consumeBootstrap(r.dir)
	if _, err := os.Stat(filepath.Join(r.dir, BootstrapFile+RefusedSuffix)); err != nil {
		t.Fatalf("second bootstrap not marked refused: %v", err)
	}
	_, err = ben.c.Operators(ctx(t))
	apiErr(t, err, http.StatusForbidden, "not_admitted")
	if got := r.events(t, audit.EventBootstrap); len(got) != 2 || got[0].Outcome != "ok" || got[1].Outcome != "refused" {
		t.Fatalf("bootstrap audit = %+v", got)
	}
}

func TestOwnersManageOperators(t *testing.T) {
	r := startControlRelay(t)
	ana, ben, cat := r.join(t, "ana"), r.join(t, "ben"), r.join(t, "cat")
	r.admit(t, ana.id.Public) // owner
	if _, err := ana.c.AddOperator(ctx(t), "ben", RoleAdmin); err != nil {
		t.Fatal(err)
	}
	t.Run("an admin cannot admit anyone", func(t *testing.T) {
		_, err := ben.c.AddOperator(ctx(t), "cat", RoleViewer)
		ae := apiErr(t, err, http.StatusForbidden, "forbidden")
		if !strings.Contains(ae.Message, "needs the owner role; ben is admin") {
			t.Errorf("message = %q", ae.Message)
		}
	})
	t.Run("an unknown role is refused", func(t *testing.T) {
		_, err := ana.c.AddOperator(ctx(t), "cat", Role("root"))
		apiErr(t, err, http.StatusBadRequest, "bad_role")
	})
	t.Run("the last owner stays", func(t *testing.T) {
		_, err := ana.c.RemoveOperator(ctx(t), "ana")
		apiErr(t, err, http.StatusConflict, "last_owner")
		_, err = ana.c.AddOperator(ctx(t), "ana", RoleAdmin)
		apiErr(t, err, http.StatusConflict, "last_owner")
	})
	t.Run("a removed operator's API key stops working", func(t *testing.T) {
		if _, err := ana.c.AddOperator(ctx(t), "cat", RoleViewer); err != nil {
			t.Fatal(err)
		}
		k, err := cat.c.CreateAPIKey(ctx(t), "cat's laptop")
		if err != nil {
			t.Fatal(err)
		}
		if resp := r.bearer(t, k.Key, "GET", "/v1/operators", ""); resp.status != http.StatusOK {
			t.Fatalf("key before removal: %d %s", resp.status, resp.raw)
		}
		if _, err := ana.c.RemoveOperator(ctx(t), "cat"); err != nil {
			t.Fatal(err)
		}
		if resp := r.bearer(t, k.Key, "GET", "/v1/operators", ""); resp.status != http.StatusUnauthorized || resp.body.Error != "invalid_api_key" {
			t.Fatalf("key after removal: %d %s", resp.status, resp.raw)
		}
	})
	if n := len(r.events(t, audit.EventOperatorAdded)); n != 2 {
		t.Errorf("%d operator.added entries, want 2", n)
	}
}

func TestAPIKeys(t *testing.T) {
	r := startControlRelay(t)
	ana := r.join(t, "ana")
	r.admit(t, ana.id.Public)
	k, err := ana.c.CreateAPIKey(ctx(t), "ci")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Key, "prt_"+k.ID+"_") || len(k.Key) != 4+16+1+52 {
		t.Fatalf("key %s has an unexpected shape", k)
	}
	t.Run("works as a bearer token", func(t *testing.T) {
		resp := r.bearer(t, k.Key, "GET", "/v1/whoami", "")
		if resp.status != http.StatusOK || !bytes.Contains(resp.raw, []byte(`"via":"api_key"`)) {
			t.Fatalf("%d %s", resp.status, resp.raw)
		}
	})
	t.Run("is listed without the key", func(t *testing.T) {
		keys, err := ana.c.APIKeys(ctx(t))
		if err != nil || len(keys) != 1 || keys[0].ID != k.ID || keys[0].LastUsedAt == nil {
			t.Fatalf("keys = %+v, %v", keys, err)
		}
		resp := send(t, r.signed(t, ana.id, "GET", "/v1/api-keys", nil, time.Now()))
		if bytes.Contains(resp.raw, []byte(k.Key[21:])) {
			t.Fatal("the key's secret is in the listing")
		}
	})
	t.Run("is stored only as a hash", func(t *testing.T) {
		db, err := os.ReadFile(filepath.Join(r.dir, DBFile))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(db, []byte(k.Key[21:])) {
			t.Fatal("relay.db holds the key's secret")
		}
		if !bytes.Contains(db, []byte(hashKey(k.Key))) {
			t.Fatal("relay.db does not hold the key's hash (test looks in the wrong place)")
		}
	})
	t.Run("cannot make more keys", func(t *testing.T) {
		resp := r.bearer(t, k.Key, "POST", "/v1/api-keys", `{"name":"more"}`)
		if resp.status != http.StatusForbidden || resp.body.Error != "identity_required" {
			t.Fatalf("%d %s", resp.status, resp.raw)
		}
	})
	for _, tc := range []struct{ name, key, code string }{
		{"a missing key", "", "unauthenticated"},
		{"a wrong key", k.Key[:len(k.Key)-2] + map[bool]string{true: "bb", false: "aa"}[strings.HasSuffix(k.Key, "aa")], "invalid_api_key"},
		{"garbage", "hunter2", "invalid_api_key"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			resp := r.bearer(t, tc.key, "GET", "/v1/operators", "")
			if resp.status != http.StatusUnauthorized || resp.body.Error != tc.code {
				t.Fatalf("%d %s", resp.status, resp.raw)
			}
		})
	}
	t.Run("refuses a revoked key", func(t *testing.T) {
		if _, err := ana.c.RevokeAPIKey(ctx(t), k.ID); err != nil {
			t.Fatal(err)
		}
		resp := r.bearer(t, k.Key, "GET", "/v1/operators", "")
		if resp.status != http.StatusUnauthorized || resp.body.Error != "api_key_revoked" {
			t.Fatalf("%d %s", resp.status, resp.raw)
		}
	})
	if n := len(r.events(t, audit.EventAuthRefused)); n < 3 {
		t.Errorf("%d auth.refused audit entries, want at least 3 (wrong, garbage, revoked)", n)
	}
}

func TestTOTP(t *testing.T) {
	r := startControlRelay(t)
	ana, ben := r.join(t, "ana"), r.join(t, "ben")
	r.admit(t, ana.id.Public)
	r.admit(t, ben.id.Public)
	refresh := func(p party) error {
		req := []byte(`{"type":"request","signer":"` + p.fp() + `","body":{"kind":"refresh","wallet_id":"wal_x"}}`)
		other := ana
		if p.fp() == ana.fp() {
			other = ben
		}
		return p.c.CreateCeremony(ctx(t), CreateCeremony{ID: newCeremonyID(), Members: []identity.Public{other.id.Public},
			Request: req, Deadline: r.clk.now().Add(time.Hour)})
	}

	t.Run("rotate-keys without an enrolment is refused", func(t *testing.T) {
		apiErr(t, refresh(ben), http.StatusForbidden, "mfa_not_enrolled")
	})
	secret := r.enroll(t, ben)
	st, err := ben.c.MFAStatus(ctx(t))
	if err != nil || !st.Enrolled || st.Pending {
		t.Fatalf("status = %+v, %v", st, err)
	}
	t.Run("rotate-keys without a code is refused", func(t *testing.T) {
		apiErr(t, refresh(ben), http.StatusUnauthorized, "mfa_required")
	})
	t.Run("a code is accepted once", func(t *testing.T) {
		code := r.code(t, secret, 0)
		ben.c.SetOTP(code)
		if err := refresh(ben); err != nil {
			t.Fatal(err)
		}
		ben.c.SetOTP(code)
		ae := apiErr(t, refresh(ben), http.StatusUnauthorized, "mfa_reused")
		if !strings.Contains(ae.Message, "already used; wait for the next one") {
			t.Errorf("message = %q", ae.Message)
		}
	})
	t.Run("one step of skew either side, not two", func(t *testing.T) {
		r.clk.advance(90 * time.Second)
		ben.c.SetOTP(r.code(t, secret, -2))
		apiErr(t, refresh(ben), http.StatusUnauthorized, "mfa_invalid")
		ben.c.SetOTP(r.code(t, secret, -1))
		if err := refresh(ben); err != nil {
			t.Fatalf("previous step's code: %v", err)
		}
	})
	t.Run("five wrong codes lock the operator out, and the right code stays refused", func(t *testing.T) {
		r.clk.advance(90 * time.Second)
		wrong := r.code(t, secret, 5)
		var last *APIError
		for i := 1; i <= 6; i++ {
			ben.c.SetOTP(wrong)
			last = apiErr(t, refresh(ben), map[bool]int{true: http.StatusForbidden, false: http.StatusUnauthorized}[i >= 5],
				map[bool]string{true: "mfa_locked", false: "mfa_invalid"}[i >= 5])
			if i == 3 && !strings.Contains(last.Message, "(2 of 5 attempts left)") {
				t.Errorf("third wrong code: %q", last.Message)
			}
		}
		ben.c.SetOTP(r.code(t, secret, 0))
		apiErr(t, refresh(ben), http.StatusForbidden, "mfa_locked")
		st, err := ben.c.MFAStatus(ctx(t))
		if err != nil || st.LockedUntil == nil {
			t.Fatalf("status = %+v, %v", st, err)
		}
		if len(r.events(t, audit.EventMFALockedOut)) < 2 {
			t.Error("lockouts not audited")
		}
		r.clk.advance(16 * time.Minute)
		ben.c.SetOTP(r.code(t, secret, 0))
		if err := refresh(ben); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
	})
	t.Run("a viewer cannot start a keygen at all", func(t *testing.T) {
		if _, err := ana.c.AddOperator(ctx(t), "ben", RoleViewer); err != nil {
			t.Fatal(err)
		}
		req := []byte(`{"type":"request","signer":"` + ben.fp() + `","body":{"kind":"keygen","wallet_id":"wal_y"}}`)
		err := ben.c.CreateCeremony(ctx(t), CreateCeremony{ID: newCeremonyID(), Members: []identity.Public{ana.id.Public},
			Request: req, Deadline: r.clk.now().Add(time.Hour)})
		apiErr(t, err, http.StatusForbidden, "forbidden")
	})
	t.Run("no secret or code is stored or logged in the clear", func(t *testing.T) {
		for _, f := range []string{filepath.Join(r.dir, DBFile), r.audit} {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the TOTP secret", filepath.Base(f))
			}
		}
		if strings.Contains(r.logs.String(), secret) {
			t.Error("the relay's log holds the TOTP secret")
		}
	})
	if len(r.events(t, audit.EventMFAVerified)) < 3 || len(r.events(t, audit.EventMFAReused)) != 1 || len(r.events(t, audit.EventMFAFailed)) < 4 {
		t.Error("TOTP checks are not all audited")
	}
}
