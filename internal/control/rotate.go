package control

import (
	"context"
	"net/http"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/relay"
)

// rotateKeys is POST /v1/wallets/{id}/rotate-keys (admin, TOTP): with a
// code in the Paratro-OTP header the refresh starts now; without one, the
// request waits as an action for the same operator to confirm with a
// code (POST /v1/actions/{id}/confirm) within ActionTTL.
func (p *Plane) rotateKeys(w http.ResponseWriter, r *http.Request, pr *relay.Principal) error {
	if err := relay.DecodeJSON(pr, &struct{}{}, true, "none"); err != nil {
		return err
	}
	wal, err := p.wallet(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := usable(wal, "rotate its keys"); err != nil {
		p.refused(pr, audit.EventRotateRequested, wal.ID, err)
		return err
	}
	op := actionRotate + " " + wal.ID
	if r.Header.Get(relay.HeaderOTP) == "" {
		enrolled, err := p.enrolled(r.Context(), pr)
		if err != nil {
			return err
		}
		if !enrolled {
			if err := p.srv.CheckOTP(r, pr, op); err != nil {
				return err // mfa_not_enrolled, audited
			}
		}
		return p.awaitMFA(w, pr, actionRotate, wal)
	}
	if err := p.srv.CheckOTP(r, pr, op); err != nil {
		return err
	}
	return p.rotate(r.Context(), w, pr, wal.ID)
}

// rotate starts the refresh of wallet id, its TOTP code checked.
func (p *Plane) rotate(ctx context.Context, w http.ResponseWriter, pr *relay.Principal, id string) error {
	dir, err := p.directory(ctx)
	if err != nil {
		return err
	}
	wal, err := p.wallet(id)
	if err != nil {
		return err
	}
	parties, err := dir.identities(wal)
	if err != nil {
		return err
	}
	now := p.now()
	rot := Rotation{ID: newID("rot"), Status: RotationRunning, FromEpoch: wal.Epoch, RequestedBy: pr.Label(),
		StartedAt: now, Deadline: now.Add(p.opts.CeremonyTimeout)}
	wal, err = p.updateWallet(id, func(w *Wallet) error {
		if err := usable(w, "rotate its keys"); err != nil {
			return err
		}
		if w.Epoch != rot.FromEpoch {
			return relay.Errorf(http.StatusConflict, "busy", "wallet %s changed epoch meanwhile: try again", w.ID)
		}
		w.Status, w.Rotation = StatusRotating, &rot
		return nil
	})
	if err != nil {
		return walletError(id, err)
	}
	p.audit(audit.Entry{Event: audit.EventRotateRequested, Actor: pr.Label(), Wallet: wal.ID, Kind: "refresh", Parties: labels(wal.Parties),
		Outcome: "accepted", Detail: rot.ID + ": from epoch " + itoa(rot.FromEpoch)})
	req := &coord.Request{Kind: ceremony.KindRefresh, Scheme: ceremony.Scheme(wal.Scheme), WalletID: wal.ID, WalletName: wal.Name,
		Chain: wal.Chain, Parties: parties, Required: wal.Threshold.Required, Epoch: wal.Epoch, ConfigDigest: wal.ConfigDigest,
		Operator: pr.Label(), Deadline: rot.Deadline, CreatedAt: now}
	cid, err := p.launch(rot.ID, req, func(res result) {
		if res.err != nil {
			p.finishRefresh(wal.ID, res.ceremony, rot.FromEpoch, nil, failureOf(res.err))
			return
		}
		p.finishRefresh(wal.ID, res.ceremony, rot.FromEpoch, res.report.Result(), failure{})
	})
	if err != nil {
		p.finishRefresh(wal.ID, "", rot.FromEpoch, nil, failure{msg: "the refresh could not be posted: " + err.Error()})
		return err
	}
	rot.CeremonyID = cid
	wal.Rotation = &rot
	relay.WriteJSON(w, http.StatusAccepted, map[string]any{"wallet": wal, "rotation": rot})
	return nil
}

// enrolled reports whether the principal's operator has confirmed TOTP.
func (p *Plane) enrolled(ctx context.Context, pr *relay.Principal) (bool, error) {
	dir, err := p.directory(ctx)
	if err != nil {
		return false, err
	}
	op, ok := dir.operator(pr.Member.Fingerprint)
	return ok && op.MFA.Enrolled, nil
}
