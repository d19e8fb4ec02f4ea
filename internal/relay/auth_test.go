package relay

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHealthzNeedsNoSignature(t *testing.T) {
	r := startRelay(t, Config{})
	req, _ := http.NewRequest(http.MethodGet, r.hs.URL+"/healthz", nil)
	resp := send(t, req)
	if resp.status != http.StatusOK || !strings.Contains(string(resp.raw), `"status":"ok"`) {
		t.Fatalf("healthz = %d %s", resp.status, resp.raw)
	}
}

func TestRequestsAreRefusedUnlessSignedFreshAndOnce(t *testing.T) {
	r := startRelay(t, Config{})
	alice := r.register(t, "alice")[0]
	now := time.Now()
	tests := []struct {
		name string
		req  func() *http.Request
		code string
	}{
		{"an unsigned request", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, r.hs.URL+"/v1/identities", nil)
			return req
		}, "unauthenticated"},
		{"a request whose body was changed after signing", func() *http.Request {
			req := r.signed(t, alice.id, http.MethodPut, "/v1/identities/self", []byte(`{"a":1}`), now)
			return resend(t, req, []byte(`{"a":2}`))
		}, "bad_signature"},
		{"a request whose query was changed after signing", func() *http.Request {
			req := r.signed(t, alice.id, http.MethodGet, "/v1/inbox?after=1", nil, now)
			req.URL.RawQuery = "after=0"
			return req
		}, "bad_signature"},
		{"a request signed by another key than it names", func() *http.Request {
			req := r.signed(t, alice.id, http.MethodGet, "/v1/identities", nil, now)
			req.Header.Set(HeaderKey, strings.Repeat("ab", 32))
			return req
		}, "bad_signature"},
		{"a request signed two minutes ago", func() *http.Request {
			return r.signed(t, alice.id, http.MethodGet, "/v1/identities", nil, now.Add(-2*time.Minute))
		}, "clock_skew"},
		{"a request signed two minutes ahead", func() *http.Request {
			return r.signed(t, alice.id, http.MethodGet, "/v1/identities", nil, now.Add(2*time.Minute))
		}, "clock_skew"},
		{"a nonce that is not 32 hex characters", func() *http.Request {
			req := r.signed(t, alice.id, http.MethodGet, "/v1/identities", nil, now)
			req.Header.Set(HeaderNonce, "00")
			return req
		}, "bad_signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			resp := send(t, tt.req())
			if resp.status != http.StatusUnauthorized || resp.body.Error != tt.code {
				t.Fatalf("got %d %s, want 401 %q", resp.status, resp.raw, tt.code)
			}
		})
	}

	t.Run("a replayed request is refused", func(t *testing.T) {
		req := r.signed(t, alice.id, http.MethodGet, "/v1/identities", nil, time.Now())
		if resp := send(t, resend(t, req, nil)); resp.status != http.StatusOK {
			t.Fatalf("first send: %d %s", resp.status, resp.raw)
		}
		if resp := send(t, resend(t, req, nil)); resp.status != http.StatusUnauthorized || resp.body.Error != "replayed" {
			t.Fatalf("replay: %d %s, want 401 replayed", resp.status, resp.raw)
		}
	})
}

func TestARequestCapturedBeforeARestartIsRefusedAfterIt(t *testing.T) {
	r := startRelay(t, Config{})
	alice := r.register(t, "alice")[0]
	req := r.signed(t, alice.id, http.MethodGet, "/v1/identities", nil, time.Now())
	if resp := send(t, resend(t, req, nil)); resp.status != http.StatusOK {
		t.Fatalf("before restart: %d %s", resp.status, resp.raw)
	}
	r.stop()
	time.Sleep(5 * time.Millisecond) // the new relay starts in a later millisecond
	r.serve(t, Config{})             // same store, fresh nonce cache
	replay := resend(t, req, nil)
	replay.URL.Host = strings.TrimPrefix(r.hs.URL, "http://")
	if resp := send(t, replay); resp.status != http.StatusUnauthorized || resp.body.Error != codePredatesStart {
		t.Fatalf("replay after restart: %d %s, want 401 %s", resp.status, resp.raw, codePredatesStart)
	}
}

func TestTheClientRetriesARequestSignedJustBeforeARestart(t *testing.T) {
	r := startRelay(t, Config{})
	alice := r.register(t, "alice")[0]
	behind := func() time.Time { return time.Now().Add(-300 * time.Millisecond) }
	c, err := NewClient(r.hs.URL, alice.id, ClientOptions{Now: behind})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Roster(ctx(t)); err != nil {
		t.Fatalf("a client 300 ms behind a relay started just now: %v", err)
	}
}

func TestTheNonceCacheForgetsExpiredNoncesAndIsBounded(t *testing.T) {
	c := newNonceCache(2)
	t0 := time.Unix(1000, 0)
	if err := c.add("a", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if err := c.add("a", t0.Add(time.Minute), t0); err == nil {
		t.Fatal("a nonce was accepted twice")
	}
	if err := c.add("b", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if err := c.add("c", t0.Add(time.Minute), t0); !errors.Is(err, errNonceCacheFull) {
		t.Fatalf("third nonce in a cache of two: %v", err)
	}
	later := t0.Add(2 * time.Minute)
	if err := c.add("a", later.Add(time.Minute), later); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}
