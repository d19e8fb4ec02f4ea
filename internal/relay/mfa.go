package relay

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/atomicfile"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/mfa"
)

// HeaderOTP carries a TOTP code on requests that need one. Codes travel in
// a header (or the body of POST /v1/actions/{id}/confirm), never in a URL,
// so they stay out of access logs.
const HeaderOTP = "Paratro-OTP"

// SecretsKeyFile holds the 256-bit key that seals TOTP secrets in the
// relay's database. It sits next to relay.db, mode 0600, so a copy of the
// database alone does not reveal any operator's second factor; keep it
// out of database backups.
const SecretsKeyFile = "secrets.key"

var bucketMFA = []byte("mfa") // fingerprint -> mfaRecord JSON

// mfaRecord is one operator's second factor.
type mfaRecord struct {
	Sealed      []byte    `json:"sealed,omitempty"`  // the confirmed secret, sealed
	Pending     []byte    `json:"pending,omitempty"` // an enrolment awaiting its first code, sealed
	EnrolledAt  time.Time `json:"enrolled_at,omitzero"`
	State       mfa.State `json:"state"`
	PendingFrom time.Time `json:"pending_from,omitzero"`
}

// loadSecretsKey reads dir/secrets.key, creating it on first use.
func loadSecretsKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, SecretsKeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		if err := atomicfile.Write(path, key); err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%s is not a 32-byte key: restore it from your backup (TOTP secrets cannot be read without it)", path)
	}
	return key, nil
}

func (s *Store) mfaRecord(fp string) (rec mfaRecord, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		err := getJSON(tx.Bucket(bucketMFA), []byte(fp), &rec)
		if errors.Is(err, errNotFound) {
			return nil
		}
		return err
	})
	return rec, err
}

func (s *Store) updateMFA(fp string, f func(*mfaRecord)) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMFA)
		var rec mfaRecord
		if err := getJSON(b, []byte(fp), &rec); err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		f(&rec)
		return putJSON(b, []byte(fp), rec)
	})
}

// mfaStates adapts the store to mfa.Store: replay and lockout state is kept
// with the operator's secret, durably, before Verify returns.
type mfaStates struct{ s *Store }

func (m mfaStates) Load(fp string) (mfa.State, error) {
	rec, err := m.s.mfaRecord(fp)
	return rec.State, err
}

func (m mfaStates) Save(fp string, st mfa.State) error {
	return m.s.updateMFA(fp, func(r *mfaRecord) { r.State = st })
}

// MFAStatus is GET /v1/mfa.
type MFAStatus struct {
	Operator    string     `json:"operator"`
	Enrolled    bool       `json:"enrolled"`
	EnrolledAt  *time.Time `json:"enrolled_at,omitempty"`
	Pending     bool       `json:"pending"` // an enrolment waits for its first code
	LockedUntil *time.Time `json:"locked_until,omitempty"`
}

// Enrollment is the answer to POST /v1/mfa/enroll: the secret, shown once.
type Enrollment struct {
	Account string `json:"account"`
	Issuer  string `json:"issuer"`
	Secret  string `json:"secret"`
	URI     string `json:"uri"`
}

// String keeps the secret out of logs and error messages.
func (e Enrollment) String() string { return "TOTP enrolment for " + e.Account + " [secret redacted]" }

// mfaEnroll is POST /v1/mfa/enroll: a new secret for the caller, active
// once confirmed with a first code. Replacing a confirmed secret needs a
// code from it.
func (s *Server) mfaEnroll(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if p.Via != ViaIdentity {
		return &apiError{status: http.StatusForbidden, code: "identity_required",
			msg: "enrol TOTP with your identity (paratro mfa enroll), not with an API key"}
	}
	rec, err := s.store.mfaRecord(p.Member.Fingerprint)
	if err != nil {
		return err
	}
	if rec.Sealed != nil {
		if err := s.checkOTP(r, p, "mfa.re-enroll"); err != nil {
			return err
		}
	}
	en, err := mfa.Enroll(p.Member.Name, s.cfg.Issuer)
	if err != nil {
		return err
	}
	sealed, err := mfa.Seal(s.store.secretsKey, p.Member.Fingerprint, en.Secret())
	if err != nil {
		return err
	}
	now := s.cfg.Now().UTC()
	if err := s.store.updateMFA(p.Member.Fingerprint, func(r *mfaRecord) { r.Pending, r.PendingFrom = sealed, now }); err != nil {
		return err
	}
	s.audit(audit.Entry{Event: audit.EventMFAEnrollStarted, Actor: p.Label()})
	writeJSON(w, http.StatusCreated, Enrollment{Account: en.Account, Issuer: en.Issuer, Secret: en.Secret(), URI: en.URI()})
	return nil
}

// mfaConfirm is POST /v1/mfa/confirm: the first code from a new enrolment
// (in the Paratro-OTP header) makes it the caller's second factor.
func (s *Server) mfaConfirm(w http.ResponseWriter, r *http.Request, p *Principal) error {
	fp := p.Member.Fingerprint
	rec, err := s.store.mfaRecord(fp)
	if err != nil {
		return err
	}
	if rec.Pending == nil {
		return &apiError{status: http.StatusConflict, code: "no_enrolment", msg: "no TOTP enrolment is waiting for confirmation: run paratro mfa enroll"}
	}
	secret, err := mfa.Open(s.store.secretsKey, fp, rec.Pending)
	if err != nil {
		return err
	}
	if err := s.verifyCode(r, p, secret, "mfa.confirm"); err != nil {
		return err
	}
	now := s.cfg.Now().UTC()
	if err := s.store.updateMFA(fp, func(r *mfaRecord) {
		r.Sealed, r.Pending, r.EnrolledAt, r.PendingFrom = r.Pending, nil, now, time.Time{}
	}); err != nil {
		return err
	}
	s.audit(audit.Entry{Event: audit.EventMFAEnrolled, Actor: p.Label()})
	return s.mfaStatus(w, r, p)
}

// mfaStatus is GET /v1/mfa.
func (s *Server) mfaStatus(w http.ResponseWriter, _ *http.Request, p *Principal) error {
	st, err := s.mfaStatusOf(p.Member)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) mfaStatusOf(m Member) (MFAStatus, error) {
	rec, err := s.store.mfaRecord(m.Fingerprint)
	if err != nil {
		return MFAStatus{}, err
	}
	st := MFAStatus{Operator: m.Name, Enrolled: rec.Sealed != nil, Pending: rec.Pending != nil}
	if st.Enrolled {
		st.EnrolledAt = &rec.EnrolledAt
	}
	if rec.State.LockedUntil.After(s.cfg.Now()) {
		st.LockedUntil = &rec.State.LockedUntil
	}
	return st, nil
}

// checkOTP verifies the caller's code for operation op (the Paratro-OTP
// header) against their enrolled secret, and audits the check.
func (s *Server) checkOTP(r *http.Request, p *Principal, op string) error {
	rec, err := s.store.mfaRecord(p.Member.Fingerprint)
	if err != nil {
		return err
	}
	if rec.Sealed == nil {
		s.audit(audit.Entry{Event: audit.EventMFAFailed, Actor: p.Label(), Outcome: "refused", Detail: op + ": not enrolled"})
		return &apiError{status: http.StatusForbidden, code: "mfa_not_enrolled",
			msg: fmt.Sprintf("%s needs a TOTP code and %s has not enrolled one: run paratro mfa enroll", op, p.Member.Name)}
	}
	secret, err := mfa.Open(s.store.secretsKey, p.Member.Fingerprint, rec.Sealed)
	if err != nil {
		return err
	}
	return s.verifyCode(r, p, secret, op)
}

// verifyCode checks the request's code against secret and audits it.
func (s *Server) verifyCode(r *http.Request, p *Principal, secret, op string) error {
	code := r.Header.Get(HeaderOTP)
	if code == "" {
		code = p.otp
	}
	if code == "" {
		return &apiError{status: http.StatusUnauthorized, code: "mfa_required",
			msg: op + " needs a TOTP code: send it in the Paratro-OTP header (paratro prompts for it, or reads PARATRO_OTP or --otp-stdin)"}
	}
	err := s.verifier.Verify(p.Member.Fingerprint, secret, code, s.cfg.Now())
	entry := audit.Entry{Actor: p.Label(), Detail: op}
	var ae *apiError
	switch {
	case err == nil:
		entry.Event, entry.Outcome = audit.EventMFAVerified, "ok"
	case errors.Is(err, mfa.ErrReused):
		entry.Event, entry.Outcome = audit.EventMFAReused, "refused"
		ae = &apiError{status: http.StatusUnauthorized, code: "mfa_reused", msg: err.Error()}
	case errors.Is(err, mfa.ErrLockedOut):
		entry.Event, entry.Outcome = audit.EventMFALockedOut, "refused"
		ae = &apiError{status: http.StatusForbidden, code: "mfa_locked", msg: err.Error() + "; ask an owner if this was not you"}
	case errors.Is(err, mfa.ErrInvalidCode):
		entry.Event, entry.Outcome = audit.EventMFAFailed, "refused"
		ae = &apiError{status: http.StatusUnauthorized, code: "mfa_invalid", msg: err.Error()}
	default:
		return err
	}
	s.audit(entry)
	if ae != nil {
		s.log.Warn("mfa refused", "identity", p.Member.Fingerprint, "operation", op, "reason", ae.code)
		return ae
	}
	return nil
}
