package coord

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/chain"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares"
)

// Proposal is a request waiting for this party's decision.
type Proposal struct {
	CeremonyID string
	Request    *Request
	// SAS is the request's short authentication string: every party and
	// the initiator show the same one (see SAS).
	SAS string
	// Summary says what a sign request signs: established by this party
	// from the request's payload when it carries one, otherwise the
	// initiator's own words, marked as such. Empty for other kinds.
	Summary string
	// Transfer is what a transaction to sign moves, decoded by this party
	// from the payload it checked against the digest; nil otherwise.
	Transfer *Transfer
}

// Decision is this party's answer to a proposal.
type Decision struct {
	Approve bool
	Reason  string
}

// Decider decides proposals: a prompt, or a policy for unattended parties.
type Decider func(ctx context.Context, p *Proposal) (Decision, error)

// Event is something the party did, for its operator.
type Event struct {
	Ceremony string
	Request  *Request
	// What happened: "request", "approved", "rejected", "not-selected",
	// "withdrawn" (by the initiator, before the start), "expired" (no
	// answer before the deadline), "started", "progress", "done",
	// "failed", "aborted-after-restart", "settled", "erased" (a destroyed
	// wallet's share), "foreign-envelope" (another ceremony's envelope
	// found in this one's mailbox and ignored; Detail says which),
	// "presignature-retired" (an orphaned presignature of this party's
	// pool retired, see orphanAfter), "error".
	What     string
	Detail   string
	Progress ceremony.Event
	Err      error
	// Outcome is this party's outcome, on "done" and "failed" after a run.
	Outcome *Outcome
	// Evidence, on "failed", lists the signed envelopes of the culprits
	// that this party kept beside its audit log (evidence.go).
	Evidence []audit.Evidence
}

// Party is one key holder's party: it answers the requests the relay
// brings, runs the ceremonies it approved and reports their outcomes.
type Party struct {
	Home   *home.Home
	Relay  Relay
	Decide Decider
	Events func(Event)
	// Audit, if set, records requests, decisions and outcomes.
	Audit *audit.Log
	// WalletStatus asks the relay for a wallet's status; a destroy
	// request is only acted on once it says "destroyed".
	WalletStatus WalletStatusFunc
	// Pool keeps presignatures ready for one-round signing (presign.go).
	Pool Pool

	mu          sync.Mutex
	running     map[string]bool
	ownPresigns int // presign ceremonies this party's pool started, running
	settle      sync.Mutex

	poolMu    sync.Mutex
	reserved  map[string]string      // presignature ID -> the ceremony it was offered to
	unmatched map[string]int         // presignature ID -> starts of its signer set that used none (orphanAfter)
	batches   map[string]*batchGrant // presign batches the holder approved
	kick      chan struct{}
	idleFrom  time.Time // when the last ceremony other than the pool's own ended (mu)

	shares holder.ShareCache // parsed shares, kept between ceremonies
}

func (p *Party) emit(e Event) {
	p.audit(e)
	if p.Events != nil {
		p.Events(e)
	}
}

// Run registers with the relay, gives up the ceremonies a previous run left
// unfinished (telling the others at once), and then serves requests until
// ctx ends. Ceremonies run concurrently.
func (p *Party) Run(ctx context.Context) error {
	p.running = map[string]bool{}
	if err := p.Relay.Register(ctx); err != nil {
		return fmt.Errorf("register with the relay: %w", err)
	}
	if err := p.recover(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	p.kick = make(chan struct{}, 1)
	if p.Pool.Keep > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); p.keepPool(ctx) }()
	}
	var after uint64
	for {
		p.settlePending(ctx)
		items, err := p.Relay.Inbox(ctx, after, p.settleWait())
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read the inbox: %w", err)
		}
		for _, it := range items {
			after = max(after, it.Seq)
			p.mu.Lock()
			busy := p.running[it.CeremonyID]
			p.running[it.CeremonyID] = true
			p.mu.Unlock()
			if busy {
				continue
			}
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				defer func() { p.mu.Lock(); delete(p.running, id); p.mu.Unlock(); p.kickPool() }()
				if err := p.handle(ctx, id); err != nil && ctx.Err() == nil {
					p.emit(Event{Ceremony: id, What: "error", Err: err})
				}
			}(it.CeremonyID)
		}
	}
}

// handle answers one request and, if approved and selected, runs it.
func (p *Party) handle(ctx context.Context, id string) error {
	c, err := p.Relay.Ceremony(ctx, id)
	if err != nil {
		return err
	}
	if time.Now().After(c.Deadline) {
		return nil
	}
	me := p.Home.ID.Fingerprint()
	// Statements already in the mailbox: a request this party answered
	// before (then restarted) is not answered twice.
	msgs, err := p.Relay.Messages(ctx, id, 0, 0)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.Kind == kindControl && m.From == me {
			return nil
		}
	}
	req, reqHash, verr := p.verifyRequest(ctx, c.Request, id)
	if req == nil {
		return verr // cannot even read who asked: nothing to answer
	}
	if req.Kind == ceremony.KindPresign && !slices.Contains(req.Signers, me) {
		return nil // not asked: only the signers make a presignature
	}
	if req.Kind != ceremony.KindPresign {
		defer p.active()
	}
	p.emit(Event{Ceremony: id, Request: req, What: "request"})
	dec := Decision{Approve: false}
	var in *Inspection
	if verr == nil {
		var pub []byte
		if pub, verr = p.walletKey(req); verr == nil {
			in, verr = Inspect(req, pub)
		}
	}
	auto, why := false, ""
	if verr == nil {
		auto, why = p.autoApproved(req)
	}
	switch {
	case verr != nil:
		dec.Reason = verr.Error()
	case auto:
		dec = Decision{Approve: true, Reason: why}
	default:
		// Stop asking once the question is moot: the ceremony started
		// without this party (enough others approved) or its deadline passed.
		// The decision's context says why it ended (context.Cause):
		// ErrSettledElsewhere, a *WithdrawnError, or the deadline.
		tctx, cancelT := context.WithDeadline(ctx, req.Deadline)
		dctx, cancel := context.WithCancelCause(tctx)
		go p.watchMoot(dctx, cancel, id, req, reqHash)
		dec, err = p.Decide(dctx, &Proposal{CeremonyID: id, Request: req, SAS: SAS(id, reqHash), Summary: summaryOf(req, in), Transfer: in.Transfer})
		cause := context.Cause(dctx)
		moot := dctx.Err() != nil && ctx.Err() == nil
		cancel(nil)
		cancelT()
		if moot {
			var wd *WithdrawnError
			switch {
			case errors.As(cause, &wd):
				p.emit(Event{Ceremony: id, Request: req, What: "withdrawn", Detail: wd.detail()})
			case errors.Is(cause, context.DeadlineExceeded):
				p.emit(Event{Ceremony: id, Request: req, What: "expired", Detail: "the request's deadline passed before this party answered"})
			default:
				p.emit(Event{Ceremony: id, Request: req, What: "not-selected", Detail: ErrSettledElsewhere.Error()})
			}
			return nil
		}
		if err != nil {
			return err
		}
		if dec.Approve {
			p.grantBatch(req)
		}
	}
	var offers []Offer
	if dec.Approve {
		offers = p.offer(id, req)
		defer p.release(id)
	}
	a, err := signStatement(p.Home.ID, TypeApproval, id, Approval{Approve: dec.Approve, Reason: dec.Reason, Request: reqHash, Presignatures: offers})
	if err != nil {
		return err
	}
	if _, err := p.Relay.Post(ctx, id, kindControl, a); err != nil {
		return fmt.Errorf("post the answer: %w", err)
	}
	if !dec.Approve {
		p.emit(Event{Ceremony: id, Request: req, What: "rejected", Detail: dec.Reason})
		return nil
	}
	p.emit(Event{Ceremony: id, Request: req, What: "approved"})
	if req.Kind == KindDestroy {
		return p.erase(ctx, id, req) // no start: each party erases on its own
	}
	start, err := p.awaitStart(ctx, id, req, reqHash)
	if err != nil || start == nil {
		return err
	}
	if !slices.Contains(start.Signers, me) {
		p.emit(Event{Ceremony: id, Request: req, What: "not-selected"})
		return nil
	}
	if start.Presignature != "" && !offered(offers, start) {
		return fmt.Errorf("the start names presignature %.16s…, which this party did not offer for this request; not signing", start.Presignature)
	}
	p.noteUnmatched(id, req, offers, start)
	return p.run(ctx, id, req, start)
}

// walletKey is the public key a sign request signs for, from this party's
// own share: the wallet key, or its BIP-32 child when the request names one.
func (p *Party) walletKey(req *Request) ([]byte, error) {
	if req.Kind != ceremony.KindSign || req.Payload == nil {
		return nil, nil
	}
	if req.Index != nil {
		h := &holder.Holder{ID: party.ID(p.Home.ID.Fingerprint()), Store: p.Home.Store, Cache: &p.shares}
		return h.ChildPublicKey(req.WalletID, *req.Index)
	}
	st, err := p.Home.Store.Active(req.WalletID, p.Home.ID.Fingerprint())
	if err != nil {
		return nil, err
	}
	st.Wipe()
	return st.Meta.PublicKey, nil
}

// summaryOf says what a sign request signs, for the approver: what this
// party decoded itself, else the initiator's words, marked as such.
// A request for a derived key says which child signs.
func summaryOf(req *Request, in *Inspection) string {
	if req.Kind == KindDestroy {
		return destroySummary
	}
	if req.Kind != ceremony.KindSign {
		return ""
	}
	s := in.Summary
	if s == "" && req.Summary != "" {
		s = "the initiator says: " + ceremony.Sanitize(req.Summary) + " (not checked: only the digest is known)"
	}
	if req.Index != nil {
		key := fmt.Sprintf("with the wallet's child key m/%d", *req.Index)
		if s == "" {
			return key
		}
		return s + "; " + key
	}
	return s
}

// watchMoot cancels a pending decision when a start that leaves this party
// out, or the initiator's withdrawal, appears in the ceremony's mailbox. The
// cause says which.
func (p *Party) watchMoot(ctx context.Context, cancel context.CancelCauseFunc, id string, req *Request, reqHash string) {
	me := p.Home.ID.Fingerprint()
	var after uint64
	for ctx.Err() == nil {
		msgs, err := p.Relay.Messages(ctx, id, after, pollWait)
		if err != nil {
			return
		}
		s, w := controlIn(msgs, &after, id, req, reqHash)
		switch {
		case w != nil:
			cancel(&WithdrawnError{By: req.Initiator.Name, Reason: w.Reason})
			return
		case s != nil:
			if !slices.Contains(s.Signers, me) {
				cancel(ErrSettledElsewhere)
			}
			return
		}
	}
}

// ErrSettledElsewhere is the cause of a decision's context when enough
// other parties answered and the ceremony started without this one.
var ErrSettledElsewhere = errors.New("the request was settled without this party's answer")

// WithdrawnError is the cause of a decision's context when the initiator
// withdrew the request.
type WithdrawnError struct{ By, Reason string }

func (e *WithdrawnError) Error() string { return "withdrawn " + e.detail() }

// detail is the event's detail: "by ben: rejected by ana, vault".
func (e *WithdrawnError) detail() string { return fmt.Sprintf("by %s: %s", e.By, e.Reason) }

// verifyRequest reads the request statement and checks it against what
// this party knows: the initiator and every party must be identities this
// operator trusts (same keys), and for sign and refresh the wallet, epoch,
// configuration and parties must match this party's active share. A
// request that cannot be authenticated returns nil; one that is readable
// but refused returns the request and the reason.
func (p *Party) verifyRequest(ctx context.Context, raw []byte, id string) (*Request, string, error) {
	trusted, err := p.Home.Trusted()
	if err != nil {
		return nil, "", fmt.Errorf("request %.16s… not answered: read the trusted identities: %w", id, err)
	}
	lookup := func(fp string) (identity.Public, bool) { return identity.Find(trusted, fp) }
	st, err := parseStatement(raw, id, lookup)
	if err != nil {
		return nil, "", fmt.Errorf("request %.16s… ignored: %w (is the initiator's identity trusted? paratro identity add)", id, err)
	}
	var req Request
	if err := st.decode(&req); err != nil {
		return nil, "", err
	}
	if st.Type != TypeRequest || req.Initiator.Fingerprint() != st.Signer {
		return nil, "", fmt.Errorf("request %.16s… ignored: not a request signed by its initiator", id)
	}
	hash := hashStatement(raw)
	if err := req.Validate(); err != nil {
		return &req, hash, err
	}
	var unknown []string
	for _, q := range append([]identity.Public{req.Initiator}, req.Parties...) {
		if t, ok := lookup(q.Fingerprint()); !ok || !t.Equal(q) {
			unknown = append(unknown, q.Label())
		}
	}
	if len(unknown) > 0 {
		return &req, hash, fmt.Errorf("not trusted here: %s (compare fingerprints, then paratro identity add)", strings.Join(unknown, ", "))
	}
	if _, ok := identity.Find(req.Parties, p.Home.ID.Fingerprint()); !ok {
		return &req, hash, errors.New("this party is not one of the request's parties")
	}
	return &req, hash, p.checkWallet(ctx, &req)
}

// checkWallet compares a request with this party's share of the wallet.
func (p *Party) checkWallet(ctx context.Context, req *Request) error {
	if req.Kind == KindDestroy {
		return nil // whether the wallet is destroyed is asked of the relay on approval; erasing is idempotent
	}
	if req.Kind == ceremony.KindKeygen {
		st, err := p.Home.Store.Active(req.WalletID, p.Home.ID.Fingerprint())
		switch {
		case err == nil:
			st.Wipe()
			return fmt.Errorf("wallet %s already exists here", req.WalletID)
		case !errors.Is(err, shares.ErrNotFound):
			return fmt.Errorf("cannot tell whether wallet %s exists here: %w", req.WalletID, err)
		}
		return nil
	}
	st, err := p.Home.Store.Active(req.WalletID, p.Home.ID.Fingerprint())
	if err != nil {
		return fmt.Errorf("no share of wallet %s here: %w", req.WalletID, err)
	}
	st.Wipe()
	if req.Kind == ceremony.KindRefresh {
		// A new share kept pending by an earlier refresh must be settled
		// (once that ceremony's deadline passed) before another one.
		p.settlePending(ctx)
		if pend, err := p.Home.Store.Pending(req.WalletID, p.Home.ID.Fingerprint()); err == nil {
			pend.Wipe()
			return fmt.Errorf("this party still holds a pending share (epoch %d) of %s from an unfinished refresh; it is settled shortly after that refresh's deadline: try again then", pend.Epoch, req.WalletID)
		}
	}
	m := st.Meta
	have := slices.Sorted(slices.Values(m.Parties))
	switch {
	case m.Epoch != req.Epoch:
		return fmt.Errorf("share epoch mismatch: this party holds epoch %d of %s, the request is for epoch %d", m.Epoch, req.WalletID, req.Epoch)
	case hex.EncodeToString(m.ConfigDigest) != req.ConfigDigest:
		return fmt.Errorf("the request's configuration of %s (epoch %d) differs from this party's", req.WalletID, req.Epoch)
	case !slices.Equal(req.participants(), have) || m.Required != req.Required || m.Scheme != string(req.Scheme):
		return fmt.Errorf("the request's parties, threshold or scheme differ from this party's share of %s", req.WalletID)
	case req.Kind == ceremony.KindSign && len(req.Digest) != 64:
		return errors.New("a sign request needs a 32-byte digest")
	}
	return nil
}

// awaitStart waits for the initiator's start; nil if the deadline passes.
func (p *Party) awaitStart(ctx context.Context, id string, req *Request, reqHash string) (*Start, error) {
	ctx, cancel := context.WithDeadline(ctx, req.Deadline)
	defer cancel()
	var after uint64
	for {
		msgs, err := p.Relay.Messages(ctx, id, after, pollWait)
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				p.emit(Event{Ceremony: id, Request: req, What: "failed", Detail: "the initiator never started the ceremony"})
				return nil, nil
			}
			return nil, err
		}
		s, w := controlIn(msgs, &after, id, req, reqHash)
		if w != nil {
			p.emit(Event{Ceremony: id, Request: req, What: "withdrawn", Detail: (&WithdrawnError{By: req.Initiator.Name, Reason: w.Reason}).detail()})
			return nil, nil
		}
		if s != nil {
			if err := checkStart(req, s); err != nil {
				return nil, err
			}
			return s, nil
		}
	}
}

// controlIn returns the initiator's start, or its withdrawal, of the
// request with hash reqHash among msgs, if there is one, and advances after
// past what it read.
func controlIn(msgs []relay.Message, after *uint64, id string, req *Request, reqHash string) (*Start, *Withdraw) {
	for _, m := range msgs {
		*after = max(*after, m.Seq)
		if m.Kind != kindControl || m.From != req.Initiator.Fingerprint() {
			continue
		}
		st, err := parseStatement(m.Data, id, req.member)
		if err != nil {
			continue
		}
		switch st.Type {
		case TypeStart:
			var s Start
			if st.decode(&s) == nil && s.Request == reqHash {
				return &s, nil
			}
		case TypeWithdraw:
			var w Withdraw
			if st.decode(&w) == nil && w.Request == reqHash {
				w.Reason = ceremony.Sanitize(w.Reason)
				return nil, &w
			}
		}
	}
	return nil, nil
}

func checkStart(req *Request, s *Start) error {
	if !slices.IsSorted(s.Signers) || len(slices.Compact(slices.Clone(s.Signers))) != len(s.Signers) {
		return errors.New("the start names signers twice or out of order")
	}
	for _, fp := range s.Signers {
		if _, ok := identity.Find(req.Parties, fp); !ok {
			return fmt.Errorf("the start names %s, who is not a party of the request", fp)
		}
	}
	if s.Presignature != "" && (req.Kind != ceremony.KindSign || req.Scheme != ceremony.SchemeECDSA || req.NoPresignature || req.Index != nil) {
		return fmt.Errorf("the start names a presignature for a request that cannot use one")
	}
	switch {
	case req.Kind == ceremony.KindPresign && !slices.Equal(s.Signers, slices.Sorted(slices.Values(req.Signers))):
		return errors.New("the start's signers differ from the presign request's")
	case req.Kind != ceremony.KindSign && req.Kind != ceremony.KindPresign && !slices.Equal(s.Signers, req.participants()):
		return fmt.Errorf("a %s needs every party; the start names %d of %d", req.Kind, len(s.Signers), len(req.Parties))
	case req.Kind == ceremony.KindSign && len(s.Signers) != req.Required:
		return fmt.Errorf("the start names %d signers; the wallet needs %d", len(s.Signers), req.Required)
	case req.Kind == ceremony.KindSign && len(req.Signers) > 0 && !slices.Equal(s.Signers, slices.Sorted(slices.Values(req.Signers))):
		return errors.New("the start's signers differ from the request's")
	}
	return nil
}

// run runs the approved ceremony and posts this party's outcome.
func (p *Party) run(ctx context.Context, id string, req *Request, start *Start) error {
	d, err := req.startDescriptor(id, start)
	if err != nil {
		return err
	}
	var members []identity.Public
	for _, fp := range start.Signers {
		m, _ := identity.Find(req.Parties, fp)
		members = append(members, m)
	}
	j := &journalEntry{CeremonyID: id, Request: req, Start: start}
	if err := p.writeJournal(j); err != nil {
		return fmt.Errorf("record the ceremony before running it: %w", err)
	}
	p.emit(Event{Ceremony: id, Request: req, What: "started"})
	h := &holder.Holder{ID: party.ID(p.Home.ID.Fingerprint()), Store: p.Home.Store, Cache: &p.shares}
	tr := NewTransport(p.Relay, p.Home.ID, id, members)
	tr.Foreign = func(f *ForeignEnvelope) {
		p.emit(Event{Ceremony: id, Request: req, What: "foreign-envelope", Detail: f.String()})
	}
	rctx, cancel := context.WithDeadline(ctx, req.Deadline)
	defer cancel()
	res, runErr := h.Run(rctx, d, tr, func(ev ceremony.Event) {
		p.emit(Event{Ceremony: id, Request: req, What: "progress", Progress: ev})
	})
	if ctx.Err() != nil {
		return ctx.Err() // stopped: the next start reports it from the journal
	}
	out := outcomeOf(res, runErr)
	if d.PresignatureID != "" {
		out.Presignature, out.PresignaturesLeft = d.PresignatureID, p.presignaturesLeft(req.WalletID)
	}
	if runErr == nil {
		out.Epoch = resultEpoch(req)
		if err := p.record(req, res); err != nil {
			out = &Outcome{OK: false, Code: string(ceremony.CodeInternal), Error: "could not record the wallet: " + err.Error()}
		}
	}
	var pending *holder.PendingError
	if errors.As(runErr, &pending) {
		j.Unsettled = true
		if err := p.writeJournal(j); err != nil {
			return err
		}
	} else {
		p.removeJournal(id)
	}
	if err := p.postOutcome(ctx, id, out); err != nil {
		return err
	}
	if runErr != nil {
		p.emit(Event{Ceremony: id, Request: req, What: "failed", Err: runErr, Outcome: out,
			Evidence: p.keepEvidence(id, req, tr.Evidence(out.Culprits))})
	} else {
		p.emit(Event{Ceremony: id, Request: req, What: "done", Detail: out.PublicKey, Outcome: out})
	}
	return nil
}

func (p *Party) postOutcome(ctx context.Context, id string, o *Outcome) error {
	raw, err := signStatement(p.Home.ID, TypeOutcome, id, o)
	if err != nil {
		return err
	}
	_, err = p.Relay.Post(ctx, id, kindControl, raw)
	return err
}

func outcomeOf(res *ceremony.Result, err error) *Outcome {
	if err != nil {
		o := &Outcome{OK: false, Error: err.Error(), Code: string(ceremony.CodeInternal)}
		var ce *ceremony.Error
		if errors.As(err, &ce) {
			o.Code = string(ce.Code)
			o.Culprits = toStrings(ce.Culprits)
			o.Waiting = toStrings(ce.Waiting)
			o.ReportedBy = string(ce.ReportedBy)
		}
		var pe *holder.PendingError
		o.Pending = errors.As(err, &pe)
		return o
	}
	return &Outcome{OK: true, PublicKey: hex.EncodeToString(res.PublicKey), ConfigDigest: hex.EncodeToString(res.ConfigDigest),
		Signature: hex.EncodeToString(res.Signature), ElapsedMS: res.Elapsed.Milliseconds()}
}

func toStrings(ids []party.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// record keeps the wallet's public record after keygen and refresh.
func (p *Party) record(req *Request, res *ceremony.Result) error {
	switch req.Kind {
	case ceremony.KindKeygen:
		w := &home.Wallet{ID: req.WalletID, Name: req.WalletName, Chain: req.Chain, Scheme: string(req.Scheme),
			Required: req.Required, Parties: req.Parties, Epoch: 1, PublicKey: hex.EncodeToString(res.PublicKey),
			ConfigDigest: hex.EncodeToString(res.ConfigDigest), CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
		w.Address = AddressOf(req.Chain, req.Scheme, res.PublicKey)
		return p.Home.SaveWallet(w)
	case ceremony.KindRefresh:
		w, err := p.Home.Wallet(req.WalletID)
		if err != nil {
			return nil // a holder without a record (imported share): nothing to update
		}
		w.Epoch, w.ConfigDigest, w.UpdatedAt = req.Epoch+1, hex.EncodeToString(res.ConfigDigest), time.Now().UTC()
		return p.Home.SaveWallet(w)
	}
	return nil
}

// AddressOf is the wallet's address on its chain (mainnet for Bitcoin):
// EIP-55 for Ethereum; for Bitcoin, P2WPKH (bech32) for ECDSA wallets and
// the BIP-86 Taproot address (bech32m) for Schnorr wallets. Empty if the
// key does not give one.
func AddressOf(chainName string, scheme ceremony.Scheme, publicKey []byte) string {
	a, err := chain.Address(chainName, scheme, publicKey, bitcoin.Mainnet)
	if err != nil {
		return ""
	}
	return a
}

// resultEpoch is the share epoch a successful ceremony leaves active.
func resultEpoch(req *Request) uint64 {
	switch req.Kind {
	case ceremony.KindKeygen:
		return 1
	case ceremony.KindRefresh:
		return req.Epoch + 1
	}
	return req.Epoch
}
