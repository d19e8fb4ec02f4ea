package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
)

// testRelay is a relay served by httptest on a real TCP socket.
type testRelay struct {
	srv   *Server
	hs    *httptest.Server
	store *Store
	dir   string
	logs  *logBuffer
}

// startRelay serves a relay with cfg on a fresh data directory; the relay
// logs at Debug into r.logs.
func startRelay(t *testing.T, cfg Config) *testRelay {
	t.Helper()
	r := &testRelay{dir: t.TempDir(), logs: &logBuffer{}}
	st, err := OpenStore(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	r.store = st
	r.serve(t, cfg)
	t.Cleanup(func() { r.stop(); r.store.Close() })
	return r
}

// restart stops r's server, closes its store and serves a new Server with
// cfg on the store reopened from r's data directory, as after the relay's
// process restarted. The URL changes: make new clients.
func (r *testRelay) restart(t *testing.T, cfg Config) {
	t.Helper()
	r.stop()
	if err := r.store.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	r.store = st
	r.serve(t, cfg)
}

// serve starts a new Server (as after a restart) on r's store.
func (r *testRelay) serve(t *testing.T, cfg Config) {
	t.Helper()
	cfg.Logger = slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.srv = NewServer(r.store, cfg)
	r.hs = httptest.NewServer(r.srv)
}

// stop ends long-polls and closes the HTTP server, keeping the store open.
func (r *testRelay) stop() {
	r.srv.Close()
	r.hs.Close()
}

// newIdentity makes an identity named name.
func newIdentity(t testing.TB, name string) *identity.Identity {
	t.Helper()
	id, err := identity.New(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// client returns a client of r acting as id.
func (r *testRelay) client(t testing.TB, id *identity.Identity) *Client {
	t.Helper()
	c, err := NewClient(r.hs.URL, id, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// party is a registered identity and its client.
type party struct {
	id *identity.Identity
	c  *Client
}

func (p party) fp() string { return p.id.Fingerprint() }

// register makes and registers one party per name.
func (r *testRelay) register(t testing.TB, names ...string) []party {
	t.Helper()
	var out []party
	for _, n := range names {
		id := newIdentity(t, n)
		c := r.client(t, id)
		if err := c.Register(ctx(t)); err != nil {
			t.Fatalf("register %s: %v", n, err)
		}
		r.admit(t, id.Public)
		out = append(out, party{id, c})
	}
	return out
}

// admit makes p an operator of r: the relay's first identity becomes its
// owner, the others admins.
func (r *testRelay) admit(t testing.TB, p identity.Public) {
	t.Helper()
	owner, err := r.store.hasOwner()
	if err != nil {
		t.Fatal(err)
	}
	if !owner {
		if err := r.store.BootstrapOwner(p, time.Now()); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, _, err := r.store.setMember(p.Fingerprint(), RoleAdmin, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
}

// requestStatement is the smallest request statement the relay accepts
// from initiator: a sign request (the relay reads only kind and wallet).
func requestStatement(initiator string) []byte {
	return []byte(`{"type":"request","ceremony":"x","signer":"` + initiator + `","body":{"kind":"sign","wallet_id":"wal_test"},"sig":"00"}`)
}

// ctx is a context that ends with the test or after 10 s.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// newCeremonyID returns a random ceremony ID.
func newCeremonyID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// openCeremony has parties[0] open a ceremony with all of parties.
func openCeremony(t testing.TB, parties ...party) string {
	t.Helper()
	id := newCeremonyID()
	var members []identity.Public
	for _, p := range parties {
		members = append(members, p.id.Public)
	}
	err := parties[0].c.CreateCeremony(ctx(t), CreateCeremony{ID: id, Members: members,
		Request: requestStatement(parties[0].fp()), Deadline: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatalf("create ceremony: %v", err)
	}
	return id
}

// seal makes an envelope from p in ceremony cid: a broadcast to others
// when to is "", else a message to the party to.
func seal(t testing.TB, p party, cid string, round int, to *party, others []party, payload string) []byte {
	t.Helper()
	h := envelope.Header{Ceremony: cid, SessionID: []byte("session"), Type: 1, Round: round, From: p.fp()}
	var recipients []identity.Public
	if to != nil {
		h.To = to.fp()
		recipients = []identity.Public{to.id.Public}
	} else {
		for _, o := range others {
			recipients = append(recipients, o.id.Public)
		}
	}
	raw, err := envelope.Seal(p.id, h, []byte(payload), recipients)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// apiErr asserts that err is an *APIError with status and code.
func apiErr(t testing.TB, err error, status int, code string) *APIError {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an *APIError %d %s", err, status, code)
	}
	if ae.Status != status || ae.Code != code {
		t.Fatalf("err = %d %q (%v), want %d %q", ae.Status, ae.Code, ae, status, code)
	}
	return ae
}

// rawResponse is a response read by send.
type rawResponse struct {
	status int
	header http.Header
	body   errorBody
	raw    []byte
}

// send sends req as is (signed or not by the caller) and reads the answer.
func send(t testing.TB, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var eb errorBody
	_ = json.Unmarshal(raw, &eb)
	return rawResponse{resp.StatusCode, resp.Header, eb, raw}
}

// signed returns a request to r signed by id now.
func (r *testRelay) signed(t testing.TB, id *identity.Identity, method, path string, body []byte, now time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, r.hs.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	SignRequest(req, id, body, now)
	return req
}

// resend returns a copy of req that can be sent again.
func resend(t testing.TB, req *http.Request, body []byte) *http.Request {
	t.Helper()
	c := req.Clone(context.Background())
	c.Body = io.NopCloser(bytes.NewReader(body))
	return c
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the JSON log records whose msg is msg.
func (b *logBuffer) records(msg string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(b.buf.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
