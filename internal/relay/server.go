package relay

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/mfa"
)

// Server is the relay's HTTP API over a Store. It is an http.Handler; Serve
// runs it on a listener, tests run it under httptest.
type Server struct {
	cfg   Config
	store *Store
	log   *slog.Logger
	auth  *authenticator
	rate  *rateLimiter
	hub   *hub
	mux   *http.ServeMux

	self     *identity.Identity // the relay's own identity; nil when it has none
	verifier *mfa.Verifier
	hooks    Hooks

	stopping chan struct{} // closed by Close: long-polls end at once
	stopOnce sync.Once

	routesMu  sync.Mutex
	routeList []Route // every endpoint mounted, for Routes
}

// NewServer returns the API over st, configured by cfg (zero limits take
// their defaults). Requests signed before this call are refused, so none
// captured before a restart can be replayed after it.
func NewServer(st *Store, cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg: cfg, store: st, log: cfg.Logger,
		auth:     newAuthenticator(cfg.Now, cfg.ClockSkew),
		rate:     newRateLimiter(cfg.Rate, cfg.Burst),
		hub:      newHub(),
		mux:      http.NewServeMux(),
		stopping: make(chan struct{}),
		self:     cfg.Self,
		verifier: mfa.NewVerifier(mfaStates{st}),
		hooks:    noHooks{},
	}
	s.verifier.SetLockout(cfg.MFAMaxFailures, cfg.MFALockout)
	if s.self != nil {
		if _, err := st.register(s.self.Public); err != nil {
			s.log.Error("register the relay's identity", "err", err)
		}
	}
	s.routes()
	return s
}

// How a route authenticates its callers (Route.Auth).
const (
	AuthPublic     = "public"     // anyone, unauthenticated
	AuthSigned     = "signed"     // a request signed by an identity key (registration)
	AuthRegistered = "registered" // signed by a registered identity; API keys are not accepted
	AuthOperator   = "operator"   // an API key or a signed request of an admitted operator with Route.Role or above
)

// Route is one endpoint of the relay's API: its ServeMux pattern, how it
// authenticates, and for operator routes the least role it needs.
type Route struct {
	Pattern string
	Auth    string
	Role    Role
}

// Routes lists every endpoint the server serves, in the order they were
// mounted (the control plane's included once attached), so that tests can
// hold each one to the access table.
func (s *Server) Routes() []Route {
	s.routesMu.Lock()
	defer s.routesMu.Unlock()
	return append([]Route(nil), s.routeList...)
}

// mount serves pattern with h and records the route.
func (s *Server) mount(pattern, auth string, role Role, h http.Handler) {
	s.routesMu.Lock()
	s.routeList = append(s.routeList, Route{Pattern: pattern, Auth: auth, Role: role})
	s.routesMu.Unlock()
	s.mux.Handle(pattern, h)
}

// routes is the whole API.
func (s *Server) routes() {
	s.mount("GET /healthz", AuthPublic, "", http.HandlerFunc(s.healthz))
	s.mount("PUT /v1/identities/self", AuthSigned, "", s.v1(s.register, false))
	s.mount("GET /v1/identities", AuthRegistered, "", s.v1(s.roster, true))
	s.mount("POST /v1/ceremonies", AuthRegistered, "", s.v1(s.createCeremony, true))
	s.mount("GET /v1/ceremonies/{id}", AuthRegistered, "", s.v1(s.getCeremony, true))
	s.mount("POST /v1/ceremonies/{id}/messages", AuthRegistered, "", s.v1(s.postMessage, true))
	s.mount("GET /v1/ceremonies/{id}/messages", AuthRegistered, "", s.v1(s.listMessages, true))
	s.mount("GET /v1/inbox", AuthRegistered, "", s.v1(s.inbox, true))
	s.controlRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, code: "not_found",
			msg: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close ends every long-poll at once (with 503, which the client retries)
// and makes new ones return without waiting. Call it before
// http.Server.Shutdown, which otherwise waits for them. It does not close
// the store.
func (s *Server) Close() { s.stopOnce.Do(func() { close(s.stopping) }) }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// call is an authenticated request.
type call struct {
	key        ed25519.PublicKey
	caller     identity.Public // the registered identity of key, if registered
	registered bool
	body       []byte
}

// fp is the caller's fingerprint ("" if unregistered).
func (c *call) fp() string {
	if !c.registered {
		return ""
	}
	return c.caller.Fingerprint()
}

// apiError is a refusal sent as {"error": code, "message": msg}.
type apiError struct {
	status     int
	code, msg  string
	retryAfter time.Duration // sets Retry-After when positive
	seq        uint64        // the stored message an equivocation conflicts with
}

func (e *apiError) Error() string { return e.msg }

// errorBody is the JSON of every error response.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Seq     uint64 `json:"seq,omitempty"`
	// RetryAfterMS is Retry-After in milliseconds: the header counts whole
	// seconds, so a rate limit that frees a token in 10 ms would otherwise
	// keep a client waiting a second.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

type handler func(w http.ResponseWriter, r *http.Request, c *call) error

// v1 wraps an API handler: it reads the body (capped), checks the request
// signature, the caller's rate and, when needRegistered, that the caller
// is on the roster; it logs the request at Debug and refusals at Warn.
func (s *Server) v1(h handler, needRegistered bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		c, err := s.authenticate(rec, r, needRegistered, nil)
		if err == nil {
			err = h(rec, r, c)
		}
		if err != nil {
			s.fail(rec, r, c, err)
		}
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"identity", c.fp(), "duration_ms", float64(time.Since(began).Microseconds())/1000)
	})
}

// authenticate reads the body and establishes who sent the request. The
// returned call is never nil.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, needRegistered bool, body []byte) (*call, error) {
	c := &call{}
	if body == nil {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			ae := &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large",
				msg: fmt.Sprintf("request body is over the relay's %d-byte limit", s.cfg.MaxBody)}
			s.auditUnread(r, ae)
			return c, ae
		}
		if err != nil {
			return c, &apiError{status: http.StatusBadRequest, code: "bad_request", msg: "cannot read request body"}
		}
	}
	c.body = body
	key, err := s.auth.verify(r, body)
	if err != nil {
		return c, s.authFailure(err)
	}
	c.key = key
	if ok, wait := s.rate.allow(string(key), s.cfg.Now()); !ok {
		return c, &apiError{status: http.StatusTooManyRequests, code: "rate_limited",
			msg: "too many requests from this identity: slow down", retryAfter: wait}
	}
	if c.caller, c.registered, err = s.store.identityByKey(key); err != nil {
		return c, err
	}
	if needRegistered && !c.registered {
		return c, &apiError{status: http.StatusForbidden, code: "register_first",
			msg: "register first: run paratro party run"}
	}
	return c, nil
}

// authFailure turns a refused signature into its API error.
func (s *Server) authFailure(err error) error {
	var ae *authError
	if errors.As(err, &ae) {
		return &apiError{status: http.StatusUnauthorized, code: ae.code, msg: ae.msg}
	}
	if errors.Is(err, errNonceCacheFull) {
		return &apiError{status: http.StatusServiceUnavailable, code: "busy",
			msg: "relay is overloaded: try again shortly", retryAfter: time.Second}
	}
	return err
}

// fail writes err: an *apiError as itself, anything else as a 500 that is
// logged here and not shown to the caller.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "identity", c.fp(), "err", err)
		ae = &apiError{status: http.StatusInternalServerError, code: "internal", msg: "relay internal error: see the relay's log"}
	} else if ae.status == http.StatusUnauthorized || ae.status == http.StatusTooManyRequests ||
		ae.status == http.StatusRequestEntityTooLarge || ae.code == "register_first" {
		s.log.Warn("request refused", "method", r.Method, "path", r.URL.Path, "status", ae.status,
			"reason", ae.code, "identity", c.fp(), "key", hex.EncodeToString(c.key), "remote", r.RemoteAddr)
	}
	writeError(w, ae)
}

func writeError(w http.ResponseWriter, e *apiError) {
	var ms int64
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds()))))
		ms = int64(math.Ceil(float64(e.retryAfter) / float64(time.Millisecond)))
	}
	writeJSON(w, e.status, errorBody{Error: e.code, Message: e.msg, Seq: e.seq, RetryAfterMS: ms})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal","message":"cannot encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decodeBody reads the JSON request body into v.
func decodeBody(c *call, v any) error {
	if err := json.Unmarshal(c.body, v); err != nil {
		return &apiError{status: http.StatusBadRequest, code: "bad_request", msg: "invalid JSON body: " + err.Error()}
	}
	return nil
}

// statusRecorder remembers the status written, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// audit appends e to the relay's audit log, if it has one; a failure is
// logged and does not fail the request.
func (s *Server) audit(e audit.Entry) {
	if s.cfg.Audit == nil {
		return
	}
	if _, err := s.cfg.Audit.Append(e); err != nil {
		s.log.Error("audit log", "err", err)
	}
}

// labels are the members' names and fingerprints.
func labels(ms []identity.Public) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Label()
	}
	return out
}
