package control

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/coord"
)

// ceremonyNotes are the outcomes the parties of one keygen or refresh
// reported so far.
type ceremonyNotes struct {
	Outcomes map[string]coord.Outcome `json:"outcomes"` // by fingerprint
	Since    time.Time                `json:"since"`
}

// notesTTL is how long a ceremony's outcomes are kept: past any
// ceremony's deadline.
const notesTTL = 8 * 24 * time.Hour

// noteOutcome keeps party fp's outcome of ceremony cid and settles the
// ceremony once it is decided: at the first failure, or when every party
// reported success with the same key, configuration and epoch.
func (p *Plane) noteOutcome(cid string, req *coord.Request, fp string, o *coord.Outcome) {
	var notes ceremonyNotes
	err := p.st.Update(func(tx *bolt.Tx) error {
		if err := get(tx, bucketOutcomes, cid, &notes); err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		if notes.Outcomes == nil {
			notes = ceremonyNotes{Outcomes: map[string]coord.Outcome{}, Since: p.now()}
		}
		if _, seen := notes.Outcomes[fp]; !seen {
			notes.Outcomes[fp] = *o
		}
		return put(tx, bucketOutcomes, cid, &notes)
	})
	if err != nil {
		p.log.Error("record a ceremony outcome", "ceremony", cid, "err", err)
		return
	}
	if !o.OK {
		p.finish(cid, req, nil, outcomeFailure(req, fp, o))
		return
	}
	if len(notes.Outcomes) < len(req.Parties) {
		return
	}
	first := notes.Outcomes[req.Parties[0].Fingerprint()]
	for _, q := range req.Parties {
		got, ok := notes.Outcomes[q.Fingerprint()]
		if !ok || !got.OK {
			return // a failure was settled when it came
		}
		if got.PublicKey != first.PublicKey || got.ConfigDigest != first.ConfigDigest || got.Epoch != first.Epoch {
			p.finish(cid, req, nil, failure{msg: "the parties report different keys or configurations: do not use this wallet until its shares are checked"})
			return
		}
	}
	p.finish(cid, req, &first, failure{})
}

// outcomeFailure explains party fp's failed outcome, naming the parties
// it waited for or accused.
func outcomeFailure(req *coord.Request, fp string, o *coord.Outcome) failure {
	f := failure{msg: string(req.Kind) + " failed at " + nameIn(req, fp) + ": " + ceremony.SanitizeN(o.Error, 1000)}
	for _, b := range append(append([]string{}, o.Waiting...), o.Culprits...) {
		n := nameIn(req, b)
		if !slices.Contains(f.blamed, n) {
			f.blamed = append(f.blamed, n)
		}
	}
	return f
}

// pruneNotes forgets the outcomes of ceremonies long over.
func (p *Plane) pruneNotes(now time.Time) {
	err := p.st.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutcomes)
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var n ceremonyNotes
			if err := json.Unmarshal(v, &n); err != nil || now.Sub(n.Since) > notesTTL {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		p.log.Error("prune ceremony outcomes", "err", err)
	}
}
