package control

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/coord"
)

// finishKeygen settles wallet walletID's DKG in ceremony cid: active with
// the key every party agreed on (o), or failed (f). Both the plane's own
// runs and the hooks (for ceremonies started from the CLI, or settled
// after a relay restart) call it; the first to settle the wallet audits
// it, and the runner's fuller failure text replaces the hook's.
func (p *Plane) finishKeygen(walletID, cid string, o *coord.Outcome, f failure, fromRunner bool) {
	transition := false
	wal, ok := p.settle(walletID, func(w *Wallet) error {
		if w.CeremonyID != "" && w.CeremonyID != cid {
			return errUnchanged
		}
		switch {
		case w.Status == StatusCreating && o != nil:
			pub, err := hex.DecodeString(o.PublicKey)
			if err != nil || len(pub) == 0 {
				return errUnchanged
			}
			w.Status, w.PublicKey, w.ConfigDigest, w.Epoch = StatusActive, o.PublicKey, o.ConfigDigest, max(o.Epoch, 1)
			w.Address = addressFor(w.Chain, ceremony.Scheme(w.Scheme), pub)
		case w.Status == StatusCreating && o == nil:
			w.Status = StatusFailed
			w.Error, w.Blamed = f.msg, f.blamed
		case w.Status == StatusFailed && o == nil && fromRunner && w.CeremonyID == cid:
			w.Error, w.Blamed = f.msg, f.blamed
			return nil
		default:
			return errUnchanged
		}
		transition = true
		w.CeremonyID, w.Deadline = cid, time.Time{}
		return nil
	})
	if !ok || !transition {
		return
	}
	e := audit.Entry{Actor: wal.CreatedBy, Wallet: wal.ID, Ceremony: cid, Kind: "keygen", Parties: labels(wal.Parties)}
	if wal.Status == StatusActive {
		e.Event, e.Outcome = audit.EventWalletCreated, "ok"
		e.Detail = fmt.Sprintf("epoch=%d public_key=%s address=%s", wal.Epoch, wal.PublicKey, wal.Address)
		p.log.Info("wallet created", "wallet", wal.ID, "ceremony", cid)
	} else {
		e.Event, e.Outcome, e.Culprits, e.Detail = audit.EventWalletFailed, "failed", wal.Blamed, wal.Error
		p.log.Warn("wallet creation failed", "wallet", wal.ID, "ceremony", cid, "blamed", wal.Blamed)
	}
	p.audit(e)
}

// finishRefresh settles a refresh of wallet walletID from epoch from in
// ceremony cid: the new epoch (the public key must not change), or a
// failed rotation (the parties keep the previous epoch).
func (p *Plane) finishRefresh(walletID, cid string, from uint64, o *coord.Outcome, f failure) {
	var rot Rotation
	wal, ok := p.settle(walletID, func(w *Wallet) error {
		r := w.Rotation
		if r == nil || r.CeremonyID != cid || r.Status != RotationRunning {
			r = nil // a refresh this plane did not see begin: only the epoch moves
		}
		if o != nil && (w.Epoch != from || w.Status == StatusDestroyed) && r == nil {
			return errUnchanged
		}
		if o == nil && r == nil {
			return errUnchanged
		}
		now := p.now()
		switch {
		case o != nil && o.PublicKey != w.PublicKey:
			f = failure{msg: "the parties report a different public key after the refresh (" + o.PublicKey + "): do not use this wallet until its shares are checked"}
			w.Status, w.Error = StatusFailed, "rotate-keys: "+f.msg
		case o != nil:
			w.Epoch, w.ConfigDigest = max(o.Epoch, from+1), o.ConfigDigest
			if r != nil {
				r.ToEpoch = w.Epoch
			}
		}
		if r != nil && w.Status == StatusRotating {
			w.Status = StatusActive
		}
		if r != nil {
			r.Status, r.FinishedAt, r.Error = RotationDone, &now, ""
			if o == nil || f.msg != "" {
				r.Status, r.Error = RotationFailed, f.msg
			}
			rot = *r
		}
		return nil
	})
	if !ok || rot.ID == "" {
		return
	}
	e := audit.Entry{Event: audit.EventRotated, Actor: rot.RequestedBy, Wallet: wal.ID, Ceremony: cid, Kind: "refresh",
		Parties: labels(wal.Parties), Outcome: "ok", Detail: fmt.Sprintf("%s: epoch %d -> %d, public key unchanged", rot.ID, from, rot.ToEpoch)}
	if rot.Status == RotationFailed {
		e.Outcome, e.Culprits, e.Detail = "failed", f.blamed, rot.ID+": "+rot.Error
	}
	p.audit(e)
}

// addressFor is the wallet's address on its chain (coord.AddressOf).
func addressFor(chain string, scheme ceremony.Scheme, pub []byte) string {
	return coord.AddressOf(chain, scheme, pub)
}
