package relay

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/identity"
)

// Bounds of a ceremony's membership.
const (
	MinMembers = 2
	MaxMembers = 64
)

// register is PUT /v1/identities/self: put the caller on the roster.
func (s *Server) register(w http.ResponseWriter, _ *http.Request, c *call) error {
	var p identity.Public
	if err := decodeBody(c, &p); err != nil {
		return err
	}
	if !p.SigningKey.Equal(c.key) {
		return &apiError{status: http.StatusBadRequest, code: "wrong_key",
			msg: "signing_key must be the key that signs the request: register your own identity"}
	}
	created, err := s.store.register(p)
	switch {
	case errors.Is(err, errNameTaken):
		return &apiError{status: http.StatusConflict, code: "name_taken",
			msg: fmt.Sprintf("name taken: another identity is registered as %q; make an identity with another name", p.Name)}
	case errors.Is(err, errKeyChanged):
		return &apiError{status: http.StatusConflict, code: "key_registered",
			msg: "this signing key is registered with another name or encryption key; an identity cannot change, make a new one"}
	case err != nil:
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.log.Info("identity registered", "identity", p.Fingerprint(), "name", p.Name)
		s.audit(audit.Entry{Event: audit.EventIdentityRegistered, Actor: p.Label()})
	}
	writeJSON(w, status, p)
	return nil
}

// roster is GET /v1/identities.
func (s *Server) roster(w http.ResponseWriter, _ *http.Request, _ *call) error {
	all, err := s.store.roster()
	if err != nil {
		return err
	}
	if all == nil {
		all = []identity.Public{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"identities": all})
	return nil
}

// createResponse is the answer to POST /v1/ceremonies.
type createResponse struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

// createCeremony is POST /v1/ceremonies.
func (s *Server) createCeremony(w http.ResponseWriter, r *http.Request, c *call) error {
	var req CreateCeremony
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	now := s.cfg.Now().UTC()
	rec, err := s.newCeremony(req, c, now)
	if err != nil {
		return err
	}
	if existing, err := s.store.ceremony(rec.ID); err == nil {
		if !existing.sameContent(&rec) {
			return s.createFailure(errConflict)
		}
		// A retry of a creation that succeeded: answer as before, without
		// asking for the (single-use) TOTP code again.
		writeJSON(w, http.StatusOK, createResponse{ID: existing.ID, CreatedAt: existing.CreatedAt})
		return nil
	}
	p, kind, wallet, err := s.authorizeCeremony(r, c, &rec)
	if err != nil {
		return err
	}
	stored, created, err := s.store.createCeremony(rec, s.cfg.MaxOpenCeremonies)
	if err != nil {
		return s.createFailure(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.log.Info("ceremony created", "ceremony", rec.ID, "initiator", rec.Initiator, "members", len(rec.Members))
		s.audit(audit.Entry{Event: audit.EventCeremonyCreated, Actor: c.caller.Label(), Ceremony: rec.ID, Kind: kind, Wallet: wallet, Parties: labels(rec.Members)})
		// The hook first (it records a CLI wallet as creating), the members
		// after: a party that answers at once (a policy's rejection) must
		// find that record, or the wallet would stay "creating".
		s.hooks.CeremonyCreated(p, &stored, kind, wallet)
		for _, m := range rec.Members {
			s.hub.notify(inboxTopic(m.Fingerprint()))
		}
	}
	writeJSON(w, status, createResponse{ID: stored.ID, CreatedAt: stored.CreatedAt})
	return nil
}

// newCeremony checks a creation request and returns the ceremony to store:
// the caller is a member (the initiator) even when not listed.
func (s *Server) newCeremony(req CreateCeremony, c *call, now time.Time) (Ceremony, error) {
	bad := func(format string, args ...any) error {
		return &apiError{status: http.StatusBadRequest, code: "bad_ceremony", msg: fmt.Sprintf(format, args...)}
	}
	if !validCeremonyID(req.ID) {
		return Ceremony{}, bad("ceremony id must be 64 lower-case hex characters (32 random bytes)")
	}
	if len(req.Request) > s.cfg.MaxRequest {
		return Ceremony{}, &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large",
			msg: fmt.Sprintf("ceremony request is %d bytes, over the relay's %d-byte limit", len(req.Request), s.cfg.MaxRequest)}
	}
	if !req.Deadline.After(now) || req.Deadline.After(now.Add(s.cfg.MaxCeremonyTTL)) {
		return Ceremony{}, bad("ceremony deadline must be in the future and at most %s ahead", s.cfg.MaxCeremonyTTL)
	}
	members, err := withInitiator(req.Members, c.caller)
	if err != nil {
		return Ceremony{}, bad("%s", err)
	}
	return Ceremony{ID: req.ID, Initiator: c.caller.Fingerprint(), Members: members,
		Request: req.Request, Deadline: req.Deadline.UTC(), CreatedAt: now}, nil
}

// withInitiator returns members with the initiator appended when it is not
// listed, and checks their number and that they are distinct.
func withInitiator(members []identity.Public, initiator identity.Public) ([]identity.Public, error) {
	seen := map[string]bool{}
	for _, m := range members {
		fp := m.Fingerprint()
		if seen[fp] {
			return nil, fmt.Errorf("member %s is listed twice", m.Label())
		}
		seen[fp] = true
	}
	if !seen[initiator.Fingerprint()] {
		members = append(members, initiator)
	}
	if len(members) < MinMembers || len(members) > MaxMembers {
		return nil, fmt.Errorf("a ceremony has %d to %d members, initiator included; got %d", MinMembers, MaxMembers, len(members))
	}
	return members, nil
}

// createFailure turns a store error of createCeremony into its API error.
func (s *Server) createFailure(err error) error {
	var me *memberError
	switch {
	case errors.As(err, &me):
		return &apiError{status: http.StatusBadRequest, code: "unknown_member", msg: me.Error()}
	case errors.Is(err, errConflict):
		return &apiError{status: http.StatusConflict, code: "ceremony_exists",
			msg: "a different ceremony with this id exists: use a fresh random id"}
	case errors.Is(err, errTooManyOpen):
		return &apiError{status: http.StatusTooManyRequests, code: "too_many_ceremonies",
			msg: fmt.Sprintf("you already have %d open ceremonies, the most this relay allows: wait for their deadlines to pass", s.cfg.MaxOpenCeremonies)}
	}
	return err
}

// getCeremony is GET /v1/ceremonies/{id}.
func (s *Server) getCeremony(w http.ResponseWriter, r *http.Request, c *call) error {
	rec, err := s.memberOf(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

// memberOf returns the ceremony named in r's path if the caller is one of
// its members. Refusals of non-members are logged.
func (s *Server) memberOf(r *http.Request, c *call) (Ceremony, error) {
	id := r.PathValue("id")
	if !validCeremonyID(id) {
		return Ceremony{}, &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such ceremony: ids are 64 lower-case hex characters"}
	}
	rec, err := s.store.ceremony(id)
	if errors.Is(err, errNotFound) {
		return rec, &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such ceremony on this relay"}
	}
	if err != nil {
		return rec, err
	}
	if _, ok := rec.member(c.fp()); !ok {
		s.log.Warn("ceremony access refused", "identity", c.fp(), "name", c.caller.Name,
			"ceremony", id, "path", r.URL.Path)
		s.audit(audit.Entry{Event: audit.EventAccessRefused, Actor: c.caller.Label(), Ceremony: id,
			Outcome: "refused", Detail: "not a member: " + r.Method + " " + r.URL.Path})
		return rec, &apiError{status: http.StatusForbidden, code: "forbidden", msg: "not a member of this ceremony"}
	}
	return rec, nil
}

// validCeremonyID reports whether id is 64 lower-case hex characters.
func validCeremonyID(id string) bool { return len(id) == 64 && isLowerHex(id) }

func inboxTopic(fp string) string    { return "inbox/" + fp }
func ceremonyTopic(id string) string { return "ceremony/" + id }
