package relay

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/identity"
)

// controlRoutes are the operator, API key, MFA and audit endpoints.
func (s *Server) controlRoutes() {
	s.mount("GET /v1/relay", AuthPublic, "", http.HandlerFunc(s.relayInfo))
	s.Handle("GET /v1/operators", RoleViewer, s.listOperators)
	s.Handle("POST /v1/operators", RoleOwner, s.addOperator)
	s.Handle("PATCH /v1/operators/{who}", RoleOwner, s.setOperatorRole)
	s.Handle("DELETE /v1/operators/{who}", RoleOwner, s.removeOperator)
	s.Handle("GET /v1/whoami", RoleViewer, s.whoami)
	s.Handle("POST /v1/api-keys", RoleViewer, s.createAPIKey)
	s.Handle("GET /v1/api-keys", RoleViewer, s.listAPIKeys)
	s.Handle("DELETE /v1/api-keys/{id}", RoleViewer, s.revokeAPIKey)
	s.Handle("POST /v1/mfa/enroll", RoleViewer, s.mfaEnroll)
	s.Handle("POST /v1/mfa/confirm", RoleViewer, s.mfaConfirm)
	s.Handle("GET /v1/mfa", RoleViewer, s.mfaStatus)
	s.Handle("GET /v1/audit", RoleViewer, s.auditLog)
}

// RelayInfo is GET /v1/relay: public facts about the relay, unauthenticated.
type RelayInfo struct {
	Identity *identity.Public `json:"identity,omitempty"` // signs the ceremonies the relay starts on API requests
	HasOwner bool             `json:"has_owner"`
}

func (s *Server) relayInfo(w http.ResponseWriter, r *http.Request) {
	owner, err := s.store.hasOwner()
	if err != nil {
		s.fail(w, r, &call{}, err)
		return
	}
	info := RelayInfo{HasOwner: owner}
	if s.self != nil {
		info.Identity = &s.self.Public
	}
	writeJSON(w, http.StatusOK, info)
}

// OperatorView is a member as listed, with its second-factor status.
type OperatorView struct {
	Member
	MFA MFAStatus `json:"mfa"`
}

func (s *Server) listOperators(w http.ResponseWriter, _ *http.Request, _ *Principal) error {
	all, err := s.store.members()
	if err != nil {
		return err
	}
	out := make([]OperatorView, 0, len(all))
	for _, m := range all {
		st, err := s.mfaStatusOf(m)
		if err != nil {
			return err
		}
		out = append(out, OperatorView{m, st})
	}
	writeJSON(w, http.StatusOK, map[string]any{"operators": out})
	return nil
}

func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, p *Principal) error {
	st, err := s.mfaStatusOf(p.Member)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"operator": OperatorView{p.Member, st}, "via": p.Via, "api_key": p.KeyID})
	return nil
}

// AddOperator is the body of POST /v1/operators.
type AddOperator struct {
	Identity string `json:"identity"` // registered name or fingerprint
	Role     Role   `json:"role"`
}

func (s *Server) addOperator(w http.ResponseWriter, _ *http.Request, p *Principal) error {
	var req AddOperator
	if err := DecodeJSON(p, &req, false, "identity, role"); err != nil {
		return err
	}
	return s.putOperator(w, p, req.Identity, req.Role)
}

// SetRole is the body of PATCH /v1/operators/{who}.
type SetRole struct {
	Role Role `json:"role"`
}

func (s *Server) setOperatorRole(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var req SetRole
	if err := DecodeJSON(p, &req, false, "role"); err != nil {
		return err
	}
	return s.putOperator(w, p, r.PathValue("who"), req.Role)
}

func (s *Server) putOperator(w http.ResponseWriter, p *Principal, who string, role Role) error {
	if !role.Valid() {
		return Errorf(http.StatusBadRequest, "bad_role", "role %q is not one of owner, admin, operator, viewer", role)
	}
	id, ok, err := s.store.resolveIdentity(who)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(http.StatusNotFound, "not_registered",
			"no identity %q is registered here: it registers when its holder first runs paratro party run (or paratro operator register) against this relay", who)
	}
	if s.self != nil && id.Fingerprint() == s.self.Fingerprint() {
		return Error(http.StatusBadRequest, "bad_request", "the relay's own identity cannot be an operator")
	}
	m, created, err := s.store.setMember(id.Fingerprint(), role, p.Member.Fingerprint, s.cfg.Now().UTC())
	if errors.Is(err, errLastOwner) {
		return Error(http.StatusConflict, "last_owner", "this is the relay's last owner: make another owner first")
	}
	if err != nil {
		return err
	}
	status, ev := http.StatusOK, audit.EventOperatorRole
	if created {
		status, ev = http.StatusCreated, audit.EventOperatorAdded
	}
	s.audit(audit.Entry{Event: ev, Actor: p.Label(), Parties: []string{m.Label()}, Detail: "role " + string(role)})
	st, err := s.mfaStatusOf(m)
	if err != nil {
		return err
	}
	writeJSON(w, status, OperatorView{m, st})
	return nil
}

func (s *Server) removeOperator(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id, ok, err := s.store.resolveIdentity(r.PathValue("who"))
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(http.StatusNotFound, "not_found", "no operator %q", r.PathValue("who"))
	}
	m, err := s.store.removeMember(id.Fingerprint())
	switch {
	case errors.Is(err, errNotFound):
		return Errorf(http.StatusNotFound, "not_found", "%s is not an operator of this relay", id.Label())
	case errors.Is(err, errLastOwner):
		return Error(http.StatusConflict, "last_owner", "this is the relay's last owner: make another owner first")
	case err != nil:
		return err
	}
	s.audit(audit.Entry{Event: audit.EventOperatorRemoved, Actor: p.Label(), Parties: []string{m.Label()}})
	writeJSON(w, http.StatusOK, m)
	return nil
}

// CreateAPIKey is the body of POST /v1/api-keys.
type CreateAPIKey struct {
	Name string `json:"name"`
}

// CreatedAPIKey answers POST /v1/api-keys: the key, shown this once.
type CreatedAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// String keeps the key out of logs.
func (k CreatedAPIKey) String() string { return "api key " + k.ID + " [redacted]" }

func (s *Server) createAPIKey(w http.ResponseWriter, _ *http.Request, p *Principal) error {
	if p.Via != ViaIdentity {
		return Error(http.StatusForbidden, "identity_required", "API keys are made with your identity (paratro apikey create), not with another API key")
	}
	var req CreateAPIKey
	if err := DecodeJSON(p, &req, false, "name"); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 64 || strings.ContainsFunc(req.Name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return Error(http.StatusBadRequest, "bad_request", "name the key (1-64 printable characters), e.g. what uses it: \"ci-payouts\"")
	}
	rec, key := newAPIKey(req.Name, p.Member.Fingerprint, p.Member.Fingerprint, s.cfg.Now().UTC())
	if err := s.store.putAPIKey(rec); err != nil {
		return err
	}
	s.audit(audit.Entry{Event: audit.EventAPIKeyCreated, Actor: p.Label(), Detail: "key " + rec.ID + " " + req.Name + " (role " + string(p.Member.Role) + ")"})
	writeJSON(w, http.StatusCreated, CreatedAPIKey{APIKey: rec.APIKey, Key: key})
	return nil
}

// listAPIKeys lists the caller's keys; an owner sees everyone's.
func (s *Server) listAPIKeys(w http.ResponseWriter, _ *http.Request, p *Principal) error {
	who := p.Member.Fingerprint
	if p.Member.Role == RoleOwner {
		who = ""
	}
	keys, err := s.store.apiKeys(who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_keys": keys})
	return nil
}

// revokeAPIKey revokes one of the caller's keys; an owner may revoke any.
func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request, p *Principal) error {
	id := r.PathValue("id")
	keys, err := s.store.apiKeys("")
	if err != nil {
		return err
	}
	i := slices.IndexFunc(keys, func(k APIKey) bool { return k.ID == id })
	if i < 0 || (keys[i].Operator != p.Member.Fingerprint && p.Member.Role != RoleOwner) {
		return Errorf(http.StatusNotFound, "not_found", "no API key %q of yours: paratro apikey list shows them", id)
	}
	k, err := s.store.revokeAPIKey(id, s.cfg.Now().UTC())
	if err != nil {
		return err
	}
	s.audit(audit.Entry{Event: audit.EventAPIKeyRevoked, Actor: p.Label(), Detail: "key " + k.ID + " " + k.Name})
	writeJSON(w, http.StatusOK, k)
	return nil
}

// auditLog is GET /v1/audit?wallet=&event=&kind=&since=&until=&limit=:
// the relay's hash-chained log, filtered, oldest first.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	if s.cfg.Audit == nil {
		return Error(http.StatusNotFound, "no_audit_log", "this relay keeps no audit log")
	}
	q := r.URL.Query()
	var since, until time.Time
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return Errorf(http.StatusBadRequest, "bad_request", "%s must be an RFC 3339 time, e.g. 2026-11-21T10:00:00Z", f.name)
			}
			*f.t = t
		}
	}
	entries, err := audit.ReadAll(s.cfg.Audit.Path())
	if err != nil {
		return err
	}
	out := []audit.Entry{}
	for _, e := range entries {
		if (q.Get("wallet") == "" || e.Wallet == q.Get("wallet")) && (q.Get("event") == "" || strings.HasPrefix(e.Event, q.Get("event"))) &&
			(q.Get("kind") == "" || e.Kind == q.Get("kind")) && (since.IsZero() || !e.Time.Before(since)) && (until.IsZero() || e.Time.Before(until)) {
			out = append(out, e)
		}
	}
	n, verr := audit.Verify(s.cfg.Audit.Path())
	intact := verr == nil
	writeJSON(w, http.StatusOK, map[string]any{"entries": out, "total": n, "intact": intact})
	return nil
}
