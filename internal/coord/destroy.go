package coord

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// KindDestroy is a request to every party of a wallet its owners destroyed
// on the relay: erase your share. It runs no protocol and has no start:
// each party that approves checks with the relay that the wallet is
// destroyed, erases its share and posts its outcome.
const KindDestroy ceremony.Kind = "destroy"

// StatusDestroyed is the wallet status (GET /v1/wallets/{id}) a party
// needs to see before it erases its share.
const StatusDestroyed = "destroyed"

// destroySummary is what a destroy request asks, for the approver.
const destroySummary = "erase this party's share of the wallet for good: its owners destroyed it on the relay " +
	"(checked with the relay before erasing); this cannot be undone"

// Erasure is what the initiator of a destroy request learnt from the
// parties, by name.
type Erasure struct {
	CeremonyID string
	Erased     []string
	Failed     map[string]string // name: the party's error
	Rejected   map[string]string // name: the party's reason
	Waiting    []string          // no answer yet (at the end: none before the deadline)
}

// Done reports whether every party answered.
func (e *Erasure) Done() bool { return len(e.Waiting) == 0 }

// InitiateDestroy posts a destroy request (req.Kind must be KindDestroy)
// and collects the parties' answers until every party answered or the
// deadline passed; progress, if set, sees each change. A rejection or a
// failure at one party does not stop the others. It returns an error only
// when the request could not be posted or ctx ended first.
func InitiateDestroy(ctx context.Context, r Relay, self *identity.Identity, req *Request, progress func(*Erasure)) (*Erasure, error) {
	req.Initiator = self.Public
	if req.Kind != KindDestroy {
		return nil, fmt.Errorf("InitiateDestroy needs a %s request, not %s", KindDestroy, req.Kind)
	}
	id, raw, err := postRequest(ctx, r, self, req)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithDeadline(ctx, req.Deadline.Add(reportGrace))
	defer cancel()
	t := &erasureTally{req: req, reqHash: hashStatement(raw), answers: map[string]string{},
		e: &Erasure{CeremonyID: id, Failed: map[string]string{}, Rejected: map[string]string{}}}
	t.update(progress)
	var after uint64
	for !t.e.Done() {
		msgs, err := r.Messages(dctx, id, after, pollWait)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if dctx.Err() != nil {
				return t.e, nil // the deadline: Waiting names who never answered
			}
			return nil, err
		}
		for _, m := range msgs {
			after = max(after, m.Seq)
			if m.Kind != kindControl {
				continue
			}
			if st, err := parseStatement(m.Data, id, req.member); err == nil && st.Signer == m.From && t.take(st) {
				t.update(progress)
			}
		}
	}
	return t.e, nil
}

// erasureTally follows the answers to one destroy request.
type erasureTally struct {
	req     *Request
	reqHash string
	answers map[string]string // fingerprint: "erased", "failed", "rejected"
	e       *Erasure
}

// take notes a party's rejection or outcome; it reports whether anything
// changed.
func (t *erasureTally) take(st *Statement) bool {
	fp := st.Signer
	if _, party := identity.Find(t.req.Parties, fp); !party || t.answers[fp] != "" {
		return false
	}
	name := t.req.name(fp)
	switch st.Type {
	case TypeApproval:
		var a Approval
		if st.decode(&a) != nil || a.Request != t.reqHash || a.Approve {
			return false
		}
		t.answers[fp], t.e.Rejected[name] = "rejected", ceremony.Sanitize(a.Reason)
	case TypeOutcome:
		var o Outcome
		if st.decode(&o) != nil {
			return false
		}
		if o.OK {
			t.answers[fp] = "erased"
			t.e.Erased = append(t.e.Erased, name)
		} else {
			t.answers[fp], t.e.Failed[name] = "failed", sanitizeLong(o.Error)
		}
	default:
		return false
	}
	return true
}

func (t *erasureTally) update(progress func(*Erasure)) {
	t.e.Waiting = nil
	for _, p := range t.req.Parties {
		if t.answers[p.Fingerprint()] == "" {
			t.e.Waiting = append(t.e.Waiting, p.Name)
		}
	}
	slices.Sort(t.e.Erased)
	if progress != nil {
		progress(t.e)
	}
}

// WalletStatusFunc asks the relay for a wallet's status (GET
// /v1/wallets/{id}): "destroyed" once its owners destroyed it.
type WalletStatusFunc func(ctx context.Context, walletID string) (string, error)

// RelayWalletStatus asks c's relay (GET /v1/wallets/{id}, as c's
// identity) for a wallet's status.
func RelayWalletStatus(c *relay.Client) WalletStatusFunc {
	return func(ctx context.Context, id string) (string, error) {
		var w struct {
			Status string `json:"status"`
		}
		if err := c.Do(ctx, http.MethodGet, "/v1/wallets/"+url.PathEscape(id), nil, &w); err != nil {
			return "", err
		}
		return w.Status, nil
	}
}

// erase is this party's side of an approved destroy request: check with
// the relay that the wallet is destroyed, erase the share, forget the
// wallet here, and post the outcome. The audit log keeps the record.
func (p *Party) erase(ctx context.Context, id string, req *Request) error {
	out := &Outcome{OK: true}
	if err := p.eraseWallet(ctx, req.WalletID); err != nil {
		out = &Outcome{OK: false, Code: "erase_failed", Error: err.Error()}
	}
	p.auditErasure(id, req, out)
	if err := p.postOutcome(ctx, id, out); err != nil {
		return fmt.Errorf("post the erasure's outcome: %w", err)
	}
	if out.OK {
		p.emit(Event{Ceremony: id, Request: req, What: "erased", Detail: "share erased and key-encryption key replaced", Outcome: out})
	} else {
		p.emit(Event{Ceremony: id, Request: req, What: "failed", Err: errors.New(out.Error), Outcome: out})
	}
	return nil
}

func (p *Party) eraseWallet(ctx context.Context, walletID string) error {
	if p.WalletStatus == nil {
		return errors.New("nothing erased: this party cannot ask the relay whether the wallet was destroyed")
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	status, err := p.WalletStatus(sctx, walletID)
	cancel()
	switch {
	case err != nil:
		return fmt.Errorf("nothing erased: ask the relay about wallet %s: %w", walletID, err)
	case status != StatusDestroyed:
		return fmt.Errorf("nothing erased: the relay says wallet %s is %s, not destroyed", walletID, ceremony.Sanitize(status))
	}
	if err := p.Home.Store.Destroy(walletID, p.Home.ID.Fingerprint()); err != nil {
		return err
	}
	p.shares.Forget(walletID)
	if err := p.dropJournalOf(walletID); err != nil {
		return fmt.Errorf("share erased, but its journal entries remain: %w", err)
	}
	if err := p.Home.RemoveWallet(walletID); err != nil {
		return fmt.Errorf("share erased, but the wallet's record remains: %w", err)
	}
	return nil
}

// dropJournalOf removes the journal entries of walletID's ceremonies.
func (p *Party) dropJournalOf(walletID string) error {
	entries, err := p.journal()
	if err != nil {
		return err
	}
	for _, j := range entries {
		if j.Request != nil && j.Request.WalletID == walletID {
			p.removeJournal(j.CeremonyID)
		}
	}
	return nil
}

// auditErasure records the erasure (or why it failed) in the party's log.
func (p *Party) auditErasure(id string, req *Request, out *Outcome) {
	if p.Audit == nil {
		return
	}
	a := audit.Entry{Event: audit.EventShareErased, Actor: p.Home.ID.Name + " (" + p.Home.ID.Fingerprint() + ")",
		Ceremony: id, Wallet: req.WalletID, Kind: string(req.Kind), Outcome: "ok",
		Detail: "share files overwritten and removed; the share store's key-encryption key replaced; wallet record and journal entries removed"}
	if !out.OK {
		a.Outcome, a.Detail = "failed", out.Error
	}
	if _, err := p.Audit.Append(a); err != nil && p.Events != nil {
		p.Events(Event{Ceremony: id, Request: req, What: "error", Err: fmt.Errorf("audit log: %w", err)})
	}
}

// String lists who erased and who did not, for messages.
func (e *Erasure) String() string {
	parts := []string{"erased: " + orNone(e.Erased)}
	for _, n := range slices.Sorted(maps.Keys(e.Failed)) {
		parts = append(parts, n+" failed: "+e.Failed[n])
	}
	for _, n := range slices.Sorted(maps.Keys(e.Rejected)) {
		parts = append(parts, n+" rejected: "+e.Rejected[n])
	}
	if len(e.Waiting) > 0 {
		parts = append(parts, "no answer from "+strings.Join(e.Waiting, ", "))
	}
	return strings.Join(parts, "; ")
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
