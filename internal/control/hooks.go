package control

import (
	"encoding/json"
	"errors"
	"net/http"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// The plane follows every ceremony through the relay's hooks: it refuses
// those a wallet's state forbids, records wallets created and keys
// rotated from the CLI, and settles its own ceremonies from the parties'
// outcomes even when the run that started them is gone.
var _ relay.Hooks = (*Plane)(nil)

// AuthorizeCeremony refuses, with 409, signing or rotating a destroyed
// wallet, a refresh while the wallet rotates already, and a keygen from
// the CLI that reuses a known wallet id; and, with 403, a destroy request
// (erase the shares) from anyone but the relay, or for a wallet that is
// not destroyed. The relay's own ceremonies were
// checked by the API call that asked for them.
func (p *Plane) AuthorizeCeremony(pr *relay.Principal, _ *relay.Ceremony, kind, walletID string) error {
	if walletID == "" {
		return nil
	}
	var wal Wallet
	err := p.st.View(func(tx *bolt.Tx) error { return get(tx, bucketWallets, walletID, &wal) })
	if errors.Is(err, errNotFound) && kind == string(coord.KindDestroy) {
		wal.ID, wal.Status = walletID, "unknown"
		err = nil
	}
	if errors.Is(err, errNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case kind == string(coord.KindDestroy) && pr.Via == relay.ViaRelay && wal.Status == StatusDestroyed:
		return nil
	case kind == string(coord.KindDestroy):
		err = relay.Errorf(http.StatusForbidden, "forbidden", "only the relay asks the parties to erase a wallet's shares, once two owners destroyed it (POST /v1/wallets/%s/destroy)", wal.ID)
	case kind != string(ceremony.KindKeygen) && wal.Status == StatusDestroyed:
		err = destroyedError(&wal)
	case pr.Via == relay.ViaRelay:
		return nil
	case kind == string(ceremony.KindKeygen):
		err = relay.Errorf(http.StatusConflict, "wallet_exists", "wallet %s exists already: a new wallet needs a new id", wal.ID)
	case kind == string(ceremony.KindRefresh) && wal.Status == StatusRotating:
		err = usable(&wal, "rotate its keys")
	default:
		return nil
	}
	p.refused(pr, audit.EventAuthRefused, walletID, err)
	return err
}

// CeremonyCreated records the ceremony of a keygen or refresh: for the
// relay's own, on the record the API call made; for one started from the
// CLI, as a new wallet (creating) or a rotation (running).
func (p *Plane) CeremonyCreated(pr *relay.Principal, c *relay.Ceremony, kind, walletID string) {
	req, ok := requestOf(c)
	if !ok || req.WalletID != walletID {
		return
	}
	self := c.Initiator == p.self.Fingerprint()
	switch {
	case kind == string(ceremony.KindKeygen) && self:
		p.settle(walletID, func(w *Wallet) error {
			if w.Status != StatusCreating || w.CeremonyID != "" {
				return errUnchanged
			}
			w.CeremonyID = c.ID
			return nil
		})
	case kind == string(ceremony.KindKeygen):
		p.recordCLIWallet(pr, c, req)
	case kind == string(ceremony.KindRefresh):
		p.recordRefresh(pr, c, req, self)
	}
}

// recordCLIWallet records a wallet an operator creates from the CLI.
func (p *Plane) recordCLIWallet(pr *relay.Principal, c *relay.Ceremony, req *coord.Request) {
	now := p.now()
	wal := Wallet{ID: req.WalletID, Name: ceremony.SanitizeN(req.WalletName, 64), Chain: ceremony.SanitizeN(req.Chain, 16), Type: "mpc",
		Scheme: string(req.Scheme), Threshold: Threshold{Required: req.Required, Total: len(req.Parties)}, Parties: partiesOf(req.Parties),
		Status: StatusCreating, CeremonyID: c.ID, Source: SourceCLI, CreatedBy: pr.Label(), CreatedAt: now, UpdatedAt: now, Deadline: req.Deadline.UTC()}
	created := false
	err := p.st.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketWallets).Get([]byte(wal.ID)) != nil {
			return nil
		}
		created = true
		return put(tx, bucketWallets, wal.ID, &wal)
	})
	if err != nil {
		p.log.Error("record a wallet created from the CLI", "wallet", wal.ID, "err", err)
		return
	}
	if created {
		p.audit(audit.Entry{Event: audit.EventWalletRequested, Actor: pr.Label(), Wallet: wal.ID, Ceremony: c.ID, Kind: "keygen",
			Parties: labels(wal.Parties), Outcome: "accepted", Detail: "from the CLI: " + wal.Name + " " + wal.Scheme + " " + thresholdText(wal.Threshold)})
	}
}

// recordRefresh notes the ceremony of a refresh: the relay's own on the
// rotation the API call made; one from the CLI as a new rotation.
func (p *Plane) recordRefresh(pr *relay.Principal, c *relay.Ceremony, req *coord.Request, self bool) {
	var rot Rotation
	wal, ok := p.settle(req.WalletID, func(w *Wallet) error {
		r := w.Rotation
		switch {
		case self && w.Status == StatusRotating && r != nil && r.Status == RotationRunning && r.CeremonyID == "" && r.FromEpoch == req.Epoch:
			r.CeremonyID = c.ID
			return nil
		case self || w.Status != StatusActive || w.Epoch != req.Epoch:
			return errUnchanged
		}
		w.Status = StatusRotating
		w.Rotation = &Rotation{ID: newID("rot"), Status: RotationRunning, FromEpoch: req.Epoch, CeremonyID: c.ID,
			RequestedBy: pr.Label(), StartedAt: p.now(), Deadline: req.Deadline.UTC()}
		rot = *w.Rotation
		return nil
	})
	if ok && rot.ID != "" {
		p.audit(audit.Entry{Event: audit.EventRotateRequested, Actor: pr.Label(), Wallet: wal.ID, Ceremony: c.ID, Kind: "refresh",
			Parties: labels(wal.Parties), Outcome: "accepted", Detail: rot.ID + " from the CLI"})
	}
}

// MessagePosted follows the approvals and outcomes of keygen and refresh
// ceremonies. The relay authenticated the poster, who must be the
// statement's signer and a party of the request; a rejection or a failed
// outcome fails the ceremony, and outcomes from every party with the same
// key settle it.
func (p *Plane) MessagePosted(c *relay.Ceremony, m relay.Message) {
	if m.Kind != relay.KindControl {
		return
	}
	var st coord.Statement
	if json.Unmarshal(m.Data, &st) != nil || st.Signer != m.From || st.Ceremony != c.ID ||
		(st.Type != coord.TypeApproval && st.Type != coord.TypeOutcome) {
		return
	}
	req, ok := requestOf(c)
	if ok && req.Kind == coord.KindDestroy && c.Initiator == p.self.Fingerprint() {
		p.noteErasure(c.ID, req, m.From, &st)
		return
	}
	if !ok || (req.Kind != ceremony.KindKeygen && req.Kind != ceremony.KindRefresh) {
		return
	}
	if _, party := identity.Find(req.Parties, m.From); !party {
		return
	}
	if st.Type == coord.TypeApproval {
		var a coord.Approval
		if json.Unmarshal(st.Body, &a) == nil && !a.Approve {
			name := nameIn(req, m.From)
			msg := "rejected by " + name
			if a.Reason != "" {
				msg += ": " + ceremony.Sanitize(a.Reason)
			}
			p.finish(c.ID, req, nil, failure{msg: msg, blamed: []string{name}, rejected: true})
		}
		return
	}
	var o coord.Outcome
	if json.Unmarshal(st.Body, &o) == nil {
		p.noteOutcome(c.ID, req, m.From, &o)
	}
}

// finish settles a keygen or refresh from its statements.
func (p *Plane) finish(cid string, req *coord.Request, o *coord.Outcome, f failure) {
	if req.Kind == ceremony.KindKeygen {
		p.finishKeygen(req.WalletID, cid, o, f, false)
	} else {
		p.finishRefresh(req.WalletID, cid, req.Epoch, o, f)
	}
}

// requestOf reads the request statement of a ceremony (the relay checked
// that its initiator signed it; the parties check the signature).
func requestOf(c *relay.Ceremony) (*coord.Request, bool) {
	var st coord.Statement
	if json.Unmarshal(c.Request, &st) != nil || st.Type != coord.TypeRequest || st.Signer != c.Initiator {
		return nil, false
	}
	var req coord.Request
	if json.Unmarshal(st.Body, &req) != nil || req.WalletID == "" {
		return nil, false
	}
	return &req, true
}

// nameIn is the name of a request's party, or its fingerprint.
func nameIn(req *coord.Request, fp string) string {
	for _, q := range req.Parties {
		if q.Fingerprint() == fp {
			return q.Name
		}
	}
	return fp
}
