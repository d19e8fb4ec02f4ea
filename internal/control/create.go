package control

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/relay"
)

// HeaderIdempotencyKey makes POST /v1/wallets safe to retry: a second
// request with the same key (from the same operator) and the same body
// answers with the wallet the first one made.
const HeaderIdempotencyKey = "Idempotency-Key"

// createWallet is POST /v1/wallets: validate, record the wallet as
// creating, and run its DKG in the background as the relay.
func (p *Plane) createWallet(w http.ResponseWriter, r *http.Request, pr *relay.Principal) error {
	var req createRequest
	wal, err := p.newWallet(r, pr, &req)
	if err != nil {
		p.refused(pr, audit.EventWalletRequested, "", err)
		return err
	}
	idem, err := idempotencyKey(r, pr)
	if err != nil {
		return err
	}
	replay, err := p.insertWallet(wal, idem)
	if err != nil || replay != nil {
		if replay != nil {
			w.Header().Set("Idempotent-Replayed", "true")
			relay.WriteJSON(w, http.StatusAccepted, replay)
		}
		return err
	}
	p.audit(audit.Entry{Event: audit.EventWalletRequested, Actor: pr.Label(), Wallet: wal.ID, Kind: "keygen", Parties: labels(wal.Parties),
		Outcome: "accepted", Detail: wal.Name + ": " + wal.Chain + " " + wal.Scheme + " " + thresholdText(wal.Threshold)})
	creq := &coord.Request{Kind: ceremony.KindKeygen, Scheme: ceremony.Scheme(wal.Scheme), WalletID: wal.ID, WalletName: wal.Name,
		Chain: wal.Chain, Parties: req.resolved, Required: wal.Threshold.Required, Operator: pr.Label(),
		Deadline: wal.Deadline, CreatedAt: wal.CreatedAt}
	cid, err := p.launch(wal.ID, creq, p.keygenDone(wal.ID))
	if err != nil {
		p.dropWallet(wal.ID, idem)
		p.audit(audit.Entry{Event: audit.EventWalletFailed, Actor: pr.Label(), Wallet: wal.ID, Kind: "keygen", Outcome: "failed",
			Detail: "the DKG could not be posted: " + err.Error()})
		return err
	}
	wal.CeremonyID = cid // the wallet as it began; GET /v1/wallets/{id} follows it
	relay.WriteJSON(w, http.StatusAccepted, wal)
	return nil
}

// newWallet decodes and checks the request, resolves its parties and
// returns the wallet to record.
func (p *Plane) newWallet(r *http.Request, pr *relay.Principal, req *createRequest) (*Wallet, error) {
	if err := relay.DecodeJSON(pr, req, false, createFields); err != nil {
		return nil, err
	}
	scheme, err := req.validate()
	if err != nil {
		return nil, err
	}
	dir, err := p.directory(r.Context())
	if err != nil {
		return nil, err
	}
	if req.resolved, err = dir.parties(req.Parties, req.Threshold.Total); err != nil {
		return nil, err
	}
	now := p.now()
	return &Wallet{ID: holder.NewWalletID(), Name: req.Name, Chain: req.Chain, Type: "mpc", Scheme: string(scheme),
		Threshold: *req.Threshold, Parties: partiesOf(req.resolved), Status: StatusCreating, Source: SourceAPI,
		CreatedBy: pr.Label(), CreatedAt: now, UpdatedAt: now, Deadline: now.Add(p.opts.CeremonyTimeout)}, nil
}

// idempotency is a retry key of one operator and the hash of the body it
// came with.
type idempotency struct {
	Key      string `json:"-"`
	Wallet   string `json:"wallet"`
	BodyHash string `json:"body_hash"`
}

// idempotencyKey reads the Idempotency-Key header, if any.
func idempotencyKey(r *http.Request, pr *relay.Principal) (*idempotency, error) {
	k := r.Header.Get(HeaderIdempotencyKey)
	if k == "" {
		return nil, nil
	}
	if len(k) > 255 || strings.ContainsFunc(k, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) }) {
		return nil, badRequest("Idempotency-Key must be 1 to 255 printable ASCII characters, e.g. a UUID")
	}
	sum := sha256.Sum256(pr.Body)
	return &idempotency{Key: pr.Member.Fingerprint + "\x00" + k, BodyHash: hex.EncodeToString(sum[:])}, nil
}

// insertWallet stores a new wallet, unless its name is taken by a live
// wallet; with an idempotency key seen before, it returns that wallet
// instead (replay) and stores nothing.
func (p *Plane) insertWallet(wal *Wallet, idem *idempotency) (replay *Wallet, err error) {
	err = p.st.Update(func(tx *bolt.Tx) error {
		if idem != nil {
			var seen idempotency
			switch err := get(tx, bucketIdempotency, idem.Key, &seen); {
			case err == nil && seen.BodyHash != idem.BodyHash:
				return relay.Error(http.StatusConflict, "idempotency_conflict",
					"this Idempotency-Key was used with a different request body: use a new key for a new wallet")
			case err == nil:
				var prev Wallet
				if err := get(tx, bucketWallets, seen.Wallet, &prev); err != nil {
					return err
				}
				replay = &prev
				return nil
			case !errors.Is(err, errNotFound):
				return err
			}
			idem.Wallet = wal.ID
			if err := put(tx, bucketIdempotency, idem.Key, idem); err != nil {
				return err
			}
		}
		ws, err := all[Wallet](tx, bucketWallets)
		if err != nil {
			return err
		}
		for _, o := range ws {
			if o.Name == wal.Name && o.Status != StatusFailed && o.Status != StatusDestroyed {
				return relay.Errorf(http.StatusConflict, "name_taken", "wallet %s is already named %q: choose another name", o.ID, clip(o.Name))
			}
		}
		return put(tx, bucketWallets, wal.ID, wal)
	})
	return replay, err
}

// dropWallet removes a wallet whose DKG could not even be posted.
func (p *Plane) dropWallet(id string, idem *idempotency) {
	err := p.st.Update(func(tx *bolt.Tx) error {
		if idem != nil {
			if err := tx.Bucket(bucketIdempotency).Delete([]byte(idem.Key)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketWallets).Delete([]byte(id))
	})
	if err != nil {
		p.log.Error("remove a wallet whose DKG was not posted", "wallet", id, "err", err)
	}
}

// keygenDone records the result of a DKG the plane ran.
func (p *Plane) keygenDone(walletID string) func(result) {
	return func(res result) {
		if res.err != nil {
			p.finishKeygen(walletID, res.ceremony, nil, failureOf(res.err), true)
			return
		}
		p.finishKeygen(walletID, res.ceremony, res.report.Result(), failure{}, true)
	}
}

// refused audits a request the API refused.
func (p *Plane) refused(pr *relay.Principal, event, wallet string, err error) {
	p.audit(audit.Entry{Event: event, Actor: pr.Label(), Wallet: wallet, Outcome: "refused", Detail: err.Error()})
}

func thresholdText(t Threshold) string { return fmt.Sprintf("%d-of-%d", t.Required, t.Total) }

// labels are parties as audit entries name them: "name (fingerprint)".
func labels(ps []Party) []string {
	out := make([]string, len(ps))
	for i, q := range ps {
		out[i] = q.Name + " (" + q.Fingerprint + ")"
	}
	return out
}
