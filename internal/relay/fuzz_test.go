package relay

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/fuzzseed"
	"github.com/paratro/paratro/internal/identity"
)

// fuzzEndpoints are the relay's requests that carry a body, as the fuzzed
// caller (alice, the relay's owner) sends them. {cid} is a ceremony of
// alice and bob, {who} carol's fingerprint.
var fuzzEndpoints = []struct{ method, path string }{
	{"PUT", "/v1/identities/self"},
	{"POST", "/v1/ceremonies"},
	{"POST", "/v1/ceremonies/{cid}/messages"},
	{"POST", "/v1/operators"},
	{"PATCH", "/v1/operators/{who}"},
	{"POST", "/v1/api-keys"},
}

// FuzzRequestBody sends arbitrary bodies, correctly signed by a registered
// owner, to every relay endpoint that decodes one, through the real HTTP
// handler. The relay must never panic or answer 5xx; a body that is not
// JSON is refused with 4xx; every refusal is a JSON error with a code;
// every success is JSON; an envelope the relay accepts verifies as its
// sender's.
func FuzzRequestBody(f *testing.F) {
	r := &testRelay{dir: f.TempDir(), logs: &logBuffer{}}
	st, err := OpenStore(r.dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	r.store = st
	cfg := Config{Rate: 1e9, Burst: 1 << 30, MaxOpenCeremonies: 1 << 20,
		Logger: slog.New(slog.DiscardHandler)}
	r.srv = NewServer(st, cfg)
	r.hs = httptest.NewServer(r.srv)
	f.Cleanup(r.stop)
	ps := r.register(f, "alice", "bob", "carol")
	alice, bob, carol := ps[0], ps[1], ps[2]
	cid := openCeremony(f, alice, bob)
	roster := map[string]identity.Public{alice.fp(): alice.id.Public, bob.fp(): bob.id.Public}
	lookup := func(fp string) (identity.Public, bool) { p, ok := roster[fp]; return p, ok }

	js := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	env := seal(f, alice, cid, 2, nil, []party{bob}, "round two")
	seeds := [][]any{
		{byte(0), js(alice.id.Public)},
		{byte(0), js(bob.id.Public)},
		{byte(1), js(CreateCeremony{ID: strings.Repeat("ab", 32), Members: []identity.Public{bob.id.Public},
			Request: requestStatement(alice.fp()), Deadline: time.Now().Add(24 * 365 * time.Hour)})},
		{byte(1), []byte(`{"id":"00","members":[],"request":"","deadline":"2000-01-01T00:00:00Z"}`)},
		{byte(2), js(postRequest{Kind: KindEnvelope, Data: env})},
		{byte(2), js(postRequest{Kind: KindEnvelope, Data: env[:len(env)-1]})},
		{byte(2), js(postRequest{Kind: KindControl, Data: []byte(`{"type":"approve"}`)})},
		{byte(3), []byte(`{"identity":"` + carol.fp() + `","role":"viewer"}`)},
		{byte(4), []byte(`{"role":"admin"}`)},
		{byte(4), []byte(`{"role":"admin","role":"owner"}`)},
		{byte(5), []byte(`{"name":"ci"}`)},
		{byte(5), []byte(``)},
		{byte(0), []byte(`[1,2,{"a":`)},
		{byte(3), []byte(`{"identity":1e999}`)},
	}
	for _, s := range seeds {
		fuzzseed.Add(f, s...)
	}

	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		ep := fuzzEndpoints[int(which)%len(fuzzEndpoints)]
		path := strings.NewReplacer("{cid}", cid, "{who}", carol.fp()).Replace(ep.path)
		req := httptest.NewRequest(ep.method, path, bytes.NewReader(body))
		SignRequest(req, alice.id, body, time.Now())
		rec := httptest.NewRecorder()
		r.srv.ServeHTTP(rec, req)
		status, out := rec.Code, rec.Body.Bytes()
		if status >= 500 {
			t.Fatalf("%s %s %q: %d %s", ep.method, path, body, status, out)
		}
		if !json.Valid(out) {
			t.Fatalf("%s %s %q: %d with a body that is not JSON: %q", ep.method, path, body, status, out)
		}
		if status >= 400 {
			var eb errorBody
			if json.Unmarshal(out, &eb) != nil || eb.Error == "" || eb.Message == "" {
				t.Fatalf("%s %s: %d without an error code: %s", ep.method, path, status, out)
			}
			return
		}
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && !json.Valid(trimmed) {
			t.Fatalf("%s %s accepted a body that is not JSON (%d): %q", ep.method, path, status, body)
		}
		var pr postRequest
		if ep.path == "/v1/ceremonies/{cid}/messages" && json.Unmarshal(body, &pr) == nil && pr.Kind == KindEnvelope {
			if h, err := envelope.Inspect(pr.Data, lookup); err != nil || h.From != alice.fp() {
				t.Fatalf("accepted an envelope that does not verify as alice's (%v): %d", err, status)
			}
		}
	})
}
