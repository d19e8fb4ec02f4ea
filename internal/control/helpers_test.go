package control

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares/sharestest"
)

// The rig's operators: ana owns the relay, ben is an admin, vault an
// operator (the three hold shares and run parties), viv only views.
var operators = []struct {
	name string
	role relay.Role
}{{"ana", relay.RoleOwner}, {"ben", relay.RoleAdmin}, {"vault", relay.RoleOperator}, {"viv", relay.RoleViewer}}

// holders are the operators whose parties run.
var holders = []string{"ana", "ben", "vault"}

// rig is a relay with the control plane on a real listener, and the
// parties of ana, ben and vault running in process, each with its own home,
// trusting each other and the relay's identity.
type rig struct {
	t       *testing.T
	url     string
	dir     string // the relay's data directory
	srv     *relay.Server
	plane   *Plane
	clock   *clock
	relayID *identity.Identity
	homes   map[string]*home.Home
	clients map[string]*relay.Client
	keys    map[string]string // API keys by operator
	secrets map[string]string // TOTP secrets by operator
}

// rigOptions vary a rig.
type rigOptions struct {
	decide map[string]coord.Decider // by holder; default: approve all
	plane  Options
}

// clock is the relay's clock: real time plus an offset the test moves on
// (to the next TOTP step, past a backup delay) instead of sleeping.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

func approveAll(context.Context, *coord.Proposal) (coord.Decision, error) {
	return coord.Decision{Approve: true}, nil
}

// newRig starts a relay and its control plane, makes the operators (with
// API keys, and TOTP for ana and ben) and runs the holders' parties.
func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	r := &rig{t: t, clock: &clock{}, homes: map[string]*home.Home{}, clients: map[string]*relay.Client{},
		keys: map[string]string{}, secrets: map[string]string{}}
	r.startRelay(o.plane)
	r.makeHomes()
	r.admit()
	for _, n := range []string{"ana", "ben"} {
		r.enroll(n)
	}
	r.startParties(o.decide)
	return r
}

// startRelay serves a relay and its control plane on a fresh data directory.
func (r *rig) startRelay(opts Options) {
	t := r.t
	r.dir = t.TempDir()
	st, err := relay.OpenStore(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(filepath.Join(r.dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if r.relayID, err = identity.New("relay"); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r.srv = relay.NewServer(st, relay.Config{Self: r.relayID, Now: r.clock.now, ClockSkew: 24 * time.Hour, Audit: log, Logger: logger})
	ctx, cancel := context.WithCancel(context.Background())
	opts.Context, opts.Logger = ctx, logger
	if opts.BackupDelay == 0 {
		opts.BackupDelay = time.Hour
	}
	if r.plane, err = Attach(r.srv, st, opts); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(r.srv)
	r.url = ts.URL
	t.Cleanup(func() {
		cancel()
		r.plane.Close()
		r.srv.Close()
		ts.Close()
		log.Close()
		st.Close()
		if t.Failed() {
			t.Logf("relay log:\n%s", logs.String())
		}
	})
}

// makeHomes gives every operator a home that trusts the others and the
// relay, and registers it with the relay.
func (r *rig) makeHomes() {
	t := r.t
	for _, op := range operators {
		h, err := home.Init(filepath.Join(t.TempDir(), op.name), sharestest.NewMemoryKeyring(), op.name)
		if err != nil {
			t.Fatal(err)
		}
		r.homes[op.name] = h
		if r.clients[op.name], err = relay.NewClient(r.url, h.ID, relay.ClientOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := r.clients[op.name].Register(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range r.homes {
		for _, o := range append(r.publics(), r.relayID.Public) {
			if _, err := h.Trust(o); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// walletParties are the holders, as a request lists a wallet's parties.
func (r *rig) walletParties() []identity.Public {
	var out []identity.Public
	for _, n := range holders {
		out = append(out, r.homes[n].ID.Public)
	}
	return out
}

func (r *rig) publics() []identity.Public {
	var out []identity.Public
	for _, h := range r.homes {
		out = append(out, h.ID.Public)
	}
	return out
}

// admit makes ana the first owner (as paratro relay bootstrap does) and
// has her admit the others; each gets an API key.
func (r *rig) admit() {
	t := r.t
	if err := relay.WriteBootstrap(r.dir, r.homes["ana"].ID.Public); err != nil {
		t.Fatal(err)
	}
	done, stop := context.WithCancel(context.Background())
	stop()
	r.srv.WatchBootstrap(done, r.dir, time.Hour) // applies the file once, and returns
	for _, op := range operators[1:] {
		if _, err := r.clients["ana"].AddOperator(t.Context(), op.name, op.role); err != nil {
			t.Fatal(err)
		}
	}
	for _, op := range operators {
		k, err := r.clients[op.name].CreateAPIKey(t.Context(), "test "+op.name)
		if err != nil {
			t.Fatal(err)
		}
		r.keys[op.name] = k.Key
	}
}

// enroll enrols name in TOTP, confirmed with the current step's code.
func (r *rig) enroll(name string) {
	t := r.t
	c := r.clients[name]
	en, err := c.MFAEnroll(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r.secrets[name] = en.Secret
	c.SetOTP(r.codeAt(name, r.clock.now()))
	if _, err := c.MFAConfirm(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// otp moves the relay's clock to the next 30-second step and returns
// name's code for it: each call gives a code never used before.
func (r *rig) otp(name string) string {
	r.clock.advance(30 * time.Second)
	return r.codeAt(name, r.clock.now())
}

func (r *rig) codeAt(name string, at time.Time) string {
	code, err := totp.GenerateCode(r.secrets[name], at)
	if err != nil {
		r.t.Fatal(err)
	}
	return code
}

// startParties runs the holders' parties until the test ends.
func (r *rig) startParties(decide map[string]coord.Decider) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	r.t.Cleanup(func() { cancel(); wg.Wait() }) // before the relay stops (cleanups run last first)
	for _, n := range holders {
		d := decide[n]
		if d == nil {
			d = approveAll
		}
		p := &coord.Party{Home: r.homes[n], Relay: r.clients[n], Decide: d, WalletStatus: coord.RelayWalletStatus(r.clients[n])}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = p.Run(ctx)
		}()
	}
}

// response is an API answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends an API request as curl would: the API key of operator as
// (none when as is ""), a JSON body, and header pairs.
func (r *rig) call(method, path, as, body string, header ...string) response {
	r.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return r.send(method, path, as, rd, header...)
}

func (r *rig) send(method, path, as string, body io.Reader, header ...string) response {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	if as != "" {
		req.Header.Set("Authorization", "Bearer "+r.keys[as])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// ok asserts the answer's status and returns its body.
func (res response) ok(t *testing.T, status int) map[string]any {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d: %s", res.status, status, res.raw)
	}
	return res.body
}

// refused asserts an API error: status, code, and a message that holds
// every hint.
func (res response) refused(t *testing.T, status int, code string, hints ...string) {
	t.Helper()
	if res.status != status || res.body["error"] != code {
		t.Fatalf("got %d %s, want %d %s", res.status, res.raw, status, code)
	}
	msg, _ := res.body["message"].(string)
	for _, h := range hints {
		if !strings.Contains(msg, h) {
			t.Fatalf("message %q does not say %q", msg, h)
		}
	}
}

// wallets lists the wallets, as JSON.
func (r *rig) wallets() string {
	r.t.Helper()
	res := r.call("GET", "/v1/wallets", "viv", "")
	res.ok(r.t, http.StatusOK)
	return res.raw
}

// create makes a wallet through the API (as ben) and waits for its DKG.
func (r *rig) create(body string) map[string]any {
	r.t.Helper()
	w := r.call("POST", "/v1/wallets", "ben", body).ok(r.t, http.StatusAccepted)
	return r.waitWallet(str(w, "id"), StatusActive)
}

// frost is the body of a 2-of-3 Schnorr wallet of the holders.
func frost(name string) string {
	return `{"name":"` + name + `","chain":"bitcoin","type":"mpc","scheme":"schnorr","threshold":{"required":2,"total":3},"parties":["ana","ben","vault"]}`
}

// waitWallet polls the wallet until it settles (not creating or
// rotating) and checks it has status want.
func (r *rig) waitWallet(id, want string) map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		w := r.call("GET", "/v1/wallets/"+id, "viv", "").ok(r.t, http.StatusOK)
		s := str(w, "status")
		if s != StatusCreating && s != StatusRotating {
			if s != want {
				r.t.Fatalf("wallet %s is %s, want %s: %v", id, s, want, w)
			}
			return w
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("wallet %s still %s after a minute", id, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSignature polls a signature until it is no longer pending.
func (r *rig) waitSignature(wallet, id string) map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		s := r.call("GET", "/v1/wallets/"+wallet+"/signatures/"+id, "viv", "").ok(r.t, http.StatusOK)
		if str(s, "status") != SigPending {
			return s
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("signature %s still pending after a minute", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// auditEvents are the relay's audit entries of event (a prefix), as JSON.
func (r *rig) auditEvents(event string) []audit.Entry {
	r.t.Helper()
	res := r.call("GET", "/v1/audit?event="+event, "viv", "")
	res.ok(r.t, http.StatusOK)
	var out struct {
		Entries []audit.Entry `json:"entries"`
		Intact  bool          `json:"intact"`
	}
	if err := json.Unmarshal([]byte(res.raw), &out); err != nil || !out.Intact {
		r.t.Fatalf("audit log: %v, intact %v", err, out.Intact)
	}
	return out.Entries
}

// settledAuditEvents is auditEvents once it holds want entries (or after
// 10 s): a ceremony's outcome is audited just after the wallet it settles
// becomes visible, so a test that saw the wallet change may read the log a
// moment too early.
func (r *rig) settledAuditEvents(event string, want int) []audit.Entry {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := r.auditEvents(event)
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// str reads a string field of a JSON object.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// obj reads an object field of a JSON object.
func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// logBuffer collects the relay's log, shown when a test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
