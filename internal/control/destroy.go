package control

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/relay"
)

// destroyAnswer is the answer to POST /v1/wallets/{id}/destroy.
type destroyAnswer struct {
	Status    string   `json:"status"` // destroy_pending or destroyed
	Wallet    string   `json:"wallet"`
	Approvals []string `json:"approvals"` // owners' names, in order
	Needed    int      `json:"needed"`
	// Erasure, once destroyed: the parties are asked to erase their shares.
	Erasure *Erasure `json:"erasure,omitempty"`
}

// errDuplicate is an owner approving the same destruction twice.
var errDuplicate = errors.New("duplicate approval")

// destroy is POST /v1/wallets/{id}/destroy (owner, TOTP): each call is
// one owner's approval; the wallet is destroyed when DestroyApprovals
// distinct owners approved within DestroyApprovalTTL. The same owner twice
// is refused (409 duplicate_approval) and audited. A destroyed wallet
// takes part in no more ceremonies, its pending backup exports are
// cancelled and its released ones flagged for destruction in the audit
// log, and the relay asks every party to erase its share (a "destroy"
// request; see erase.go).
func (p *Plane) destroy(w http.ResponseWriter, r *http.Request, pr *relay.Principal) error {
	if err := relay.DecodeJSON(pr, &struct{}{}, true, "none"); err != nil {
		return err
	}
	wal, err := p.wallet(r.PathValue("id"))
	if err != nil {
		return err
	}
	if wal.Status == StatusDestroyed {
		return destroyedError(wal)
	}
	if err := p.srv.CheckOTP(r, pr, "destroy "+wal.ID); err != nil {
		return err
	}
	dir, err := p.directory(r.Context())
	if err != nil {
		return err
	}
	var cancelled, flagged []BackupExport
	err = p.st.Update(func(tx *bolt.Tx) error {
		var cur Wallet
		if err := get(tx, bucketWallets, wal.ID, &cur); err != nil {
			return err
		}
		*wal = cur
		if err := p.approveDestroy(wal, pr); err != nil {
			return err
		}
		if wal.Status == StatusDestroyed {
			var err error
			if cancelled, err = p.cancelBackupsOf(tx, wal.ID); err != nil {
				return err
			}
			if flagged, err = p.flagBackups(tx, wal.ID); err != nil {
				return err
			}
		}
		if err := p.notifyTx(tx, dir.owners(pr.Member.Fingerprint), destroyNotice(wal, pr)); err != nil {
			return err
		}
		return put(tx, bucketWallets, wal.ID, wal)
	})
	switch {
	case errors.Is(err, errDuplicate):
		return p.duplicateApproval(pr, wal)
	case err != nil:
		return walletError(wal.ID, err)
	}
	p.auditDestroy(pr, wal, cancelled)
	if wal.Status == StatusDestroyed {
		p.auditFlagged(pr, wal.ID, flagged)
		p.startErasure(r.Context(), pr, wal)
		if cur, err := p.wallet(wal.ID); err == nil {
			wal = cur
		}
	}
	ans := destroyAnswer{Status: "destroy_pending", Wallet: wal.ID, Needed: wal.Destroy.Needed}
	for _, a := range wal.Destroy.Approvals {
		ans.Approvals = append(ans.Approvals, a.Name)
	}
	status := http.StatusAccepted
	if wal.Status == StatusDestroyed {
		ans.Status, ans.Erasure, status = StatusDestroyed, wal.Erasure, http.StatusOK
	}
	relay.WriteJSON(w, status, ans)
	return nil
}

// approveDestroy adds pr's approval to w (dropping approvals older than
// DestroyApprovalTTL) and destroys it once enough owners approved.
func (p *Plane) approveDestroy(w *Wallet, pr *relay.Principal) error {
	if w.Status == StatusDestroyed {
		return destroyedError(w)
	}
	now := p.now()
	if w.Destroy == nil {
		w.Destroy = &Destroy{Needed: p.opts.DestroyApprovals}
	}
	w.Destroy.Approvals = slices.DeleteFunc(w.Destroy.Approvals, func(a Approval) bool { return now.Sub(a.At) > DestroyApprovalTTL })
	if slices.ContainsFunc(w.Destroy.Approvals, func(a Approval) bool { return a.Fingerprint == pr.Member.Fingerprint }) {
		return errDuplicate
	}
	w.Destroy.Approvals = append(w.Destroy.Approvals, Approval{Name: pr.Member.Name, Fingerprint: pr.Member.Fingerprint, At: now})
	w.UpdatedAt = now
	if len(w.Destroy.Approvals) >= w.Destroy.Needed {
		w.Status, w.DestroyedAt = StatusDestroyed, &now
	}
	return nil
}

// duplicateApproval audits and refuses an owner's second approval.
func (p *Plane) duplicateApproval(pr *relay.Principal, w *Wallet) error {
	err := relay.Errorf(http.StatusConflict, "duplicate_approval",
		"%s already approved destroying wallet %s: it needs %d distinct owners, so another owner must approve (nothing changed)",
		pr.Member.Name, w.ID, p.opts.DestroyApprovals)
	p.audit(audit.Entry{Event: audit.EventDestroyApproved, Actor: pr.Label(), Wallet: w.ID, Outcome: "refused",
		Detail: "duplicate approval: the same owner approved twice"})
	return err
}

// auditDestroy records an approval, and the destruction it completed.
func (p *Plane) auditDestroy(pr *relay.Principal, w *Wallet, cancelled []BackupExport) {
	d := w.Destroy
	p.audit(audit.Entry{Event: audit.EventDestroyApproved, Actor: pr.Label(), Wallet: w.ID, Outcome: "ok",
		Detail: fmt.Sprintf("approval %d of %d", len(d.Approvals), d.Needed)})
	if w.Status != StatusDestroyed {
		return
	}
	var owners []string
	for _, a := range d.Approvals {
		owners = append(owners, a.Name+" ("+a.Fingerprint+")")
	}
	p.audit(audit.Entry{Event: audit.EventDestroyed, Actor: pr.Label(), Wallet: w.ID, Parties: owners, Outcome: "ok",
		Detail: "approved by " + strings.Join(owners, ", ") + "; the parties are asked to erase their shares"})
	for _, b := range cancelled {
		p.audit(audit.Entry{Event: audit.EventBackupCancelled, Actor: pr.Label(), Wallet: w.ID, Outcome: "cancelled",
			Detail: b.ID + ": the wallet was destroyed"})
	}
	p.log.Info("wallet destroyed", "wallet", w.ID)
}

// destroyNotice tells the other owners about an approval.
func destroyNotice(w *Wallet, pr *relay.Principal) Notification {
	n := Notification{Kind: audit.EventDestroyApproved, Wallet: w.ID, Subject: w.ID}
	if w.Status == StatusDestroyed {
		n.Kind = audit.EventDestroyed
		n.Message = fmt.Sprintf("wallet %s (%s) was destroyed: %s gave the last approval", w.ID, w.Name, pr.Member.Name)
	} else {
		n.Message = fmt.Sprintf("%s approved destroying wallet %s (%s): %d more owner approval(s) within %s destroy it (POST /v1/wallets/%s/destroy)",
			pr.Member.Name, w.ID, w.Name, w.Destroy.Needed-len(w.Destroy.Approvals), DestroyApprovalTTL, w.ID)
	}
	return n
}
