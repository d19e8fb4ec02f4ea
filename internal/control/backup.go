package control

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/relay"
)

// backupRequest is the body of POST /v1/wallets/{id}/backup-exports.
type backupRequest struct {
	Party string `json:"party,omitempty"` // name or fingerprint; default: the caller
}

// requestBackup is POST /v1/wallets/{id}/backup-exports (owner, TOTP):
// ask to export a party's share backup. The export is released
// BackupDelay later unless an owner cancels it meanwhile; the other owners
// are notified at once.
func (p *Plane) requestBackup(w http.ResponseWriter, r *http.Request, pr *relay.Principal) error {
	var body backupRequest
	if err := relay.DecodeJSON(pr, &body, true, "party"); err != nil {
		return err
	}
	wal, err := p.wallet(r.PathValue("id"))
	if err != nil {
		return err
	}
	party, err := backupParty(wal, body.Party, pr)
	if err != nil {
		p.refused(pr, audit.EventBackupRequested, wal.ID, err)
		return err
	}
	if err := p.srv.CheckOTP(r, pr, "backup export "+wal.ID); err != nil {
		return err
	}
	dir, err := p.directory(r.Context())
	if err != nil {
		return err
	}
	now := p.now()
	bex := BackupExport{ID: newID("bex"), Wallet: wal.ID, Party: party, Status: BackupPending, RequestedBy: pr.Label(),
		RequesterFingerprint: pr.Member.Fingerprint, CreatedAt: now, AvailableAt: now.Add(p.opts.BackupDelay)}
	notice := Notification{Kind: audit.EventBackupRequested, Wallet: wal.ID, Subject: bex.ID,
		Message: fmt.Sprintf("%s asked to export %s's share backup of wallet %s (%s); it is released at %s unless an owner cancels it: DELETE /v1/backup-exports/%s",
			pr.Member.Name, party.Name, wal.ID, wal.Name, bex.AvailableAt.Format("2006-01-02T15:04:05Z"), bex.ID)}
	err = p.st.Update(func(tx *bolt.Tx) error {
		if err := put(tx, bucketBackups, bex.ID, &bex); err != nil {
			return err
		}
		return p.notifyTx(tx, dir.owners(pr.Member.Fingerprint), notice)
	})
	if err != nil {
		return err
	}
	p.audit(audit.Entry{Event: audit.EventBackupRequested, Actor: pr.Label(), Wallet: wal.ID, Parties: labels([]Party{party}),
		Outcome: "pending", Detail: bex.ID + " available at " + bex.AvailableAt.Format("2006-01-02T15:04:05Z")})
	relay.WriteJSON(w, http.StatusAccepted, bex)
	return nil
}

// backupParty is the party whose share backup is asked for: who, or the
// caller; it must hold a share of a wallet that has them.
func backupParty(w *Wallet, who string, pr *relay.Principal) (Party, error) {
	switch w.Status {
	case StatusDestroyed:
		return Party{}, destroyedError(w)
	case StatusCreating, StatusFailed:
		return Party{}, relay.Errorf(http.StatusConflict, "not_ready", "wallet %s is %s: its parties hold no share to back up", w.ID, w.Status)
	}
	if who == "" {
		q, ok := findParty(w, pr.Member.Fingerprint)
		if !ok {
			return Party{}, relay.Errorf(http.StatusBadRequest, "not_a_party",
				`%s holds no share of wallet %s: name the party whose share to export, "party": one of %s`, pr.Member.Name, w.ID, partyNames(w))
		}
		return q, nil
	}
	q, ok := findParty(w, who)
	if !ok {
		return Party{}, relay.Errorf(http.StatusBadRequest, "not_a_party", "%q holds no share of wallet %s: its parties are %s", clip(who), w.ID, partyNames(w))
	}
	return q, nil
}

// listBackups is GET /v1/backup-exports[?wallet=]: newest first.
func (p *Plane) listBackups(w http.ResponseWriter, r *http.Request, _ *relay.Principal) error {
	p.releaseDue()
	var out []BackupExport
	err := p.st.View(func(tx *bolt.Tx) error {
		var err error
		out, err = all[BackupExport](tx, bucketBackups)
		return err
	})
	if err != nil {
		return err
	}
	if wallet := r.URL.Query().Get("wallet"); wallet != "" {
		out = slices.DeleteFunc(out, func(b BackupExport) bool { return b.Wallet != wallet })
	}
	slices.SortStableFunc(out, func(a, b BackupExport) int { return b.CreatedAt.Compare(a.CreatedAt) })
	relay.WriteJSON(w, http.StatusOK, map[string]any{"backup_exports": out})
	return nil
}

// getBackup is GET /v1/backup-exports/{id}.
func (p *Plane) getBackup(w http.ResponseWriter, r *http.Request, _ *relay.Principal) error {
	p.releaseDue()
	var bex BackupExport
	err := p.st.View(func(tx *bolt.Tx) error { return get(tx, bucketBackups, r.PathValue("id"), &bex) })
	if err != nil {
		return backupError(r.PathValue("id"), err)
	}
	relay.WriteJSON(w, http.StatusOK, bex)
	return nil
}

// cancelBackup is DELETE /v1/backup-exports/{id} (any owner): a pending
// export is cancelled for good; the requester and the other owners are told.
func (p *Plane) cancelBackup(w http.ResponseWriter, r *http.Request, pr *relay.Principal) error {
	p.releaseDue()
	dir, err := p.directory(r.Context())
	if err != nil {
		return err
	}
	var bex BackupExport
	err = p.st.Update(func(tx *bolt.Tx) error {
		if err := get(tx, bucketBackups, r.PathValue("id"), &bex); err != nil {
			return err
		}
		switch bex.Status {
		case BackupCancelled:
			return relay.Errorf(http.StatusConflict, "already_cancelled", "backup export %s was cancelled already, by %s", bex.ID, bex.CancelledBy)
		case BackupExported:
			return relay.Errorf(http.StatusConflict, "already_exported",
				"backup export %s was written to a file already: if this was unexpected, rotate the wallet's keys", bex.ID)
		case BackupReady:
			return relay.Errorf(http.StatusConflict, "already_released",
				"backup export %s was released at %s: cancelling no longer stops it; if this was unexpected, rotate the wallet's keys", bex.ID, bex.AvailableAt.Format("2006-01-02T15:04:05Z"))
		}
		now := p.now()
		bex.Status, bex.CancelledAt, bex.CancelledBy = BackupCancelled, &now, pr.Label()
		if err := put(tx, bucketBackups, bex.ID, &bex); err != nil {
			return err
		}
		to := dir.owners(pr.Member.Fingerprint)
		if bex.RequesterFingerprint != pr.Member.Fingerprint && !slices.Contains(to, bex.RequesterFingerprint) {
			to = append(to, bex.RequesterFingerprint)
		}
		return p.notifyTx(tx, to, Notification{Kind: audit.EventBackupCancelled, Wallet: bex.Wallet, Subject: bex.ID,
			Message: fmt.Sprintf("%s cancelled backup export %s of %s's share of wallet %s", pr.Member.Name, bex.ID, bex.Party.Name, bex.Wallet)})
	})
	if err != nil {
		return backupError(r.PathValue("id"), err)
	}
	p.audit(audit.Entry{Event: audit.EventBackupCancelled, Actor: pr.Label(), Wallet: bex.Wallet, Parties: labels([]Party{bex.Party}),
		Outcome: "cancelled", Detail: bex.ID + " requested by " + bex.RequestedBy})
	relay.WriteJSON(w, http.StatusOK, bex)
	return nil
}

// BackupExported is the status of a released export once its requester
// wrote the file (POST /v1/backup-exports/{id}/complete): it is used up.
const BackupExported = "exported"

// completeBackup is POST /v1/backup-exports/{id}/complete (its requester
// only): the released export was written to a file, so it is used up
// (ready → exported) and another file needs another request and delay.
func (p *Plane) completeBackup(w http.ResponseWriter, r *http.Request, pr *relay.Principal) error {
	p.releaseDue()
	var bex BackupExport
	err := p.st.Update(func(tx *bolt.Tx) error {
		if err := get(tx, bucketBackups, r.PathValue("id"), &bex); err != nil {
			return err
		}
		if bex.RequesterFingerprint != pr.Member.Fingerprint {
			return relay.Errorf(http.StatusForbidden, "forbidden", "backup export %s was requested by %s: only they may complete it", bex.ID, bex.RequestedBy)
		}
		if bex.Status != BackupReady {
			return relay.Errorf(http.StatusConflict, "not_ready", "backup export %s is %s, not ready: only a released export can be completed, once", bex.ID, bex.Status)
		}
		var wal Wallet
		if err := get(tx, bucketWallets, bex.Wallet, &wal); err == nil && wal.Status == StatusDestroyed {
			return destroyedError(&wal)
		}
		now := p.now()
		bex.Status, bex.ExportedAt = BackupExported, &now
		return put(tx, bucketBackups, bex.ID, &bex)
	})
	if err != nil {
		if !errors.Is(err, errNotFound) {
			p.refused(pr, audit.EventBackupExported, bex.Wallet, err)
		}
		return backupError(r.PathValue("id"), err)
	}
	p.audit(audit.Entry{Event: audit.EventBackupExported, Actor: pr.Label(), Wallet: bex.Wallet, Parties: labels([]Party{bex.Party}),
		Outcome: "ok", Detail: bex.ID + " written to a file"})
	relay.WriteJSON(w, http.StatusOK, bex)
	return nil
}

func backupError(id string, err error) error {
	if errors.Is(err, errNotFound) {
		return relay.Errorf(http.StatusNotFound, "not_found", "no backup export %q: GET /v1/backup-exports lists them", clip(id))
	}
	return err
}

// cancelBackupsOf cancels the pending exports of a destroyed wallet.
func (p *Plane) cancelBackupsOf(tx *bolt.Tx, wallet string) ([]BackupExport, error) {
	list, err := all[BackupExport](tx, bucketBackups)
	if err != nil {
		return nil, err
	}
	var out []BackupExport
	now := p.now()
	for _, b := range list {
		if b.Wallet != wallet || b.Status != BackupPending {
			continue
		}
		b.Status, b.CancelledAt, b.CancelledBy = BackupCancelled, &now, "wallet destroyed"
		if err := put(tx, bucketBackups, b.ID, &b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// releaseDue releases the pending exports whose delay has passed, telling
// their requesters.
func (p *Plane) releaseDue() {
	now := p.now()
	// A read first: most calls find nothing due and need no write.
	due := false
	err := p.st.View(func(tx *bolt.Tx) error {
		list, err := all[BackupExport](tx, bucketBackups)
		due = slices.ContainsFunc(list, func(b BackupExport) bool { return b.Status == BackupPending && !now.Before(b.AvailableAt) })
		return err
	})
	if err != nil {
		p.log.Error("read backup exports", "err", err)
		return
	}
	if !due {
		return
	}
	var released []BackupExport
	err = p.st.Update(func(tx *bolt.Tx) error {
		list, err := all[BackupExport](tx, bucketBackups)
		if err != nil {
			return err
		}
		for _, b := range list {
			if b.Status != BackupPending || now.Before(b.AvailableAt) {
				continue
			}
			b.Status, b.ReleasedAt = BackupReady, &now
			if err := put(tx, bucketBackups, b.ID, &b); err != nil {
				return err
			}
			err := p.notifyTx(tx, []string{b.RequesterFingerprint}, Notification{Kind: audit.EventBackupReleased, Wallet: b.Wallet, Subject: b.ID,
				Message: fmt.Sprintf("backup export %s of %s's share of wallet %s is released: the holder may export it now", b.ID, b.Party.Name, b.Wallet)})
			if err != nil {
				return err
			}
			released = append(released, b)
		}
		return nil
	})
	if err != nil {
		p.log.Error("release backup exports", "err", err)
		return
	}
	for _, b := range released {
		p.audit(audit.Entry{Event: audit.EventBackupReleased, Actor: "relay", Wallet: b.Wallet, Parties: labels([]Party{b.Party}),
			Outcome: "ready", Detail: b.ID + " requested by " + b.RequestedBy})
	}
}
