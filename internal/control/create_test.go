package control

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/paratro/paratro/internal/audit"
)

// A Schnorr wallet made through the API: the relay runs FROST keygen with
// the parties named, and records the agreed x-only key.
func TestCreateSchnorrWallet(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	w := r.create(frost("cold"))
	pub, _ := hex.DecodeString(str(w, "public_key"))
	th := obj(w, "threshold")
	if len(pub) != 32 || str(w, "scheme") != "schnorr" || str(w, "chain") != "bitcoin" || th["required"] != 2.0 || th["total"] != 3.0 ||
		str(w, "source") != SourceAPI || !strings.HasPrefix(str(w, "created_by"), "ben (") || w["epoch"] != 1.0 {
		t.Fatalf("wallet: %v", w)
	}
	list := r.call("GET", "/v1/wallets", "viv", "").ok(t, http.StatusOK)
	if ws := list["wallets"].([]any); len(ws) != 1 || str(ws[0].(map[string]any), "id") != str(w, "id") {
		t.Fatalf("list: %v", list)
	}
	created := r.settledAuditEvents(audit.EventWalletCreated, 1)
	if len(created) != 1 || created[0].Wallet != str(w, "id") || !strings.Contains(created[0].Detail, str(w, "public_key")) {
		t.Fatalf("audit: %+v", created)
	}
	// A second wallet may not take the name of a live one.
	r.call("POST", "/v1/wallets", "ben", frost("cold")).refused(t, http.StatusConflict, "name_taken", str(w, "id"), "another name")
	r.call("GET", "/v1/wallets/nope", "viv", "").refused(t, http.StatusNotFound, "not_found", "GET /v1/wallets")
}

// Every malformed creation is refused with its status, code and a message
// that says what to do; no wallet is made and the refusal is audited.
func TestCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	before := r.wallets()
	wallet := func(threshold string) string {
		return `{"name":"w","chain":"ethereum","type":"mpc","threshold":` + threshold + `}`
	}
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
		hints      []string
	}{
		{"required 0", wallet(`{"required":0,"total":3}`), 400, "bad_threshold", []string{"at least 2", "single key"}},
		{"required 1", wallet(`{"required":1,"total":3}`), 400, "bad_threshold", []string{"at least 2", "any single share"}},
		{"required over total", wallet(`{"required":4,"total":3}`), 400, "bad_threshold", []string{"more than threshold.total"}},
		{"total over 16", wallet(`{"required":2,"total":17}`), 400, "bad_threshold", []string{"at most 16"}},
		{"no threshold", `{"name":"w","chain":"ethereum","type":"mpc"}`, 400, "bad_threshold", []string{`"required": 2`}},
		{"unknown chain", `{"name":"w","chain":"solana","type":"mpc","threshold":{"required":2,"total":3}}`, 400, "unknown_chain", []string{`"solana"`, "ethereum", "bitcoin"}},
		{"type not mpc", `{"name":"w","chain":"ethereum","type":"custodial","threshold":{"required":2,"total":3}}`, 400, "bad_request", []string{`"mpc"`}},
		{"unknown field", `{"name":"w","chain":"ethereum","type":"mpc","threshold":{"required":2,"total":3},"owner":"me"}`, 400, "bad_request", []string{`unknown field "owner"`, "fields: name, chain"}},
		{"wrong type", wallet(`{"required":"2","total":3}`), 400, "bad_request", []string{"threshold.required must be a number, not a string"}},
		{"duplicate key", `{"name":"w","name":"x","chain":"ethereum","type":"mpc","threshold":{"required":2,"total":3}}`, 400, "bad_request", []string{`key "name" is given twice`}},
		{"not JSON", `{"name":`, 400, "bad_request", []string{"too early"}},
		{"empty body", ``, 400, "bad_request", []string{"JSON object"}},
		{"no name", `{"chain":"ethereum","type":"mpc","threshold":{"required":2,"total":3}}`, 400, "bad_name", []string{"1 to 64"}},
		{"long name", `{"name":"` + strings.Repeat("n", 65) + `","chain":"ethereum","type":"mpc","threshold":{"required":2,"total":3}}`, 400, "bad_name", []string{"65 characters"}},
		{"schnorr on ethereum", `{"name":"w","chain":"ethereum","type":"mpc","scheme":"schnorr","threshold":{"required":2,"total":3}}`, 400, "bad_scheme", []string{"needs ecdsa"}},
		{"unknown party", `{"name":"w","chain":"ethereum","type":"mpc","threshold":{"required":2,"total":3},"parties":["ana","ben","zed"]}`, 400, "unknown_party", []string{`"zed"`, "GET /v1/operators"}},
		{"viewer party", `{"name":"w","chain":"ethereum","type":"mpc","threshold":{"required":2,"total":3},"parties":["ana","ben","viv"]}`, 400, "unknown_party", []string{"viv is a viewer"}},
		{"party twice", `{"name":"w","chain":"ethereum","type":"mpc","threshold":{"required":2,"total":3},"parties":["ana","ben","ben"]}`, 400, "bad_parties", []string{"ben is listed twice"}},
		{"parties not total", `{"name":"w","chain":"ethereum","type":"mpc","threshold":{"required":2,"total":3},"parties":["ana","ben"]}`, 400, "bad_parties", []string{"lists 2", "total is 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.call("POST", "/v1/wallets", "ben", tc.body).refused(t, tc.status, tc.code, tc.hints...)
		})
	}
	// A key given twice whose name is 900 KiB long (under the body cap): the
	// refusal is audited, but not the key, so the entry stays small.
	hugeKey := strings.Repeat("k", 900<<10)
	t.Run("duplicate 900 KiB key", func(t *testing.T) {
		body := `{"` + hugeKey + `":1,"` + hugeKey + `":2,"name":"w","chain":"ethereum","type":"mpc","threshold":{"required":2,"total":3}}`
		r.call("POST", "/v1/wallets", "ben", body).refused(t, http.StatusBadRequest, "bad_request", "is given twice")
	})
	t.Run("a 10 MB body", func(t *testing.T) {
		body := bytes.NewReader(append([]byte(`{"name":"`), bytes.Repeat([]byte("a"), 10<<20)...))
		r.send("POST", "/v1/wallets", "ben", body).refused(t, http.StatusRequestEntityTooLarge, "too_large", "limit")
	})
	t.Run("a 10 MB body without an API key", func(t *testing.T) {
		body := bytes.NewReader(append([]byte(`{"name":"`), bytes.Repeat([]byte("a"), 10<<20)...))
		r.send("POST", "/v1/wallets", "", body).refused(t, http.StatusRequestEntityTooLarge, "too_large", "limit")
	})
	if after := r.wallets(); after != before {
		t.Fatalf("wallets changed: %s, was %s", after, before)
	}
	if n := len(r.auditEvents(audit.EventCeremonyCreated)); n != 0 {
		t.Fatalf("%d ceremonies created", n)
	}
	refused := 0
	for _, e := range r.auditEvents(audit.EventWalletRequested) {
		if e.Outcome == "refused" && strings.HasPrefix(e.Actor, "ben (") {
			refused++
		}
		if b, _ := json.Marshal(e); len(b) > 2<<10 || strings.Contains(e.Detail, hugeKey[:2000]) {
			t.Errorf("an audit entry of %d bytes holds the request: %.200s…", len(b), b)
		}
	}
	if refused != 20 { // the table, and the duplicate huge key
		t.Fatalf("%d refusals audited", refused)
	}
	// The relay refuses the oversized bodies before reading them, and
	// audits that: method, path, status, reason, caller; never the body.
	unread := r.auditEvents(audit.EventRequestRefused)
	if len(unread) != 2 {
		t.Fatalf("%d oversized requests audited, want 2: %+v", len(unread), unread)
	}
	for i, want := range []struct{ actor, caller string }{{"ben (", "caller: API key "}, {"", "caller: unauthenticated"}} {
		e := unread[i]
		b, _ := json.Marshal(e)
		if !strings.HasPrefix(e.Actor, want.actor) || (want.actor == "" && e.Actor != "") || e.Outcome != "refused" ||
			!strings.Contains(e.Detail, "POST /v1/wallets: 413 too_large") || !strings.Contains(e.Detail, want.caller) ||
			strings.Contains(e.Detail, "aaaa") || len(b) > 1<<10 {
			t.Errorf("oversized request %d audited as %s", i, b)
		}
	}
}

// Without parties, the wallet's parties are the relay's operators who can
// hold shares, when there are exactly as many as the threshold's total.
func TestCreateNeedsPartiesWhenOperatorsDoNotFit(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	before := r.wallets()
	body := `{"name":"w","chain":"ethereum","type":"mpc","threshold":{"required":2,"total":2}}`
	r.call("POST", "/v1/wallets", "ben", body).refused(t, http.StatusBadRequest, "parties_required",
		`"parties"`, "3 operators who can hold shares (ana, ben, vault)")
	if after := r.wallets(); after != before {
		t.Fatalf("wallets changed: %s", after)
	}
}

// An Idempotency-Key makes a creation safe to retry: the same key and body
// answer with the same wallet; another body with the key is refused.
func TestCreateIdempotencyKey(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	first := r.call("POST", "/v1/wallets", "ben", frost("retry"), "Idempotency-Key", "k-1").ok(t, http.StatusAccepted)
	again := r.call("POST", "/v1/wallets", "ben", frost("retry"), "Idempotency-Key", "k-1")
	if again.ok(t, http.StatusAccepted); str(again.body, "id") != str(first, "id") || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %s, first %v", again.raw, first)
	}
	r.call("POST", "/v1/wallets", "ben", frost("other"), "Idempotency-Key", "k-1").refused(t, http.StatusConflict, "idempotency_conflict", "new key")
	r.waitWallet(str(first, "id"), StatusActive)
	if ws := r.call("GET", "/v1/wallets", "viv", "").ok(t, http.StatusOK)["wallets"].([]any); len(ws) != 1 {
		t.Fatalf("%d wallets", len(ws))
	}
}
