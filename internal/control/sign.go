package control

import (
	"errors"
	"net/http"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// signRequest is the body of POST /v1/wallets/{id}/sign.
type signRequest struct {
	Digest  string   `json:"digest"`
	Signers []string `json:"signers,omitempty"`
}

// sign is POST /v1/wallets/{id}/sign (operator): ask the wallet's parties
// to sign a 32-byte digest. The threshold of parties must approve it in
// their own party; the result is read with GET .../signatures/{sig}.
func (p *Plane) sign(w http.ResponseWriter, r *http.Request, pr *relay.Principal) error {
	var body signRequest
	if err := relay.DecodeJSON(pr, &body, false, "digest, and optionally signers"); err != nil {
		return err
	}
	digest, err := parseDigest(body.Digest)
	if err != nil {
		return err
	}
	wal, err := p.wallet(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := usable(wal, "ask for signatures"); err != nil {
		p.refused(pr, audit.EventSignRequested, wal.ID, err)
		return err
	}
	signers, err := signersOf(wal, body.Signers)
	if err != nil {
		return err
	}
	dir, err := p.directory(r.Context())
	if err != nil {
		return err
	}
	parties, err := dir.identities(wal)
	if err != nil {
		return err
	}
	now := p.now()
	sig := Signature{ID: newID("sig"), Wallet: wal.ID, Status: SigPending, Digest: digest, Epoch: wal.Epoch,
		RequestedBy: pr.Label(), CreatedAt: now, Deadline: now.Add(p.opts.CeremonyTimeout)}
	for _, s := range signers {
		sig.Signers = append(sig.Signers, s.Name)
	}
	if err := p.putSignature(&sig); err != nil {
		return err
	}
	p.audit(audit.Entry{Event: audit.EventSignRequested, Actor: pr.Label(), Wallet: wal.ID, Kind: "sign", Parties: labels(signers),
		Outcome: "accepted", Detail: sig.ID + " digest " + digest})
	cid, err := p.launch(sig.ID, signCeremony(wal, &sig, parties, signers, pr), func(res result) { p.finishSign(sig.ID, res) })
	if err != nil {
		p.finishSign(sig.ID, result{err: errors.New("the request could not be posted: " + err.Error())})
		return err
	}
	sig.CeremonyID = cid
	relay.WriteJSON(w, http.StatusAccepted, sig)
	return nil
}

// signCeremony is the request the parties are asked to approve for sig.
func signCeremony(wal *Wallet, sig *Signature, parties []identity.Public, signers []Party, pr *relay.Principal) *coord.Request {
	var fps []string
	for _, s := range signers {
		fps = append(fps, s.Fingerprint)
	}
	return &coord.Request{Kind: ceremony.KindSign, Scheme: ceremony.Scheme(wal.Scheme), WalletID: wal.ID, WalletName: wal.Name,
		Chain: wal.Chain, Parties: parties, Signers: fps, Required: wal.Threshold.Required, Epoch: wal.Epoch, ConfigDigest: wal.ConfigDigest,
		Digest: sig.Digest, Summary: "raw digest " + sig.Digest + ", asked through the relay's API (" + sig.ID + ")",
		Operator: pr.Label(), Deadline: sig.Deadline, CreatedAt: sig.CreatedAt}
}

// signersOf resolves the signers asked for among the wallet's parties:
// none, or exactly the threshold.
func signersOf(w *Wallet, names []string) ([]Party, error) {
	if len(names) == 0 {
		return nil, nil
	}
	if len(names) != w.Threshold.Required {
		return nil, relay.Errorf(http.StatusBadRequest, "bad_signers",
			"name exactly %d signers (the wallet's threshold), or none to take the first %d parties to approve", w.Threshold.Required, w.Threshold.Required)
	}
	var out []Party
	for _, n := range names {
		q, ok := findParty(w, n)
		if !ok {
			return nil, relay.Errorf(http.StatusBadRequest, "bad_signers", "%q is not a party of wallet %s: its parties are %s", clip(n), w.ID, partyNames(w))
		}
		if slices.Contains(out, q) {
			return nil, relay.Errorf(http.StatusBadRequest, "bad_signers", "%s is named twice in signers", q.Name)
		}
		out = append(out, q)
	}
	return out, nil
}

// finishSign records how a signing ceremony ended.
func (p *Plane) finishSign(id string, res result) {
	var sig Signature
	err := p.st.Update(func(tx *bolt.Tx) error {
		if err := get(tx, bucketSignatures, id, &sig); err != nil {
			return err
		}
		if sig.Status != SigPending {
			return errUnchanged
		}
		now := p.now()
		sig.FinishedAt, sig.CeremonyID = &now, res.ceremony
		if res.err != nil {
			f := failureOf(res.err)
			sig.Status, sig.Reason, sig.Blamed = SigFailed, f.msg, f.blamed
			if f.rejected {
				sig.Status = SigRejected
			}
		} else {
			sig.Status, sig.Signature = SigSigned, res.report.Result().Signature
			for _, s := range res.report.Signers {
				sig.SignedBy = append(sig.SignedBy, s.Name)
			}
			slices.Sort(sig.SignedBy)
		}
		return put(tx, bucketSignatures, id, &sig)
	})
	if err != nil {
		if !errors.Is(err, errUnchanged) {
			p.log.Error("record a signature", "signature", id, "err", err)
		}
		return
	}
	e := audit.Entry{Event: audit.EventSigned, Actor: sig.RequestedBy, Wallet: sig.Wallet, Ceremony: sig.CeremonyID, Kind: "sign",
		Parties: sig.SignedBy, Outcome: "ok", Detail: sig.ID + " digest " + sig.Digest + " signature " + sig.Signature}
	if sig.Status != SigSigned {
		e.Outcome, e.Culprits, e.Detail = sig.Status, sig.Blamed, sig.ID+": "+sig.Reason
	}
	p.audit(e)
}

func (p *Plane) putSignature(sig *Signature) error {
	return p.st.Update(func(tx *bolt.Tx) error { return put(tx, bucketSignatures, sig.ID, sig) })
}

// listSignatures is GET /v1/wallets/{id}/signatures: newest first.
func (p *Plane) listSignatures(w http.ResponseWriter, r *http.Request, _ *relay.Principal) error {
	wal, err := p.wallet(r.PathValue("id"))
	if err != nil {
		return err
	}
	var sigs []Signature
	err = p.st.View(func(tx *bolt.Tx) error {
		var err error
		sigs, err = all[Signature](tx, bucketSignatures)
		return err
	})
	if err != nil {
		return err
	}
	sigs = slices.DeleteFunc(sigs, func(s Signature) bool { return s.Wallet != wal.ID })
	slices.SortStableFunc(sigs, func(a, b Signature) int { return b.CreatedAt.Compare(a.CreatedAt) })
	relay.WriteJSON(w, http.StatusOK, map[string]any{"signatures": sigs})
	return nil
}

// getSignature is GET /v1/wallets/{id}/signatures/{sig}.
func (p *Plane) getSignature(w http.ResponseWriter, r *http.Request, _ *relay.Principal) error {
	wal, err := p.wallet(r.PathValue("id"))
	if err != nil {
		return err
	}
	var sig Signature
	err = p.st.View(func(tx *bolt.Tx) error { return get(tx, bucketSignatures, r.PathValue("sig"), &sig) })
	if errors.Is(err, errNotFound) || (err == nil && sig.Wallet != wal.ID) {
		return relay.Errorf(http.StatusNotFound, "not_found", "no signature %q of wallet %s: GET /v1/wallets/%s/signatures lists them", clip(r.PathValue("sig")), wal.ID, wal.ID)
	}
	if err != nil {
		return err
	}
	relay.WriteJSON(w, http.StatusOK, sig)
	return nil
}

// staleSignature is a pending signature nobody waits for any more.
func staleSignature(s *Signature, now time.Time) bool {
	return s.Status == SigPending && now.After(s.Deadline.Add(staleGrace))
}
