package control

import (
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// settleStale fails the ceremonies whose deadline passed more than
// staleGrace ago without an outcome, and that no run in this process
// follows any more (the relay restarted while they ran, or the parties
// never answered one started from the CLI). It also forgets outcomes and
// actions long over.
func (p *Plane) settleStale() {
	now := p.now()
	var ws []Wallet
	var sigs []Signature
	err := p.st.View(func(tx *bolt.Tx) error {
		var err error
		if ws, err = all[Wallet](tx, bucketWallets); err != nil {
			return err
		}
		sigs, err = all[Signature](tx, bucketSignatures)
		return err
	})
	if err != nil {
		p.log.Error("look for abandoned ceremonies", "err", err)
		return
	}
	const why = "no outcome before the ceremony's deadline: a party did not answer or finish in time, or the relay restarted while it ran"
	for _, w := range ws {
		if w.Status == StatusCreating && now.After(w.Deadline.Add(staleGrace)) && !p.isRunning(w.ID) {
			p.finishKeygen(w.ID, w.CeremonyID, nil, failure{msg: why + "; create the wallet again"}, false)
		}
		if r := w.Rotation; r != nil && r.Status == RotationRunning && now.After(r.Deadline.Add(staleGrace)) && !p.isRunning(r.ID) {
			p.finishRefresh(w.ID, r.CeremonyID, r.FromEpoch, nil, failure{msg: why + "; the wallet keeps its current epoch"})
		}
	}
	for _, s := range sigs {
		if staleSignature(&s, now) && !p.isRunning(s.ID) {
			p.finishSign(s.ID, result{ceremony: s.CeremonyID, err: errors.New(why)})
		}
	}
	p.pruneNotes(now)
	p.pruneActions(now)
}

// pruneActions forgets actions a day after they expired.
func (p *Plane) pruneActions(now time.Time) {
	err := p.st.Update(func(tx *bolt.Tx) error {
		list, err := all[actionRecord](tx, bucketActions)
		if err != nil {
			return err
		}
		for _, a := range list {
			if now.Sub(a.ExpiresAt) > 24*time.Hour {
				if err := tx.Bucket(bucketActions).Delete([]byte(a.ID)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		p.log.Error("prune actions", "err", err)
	}
}
