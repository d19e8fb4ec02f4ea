package control

import (
	"errors"
	"net/http"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/relay"
)

// Kinds of action.
const actionRotate = "rotate-keys"

// awaitMFA keeps an operation asked for without a TOTP code as an action
// that the same operator confirms with one, and answers 202 awaiting_mfa.
func (p *Plane) awaitMFA(w http.ResponseWriter, pr *relay.Principal, kind string, wal *Wallet) error {
	now := p.now()
	rec := actionRecord{Action: Action{ID: newID("act"), Kind: kind, Wallet: wal.ID, Status: ActionPending, ExpiresAt: now.Add(ActionTTL)},
		Operator: pr.Member.Fingerprint, OperatorName: pr.Member.Name, CreatedAt: now}
	rec.Confirm = "POST /v1/actions/" + rec.ID + "/confirm"
	if err := p.st.Update(func(tx *bolt.Tx) error { return put(tx, bucketActions, rec.ID, &rec) }); err != nil {
		return err
	}
	p.audit(audit.Entry{Event: audit.EventRotateRequested, Actor: pr.Label(), Wallet: wal.ID, Kind: "refresh",
		Outcome: "awaiting_mfa", Detail: rec.ID})
	relay.WriteJSON(w, http.StatusAccepted, map[string]any{
		"status": "awaiting_mfa",
		"action": rec.Action,
		"message": kind + " needs your TOTP code: within " + ActionTTL.String() + ", " + rec.Confirm +
			` with {"otp": "123456"} (or the code in the Paratro-OTP header)`,
	})
	return nil
}

// getAction is GET /v1/actions/{id}: one of the caller's actions.
func (p *Plane) getAction(w http.ResponseWriter, r *http.Request, pr *relay.Principal) error {
	rec, err := p.action(r.PathValue("id"), pr)
	if err != nil {
		return err
	}
	relay.WriteJSON(w, http.StatusOK, p.actionView(rec))
	return nil
}

// confirmAction is POST /v1/actions/{id}/confirm: the TOTP code (body
// {"otp": "..."} or the Paratro-OTP header) of the operator who asked
// starts the action.
func (p *Plane) confirmAction(w http.ResponseWriter, r *http.Request, pr *relay.Principal) error {
	var body struct {
		OTP string `json:"otp"`
	}
	if err := relay.DecodeJSON(pr, &body, true, "otp"); err != nil {
		return err
	}
	rec, err := p.action(r.PathValue("id"), pr)
	if err != nil {
		return err
	}
	if err := p.confirmable(rec, pr); err != nil {
		return err
	}
	wal, err := p.wallet(rec.Wallet)
	if err != nil {
		return err
	}
	if err := usable(wal, "rotate its keys"); err != nil {
		return err
	}
	if body.OTP != "" {
		pr.SetOTP(body.OTP)
	}
	if err := p.srv.CheckOTP(r, pr, rec.Kind+" "+rec.Wallet); err != nil {
		return err
	}
	if err := p.markConfirmed(rec.ID); err != nil {
		return err
	}
	p.audit(audit.Entry{Event: audit.EventActionConfirmed, Actor: pr.Label(), Wallet: rec.Wallet, Outcome: "ok", Detail: rec.ID + " " + rec.Kind})
	return p.rotate(r.Context(), w, pr, rec.Wallet)
}

// action is the caller's action id; others' are not found.
func (p *Plane) action(id string, pr *relay.Principal) (*actionRecord, error) {
	var rec actionRecord
	err := p.st.View(func(tx *bolt.Tx) error { return get(tx, bucketActions, id, &rec) })
	if errors.Is(err, errNotFound) || (err == nil && rec.Operator != pr.Member.Fingerprint) {
		return nil, relay.Errorf(http.StatusNotFound, "not_found", "no action %q of yours: actions are confirmed by the operator who asked for them", clip(id))
	}
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// confirmable refuses an action that was used, has expired, or whose
// operator lost the role it needs.
func (p *Plane) confirmable(rec *actionRecord, pr *relay.Principal) error {
	switch {
	case rec.Status == ActionConfirmed:
		return relay.Errorf(http.StatusConflict, "action_done", "action %s was confirmed already", rec.ID)
	case !p.now().Before(rec.ExpiresAt):
		return relay.Errorf(http.StatusGone, "action_expired", "action %s expired at %s: ask again (POST /v1/wallets/%s/%s)",
			rec.ID, rec.ExpiresAt.Format("2006-01-02T15:04:05Z"), rec.Wallet, rec.Kind)
	case !pr.Member.Role.AtLeast(relay.RoleAdmin):
		return relay.Errorf(http.StatusForbidden, "forbidden", "%s needs the admin role; %s is %s", rec.Kind, pr.Member.Name, pr.Member.Role)
	}
	return nil
}

// markConfirmed uses action id, once.
func (p *Plane) markConfirmed(id string) error {
	return p.st.Update(func(tx *bolt.Tx) error {
		var rec actionRecord
		if err := get(tx, bucketActions, id, &rec); err != nil {
			return err
		}
		if rec.Status != ActionPending {
			return relay.Errorf(http.StatusConflict, "action_done", "action %s was confirmed already", id)
		}
		now := p.now()
		rec.Status, rec.ConfirmedAt = ActionConfirmed, &now
		return put(tx, bucketActions, id, &rec)
	})
}

// actionView is the action as shown: "expired" once past its time.
func (p *Plane) actionView(rec *actionRecord) Action {
	a := rec.Action
	if a.Status == ActionPending && !p.now().Before(a.ExpiresAt) {
		a.Status = "expired"
	}
	return a
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
