package control

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// Erasure is the parties' erasure of a destroyed wallet's shares: the
// relay asks every party (a "destroy" request) and records each answer.
type Erasure struct {
	Status     string         `json:"status"` // running, done (every party erased), incomplete
	CeremonyID string         `json:"ceremony_id,omitempty"`
	StartedAt  time.Time      `json:"started_at"`
	Deadline   time.Time      `json:"deadline"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	Parties    []ErasureParty `json:"parties"`
	Error      string         `json:"error,omitempty"` // why the request could not be sent
}

// ErasureParty is one party's answer.
type ErasureParty struct {
	Name        string     `json:"name"`
	Fingerprint string     `json:"fingerprint"`
	Status      string     `json:"status"`          // waiting, erased, failed, rejected
	Error       string     `json:"error,omitempty"` // the party's reason or error
	At          *time.Time `json:"at,omitempty"`
}

// Erasure statuses, and a party's.
const (
	ErasureRunning    = "running"
	ErasureDone       = "done"
	ErasureIncomplete = "incomplete"

	PartyWaiting  = "waiting"
	PartyErased   = "erased"
	PartyFailed   = "failed"
	PartyRejected = "rejected"
)

// startErasure asks the parties of a wallet just destroyed to erase their
// shares, on behalf of pr (the owner whose approval destroyed it). A
// failure to ask is recorded on the wallet and audited; the destruction
// stands.
func (p *Plane) startErasure(ctx context.Context, pr *relay.Principal, wal *Wallet) {
	now := p.now()
	er := &Erasure{Status: ErasureRunning, StartedAt: now, Deadline: now.Add(p.opts.CeremonyTimeout)}
	for _, q := range wal.Parties {
		er.Parties = append(er.Parties, ErasureParty{Name: q.Name, Fingerprint: q.Fingerprint, Status: PartyWaiting})
	}
	p.settle(wal.ID, func(w *Wallet) error { w.Erasure = er; return nil })
	req, err := p.erasureRequest(ctx, pr, wal, er.Deadline)
	var cid string
	if err == nil {
		cid, err = p.launchFunc("erase-"+wal.ID, func(ctx context.Context, r coord.Relay) (func(string), error) {
			e, err := coord.InitiateDestroy(ctx, r, p.self, req, nil)
			return func(id string) {
				if err == nil {
					p.endErasure(wal.ID, id, e)
				}
			}, err
		})
	}
	if err != nil {
		msg := "the parties could not be asked to erase their shares: " + ceremony.SanitizeN(err.Error(), 500)
		p.settle(wal.ID, func(w *Wallet) error {
			w.Erasure.Status, w.Erasure.Error, w.Erasure.FinishedAt = ErasureIncomplete, msg, &now
			return nil
		})
		p.audit(audit.Entry{Event: audit.EventEraseRequested, Actor: "relay", Wallet: wal.ID, Parties: labels(wal.Parties), Outcome: "failed", Detail: msg})
		return
	}
	p.settle(wal.ID, func(w *Wallet) error {
		if w.Erasure != nil && w.Erasure.CeremonyID == "" {
			w.Erasure.CeremonyID = cid
		}
		return nil
	})
	p.audit(audit.Entry{Event: audit.EventEraseRequested, Actor: "relay", Wallet: wal.ID, Ceremony: cid, Kind: string(coord.KindDestroy),
		Parties: labels(wal.Parties), Outcome: "accepted", Detail: "every party is asked to erase its share, until " + er.Deadline.Format(time.RFC3339)})
}

// erasureRequest is the destroy request sent to the wallet's parties.
func (p *Plane) erasureRequest(ctx context.Context, pr *relay.Principal, wal *Wallet, deadline time.Time) (*coord.Request, error) {
	dir, err := p.directory(ctx)
	if err != nil {
		return nil, err
	}
	parties, err := dir.identities(wal)
	if err != nil {
		return nil, err
	}
	return &coord.Request{Kind: coord.KindDestroy, Scheme: ceremony.Scheme(wal.Scheme), WalletID: wal.ID, WalletName: wal.Name,
		Chain: wal.Chain, Parties: parties, Required: wal.Threshold.Required, Epoch: wal.Epoch, ConfigDigest: wal.ConfigDigest,
		Operator: pr.Label(), Deadline: deadline, CreatedAt: p.now()}, nil
}

// noteErasure records a party's rejection or outcome of the relay's
// destroy request cid, from the relay's hook (so also after a restart).
func (p *Plane) noteErasure(cid string, req *coord.Request, fp string, st *coord.Statement) {
	if _, ok := identity.Find(req.Parties, fp); !ok {
		return
	}
	status, text := "", ""
	switch st.Type {
	case coord.TypeApproval:
		var a coord.Approval
		if json.Unmarshal(st.Body, &a) != nil || a.Approve {
			return
		}
		status, text = PartyRejected, ceremony.Sanitize(a.Reason)
	case coord.TypeOutcome:
		var o coord.Outcome
		if json.Unmarshal(st.Body, &o) != nil {
			return
		}
		status, text = PartyErased, ""
		if !o.OK {
			status, text = PartyFailed, ceremony.SanitizeN(o.Error, 500)
		}
	default:
		return
	}
	now := p.now()
	var name string
	_, ok := p.settle(req.WalletID, func(w *Wallet) error {
		er := w.Erasure
		if er == nil || er.CeremonyID != "" && er.CeremonyID != cid {
			return errUnchanged
		}
		i := slices.IndexFunc(er.Parties, func(q ErasureParty) bool { return q.Fingerprint == fp })
		if i < 0 || er.Parties[i].Status != PartyWaiting {
			return errUnchanged
		}
		er.CeremonyID = cid
		er.Parties[i].Status, er.Parties[i].Error, er.Parties[i].At = status, text, &now
		name = er.Parties[i].Name
		if !slices.ContainsFunc(er.Parties, func(q ErasureParty) bool { return q.Status == PartyWaiting }) {
			er.Status, er.FinishedAt = erasureStatus(er), &now
		}
		return nil
	})
	if ok {
		p.audit(audit.Entry{Event: audit.EventPartyErased, Actor: name + " (" + fp + ")", Wallet: req.WalletID, Ceremony: cid,
			Kind: string(coord.KindDestroy), Outcome: status, Detail: text})
	}
}

// endErasure closes the erasure when the request's initiator stopped
// waiting: every party answered, or the deadline passed.
func (p *Plane) endErasure(walletID, cid string, e *coord.Erasure) {
	now := p.now()
	wal, ok := p.settle(walletID, func(w *Wallet) error {
		er := w.Erasure
		if er == nil || er.CeremonyID != cid || er.Status != ErasureRunning {
			return errUnchanged
		}
		er.Status, er.FinishedAt = erasureStatus(er), &now
		if er.Status == ErasureRunning {
			er.Status = ErasureIncomplete
		}
		return nil
	})
	if ok && wal.Erasure.Status != ErasureDone {
		p.audit(audit.Entry{Event: audit.EventPartyErased, Actor: "relay", Wallet: walletID, Ceremony: cid, Kind: string(coord.KindDestroy),
			Outcome: ErasureIncomplete, Detail: e.String()})
	}
}

// erasureStatus is done when every party erased, incomplete when one
// answered otherwise, and running while some have not answered.
func erasureStatus(er *Erasure) string {
	status := ErasureDone
	for _, q := range er.Parties {
		switch q.Status {
		case PartyWaiting:
			return ErasureRunning
		case PartyFailed, PartyRejected:
			status = ErasureIncomplete
		}
	}
	return status
}

// flagBackups finds the released (or already exported) backup exports of
// a destroyed wallet, to audit as to be destroyed: the relay never held
// them, their holders saved them somewhere (pending ones are cancelled by
// cancelBackupsOf).
func (p *Plane) flagBackups(tx *bolt.Tx, wallet string) ([]BackupExport, error) {
	list, err := all[BackupExport](tx, bucketBackups)
	if err != nil {
		return nil, err
	}
	var out []BackupExport
	for _, b := range list {
		if b.Wallet == wallet && (b.Status == BackupReady || b.Status == BackupExported) {
			out = append(out, b)
		}
	}
	return out, nil
}

// auditFlagged records each released backup export to be destroyed.
func (p *Plane) auditFlagged(pr *relay.Principal, wallet string, flagged []BackupExport) {
	for _, b := range flagged {
		p.audit(audit.Entry{Event: audit.EventBackupFlagged, Actor: pr.Label(), Wallet: wallet, Parties: labels([]Party{b.Party}),
			Outcome: "flagged", Detail: fmt.Sprintf("%s (requested by %s, released): the wallet was destroyed, so the exported backup is to be destroyed wherever it was saved", b.ID, b.RequestedBy)})
	}
}
