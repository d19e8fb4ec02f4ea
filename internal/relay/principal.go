package relay

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/identity"
)

// How a principal authenticated.
const (
	ViaIdentity = "identity" // a request signed with the operator's identity key
	ViaAPIKey   = "api_key"  // Authorization: Bearer <api key>
	ViaRelay    = "relay"    // the relay itself, acting on an API request it authorised
)

// Principal is the operator behind a control-plane request.
type Principal struct {
	Member Member
	Via    string
	KeyID  string // the API key used, when Via is ViaAPIKey
	Body   []byte // the request body (capped)

	otp string // a code given in a request body rather than the header
}

// Label names the principal in logs and audit entries.
func (p *Principal) Label() string {
	if p.Via == ViaAPIKey {
		return p.Member.Label() + " via api key " + p.KeyID
	}
	return p.Member.Label()
}

// SetOTP supplies a TOTP code read from the request body.
func (p *Principal) SetOTP(code string) { p.otp = code }

// OpHandler serves a control-plane request for an authenticated principal.
type OpHandler func(w http.ResponseWriter, r *http.Request, p *Principal) error

// Error returns an API error: HTTP status, a stable code and a message
// that says what to do.
func Error(status int, code, msg string) error {
	return &apiError{status: status, code: code, msg: msg}
}

// Errorf is Error with a formatted message.
func Errorf(status int, code, format string, args ...any) error {
	return Error(status, code, fmt.Sprintf(format, args...))
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// Handle serves pattern (a net/http ServeMux pattern) with h for members
// whose role is at least min.
func (s *Server) Handle(pattern string, min Role, h OpHandler) {
	s.mount(pattern, AuthOperator, min, s.op(min, h))
}

// op wraps a control-plane handler: it reads the body (capped),
// authenticates the caller by API key or signature, and checks that the
// caller is a member with role min or above.
func (s *Server) op(min Role, h OpHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		p, err := s.principal(rec, r)
		if err == nil && !p.Member.Role.AtLeast(min) {
			err = Errorf(http.StatusForbidden, "forbidden", "%s %s needs the %s role; %s is %s (an owner can change roles: paratro operator set-role)",
				r.Method, r.URL.Path, min, p.Member.Name, p.Member.Role)
			s.audit(audit.Entry{Event: audit.EventAuthRefused, Actor: p.Label(), Outcome: "refused",
				Detail: fmt.Sprintf("%s %s: role %s, needs %s", r.Method, r.URL.Path, p.Member.Role, min)})
		}
		if err == nil {
			err = h(rec, r, p)
		}
		who := ""
		if p != nil {
			who = p.Member.Fingerprint
		}
		if err != nil {
			s.fail(rec, r, &call{}, err)
		}
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"identity", who, "duration_ms", float64(time.Since(began).Microseconds())/1000)
	})
}

// principal authenticates a control-plane request.
func (s *Server) principal(w http.ResponseWriter, r *http.Request) (*Principal, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		ae := &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large",
			msg: fmt.Sprintf("request body is over the relay's %d-byte limit", s.cfg.MaxBody)}
		s.auditUnread(r, ae)
		return nil, ae
	}
	if err != nil {
		return nil, Error(http.StatusBadRequest, "bad_request", "cannot read request body")
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		return s.bearer(r, auth, body)
	}
	if r.Header.Get(HeaderKey) == "" {
		return nil, Error(http.StatusUnauthorized, "unauthenticated",
			"send Authorization: Bearer <api key> (paratro apikey create makes one), or use the paratro client, which signs requests")
	}
	c, err := s.authenticate(w, r, true, body)
	if err != nil {
		return nil, err
	}
	if s.self != nil && c.key.Equal(s.self.SigningKey) {
		p := s.selfPrincipal()
		p.Body = body
		return p, nil
	}
	m, err := s.operator(c.fp())
	if err != nil {
		return nil, err
	}
	return &Principal{Member: m, Via: ViaIdentity, Body: body}, nil
}

// auditUnread records a request refused before its body was read (it is
// over the body cap): method, path, status, reason, and who sent it as far
// as that is known without the body. An API key names its operator; a
// signed request's signature covers the body, so the identity key it
// claims is recorded as claimed, unverified. The body is never recorded
// and audit.Append bounds the detail, so an entry stays a few hundred
// bytes however large the request, and each one costs its sender more
// than MaxBody bytes of upload.
func (s *Server) auditUnread(r *http.Request, ae *apiError) {
	actor, who := "", "unauthenticated"
	if key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		who = "an invalid or revoked API key"
		if k, err := s.store.lookupAPIKey(strings.TrimSpace(key)); err == nil {
			if m, ok, err := s.store.member(k.Operator); err == nil && ok {
				actor = (&Principal{Member: m, Via: ViaAPIKey, KeyID: k.ID}).Label()
				who = "API key " + k.ID
			}
		}
	} else if kh := r.Header.Get(HeaderKey); kh != "" {
		who = "unverified signature claiming identity key " + clipText(kh, 64)
		if raw, err := hex.DecodeString(kh); err == nil && len(raw) == ed25519.PublicKeySize {
			if p, ok, err := s.store.identityByKey(raw); err == nil && ok {
				who = "unverified signature claiming identity " + p.Label()
			}
		}
	}
	s.audit(audit.Entry{Event: audit.EventRequestRefused, Actor: actor, Outcome: "refused",
		Detail: fmt.Sprintf("%s %s: %d %s (body over the %d-byte limit, not read); caller: %s",
			r.Method, clipText(r.URL.Path, 200), ae.status, ae.code, s.cfg.MaxBody, who)})
}

// clipText cuts s to at most n bytes, on a character boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// operator returns the member fp, or the error that says why it is not one.
func (s *Server) operator(fp string) (Member, error) {
	m, ok, err := s.store.member(fp)
	if err != nil {
		return Member{}, err
	}
	if ok {
		return m, nil
	}
	if owner, err := s.store.hasOwner(); err != nil {
		return Member{}, err
	} else if !owner {
		return Member{}, Error(http.StatusForbidden, "no_owner",
			"this relay has no owner yet: on the relay host, run paratro relay bootstrap --data DIR --owner IDENTITY.json")
	}
	return Member{}, Error(http.StatusForbidden, "not_admitted",
		"this identity is registered but not admitted: an owner runs paratro operator add NAME --role ROLE")
}

// bearer authenticates an API key.
func (s *Server) bearer(r *http.Request, auth string, body []byte) (*Principal, error) {
	key, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return nil, Error(http.StatusUnauthorized, "unauthenticated", `the Authorization header must be "Bearer <api key>"`)
	}
	key = strings.TrimSpace(key)
	if ok, wait := s.rate.allow("bearer:"+key, s.cfg.Now()); !ok {
		return nil, &apiError{status: http.StatusTooManyRequests, code: "rate_limited", msg: "too many requests with this API key: slow down", retryAfter: wait}
	}
	k, err := s.store.checkAPIKey(key, s.cfg.Now().UTC())
	refuse := func(code, msg string) error {
		s.audit(audit.Entry{Event: audit.EventAuthRefused, Outcome: "refused", Detail: fmt.Sprintf("%s %s: %s", r.Method, r.URL.Path, code)})
		s.log.Warn("request refused", "method", r.Method, "path", r.URL.Path, "reason", code, "remote", r.RemoteAddr)
		return Error(http.StatusUnauthorized, code, msg)
	}
	switch {
	case errors.Is(err, errNotFound):
		return nil, refuse("invalid_api_key", "the API key is not valid: check it was copied whole, or make a new one with paratro apikey create")
	case errors.Is(err, errRevoked):
		return nil, refuse("api_key_revoked", "the API key was revoked: make a new one with paratro apikey create")
	case err != nil:
		return nil, err
	}
	m, ok, err := s.store.member(k.Operator)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse("invalid_api_key", "the API key's operator is no longer admitted to this relay")
	}
	return &Principal{Member: m, Via: ViaAPIKey, KeyID: k.ID, Body: body}, nil
}

// Self is the relay's own identity, which signs the ceremonies the relay
// starts on API requests.
func (s *Server) Self() *identity.Identity { return s.self }

// Audit appends e to the relay's audit log.
func (s *Server) Audit(e audit.Entry) { s.audit(e) }

// CheckOTP verifies the principal's TOTP code for operation op: from the
// Paratro-OTP header, or given with SetOTP.
func (s *Server) CheckOTP(r *http.Request, p *Principal, op string) error {
	return s.checkOTP(r, p, op)
}

// Now is the relay's clock.
func (s *Server) Now() time.Time { return s.cfg.Now() }

// selfPrincipal is the relay acting for itself: on the ceremonies its
// wallet API starts, which that API has already authorised.
func (s *Server) selfPrincipal() *Principal {
	return &Principal{Member: Member{Name: s.self.Name, Fingerprint: s.self.Fingerprint(), Role: RoleAdmin}, Via: ViaRelay}
}
