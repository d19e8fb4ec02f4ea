package partycmd

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/tui/approvals"
	"github.com/paratro/paratro/shares"
)

// tui drives the approvals screen for a party: coord's decisions and events
// become messages for the model, the holder's keys become decisions.
//
// The protocol never waits for the screen: events go into a queue that one
// goroutine feeds to the program (progress of one ceremony is coalesced to
// its latest state), so a slow terminal or a holder reading a request does
// not hold up a ceremony's messages.
//
// Presign ceremonies (the presignature pool's, in the background) are
// shown as approvals.Background: one log line per wallet, not a row each.
// The presignature counts are read from the store by one goroutine,
// kicked when a ceremony ends, so the party never waits for the store.
type tui struct {
	opts *RunOptions
	prog *tea.Program
	q    *msgQueue
	kick chan struct{} // recount the presignatures

	mu       sync.Mutex
	answers  map[string]chan approvals.Decision // by screen ID
	asked    map[string]bool                    // put to the holder, by screen ID
	approved map[string]bool                    // approved here, by screen ID
}

// newTUI builds the program on the run's terminal (stdin for keys, stderr
// for the screen).
func newTUI(opts *RunOptions, in io.Reader, screen io.Writer, noColor bool) *tui {
	t := &tui{opts: opts, q: newMsgQueue(), kick: make(chan struct{}, 1), answers: map[string]chan approvals.Decision{}, asked: map[string]bool{}, approved: map[string]bool{}}
	styles := approvals.PlainStyles()
	if !noColor {
		styles = approvals.DefaultStyles(lipgloss.NewRenderer(screen))
	}
	m := approvals.New(approvals.Header{
		Operator:    opts.Home.ID.Name,
		Fingerprint: opts.Home.ID.DisplayFingerprint(),
		Relay:       opts.URL,
		Wallets:     walletsHeld(opts),
	}, t.decided, approvals.WithNow(opts.Now()), approvals.WithStyles(styles))
	t.prog = tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(screen), tea.WithAltScreen())
	return t
}

func walletsHeld(opts *RunOptions) int {
	ws, err := opts.Home.Wallets()
	if err != nil {
		return 0
	}
	return len(ws)
}

// run shows the screen until the holder quits or party ends; quitting the
// screen stops the party. It returns the party's error.
func (t *tui) run(ctx context.Context, party func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go t.q.feed(ctx, t.prog)
	go t.tick(ctx)
	go t.countPresignatures(ctx)
	errc := make(chan error, 1)
	go func() {
		err := party(ctx)
		errc <- err
		t.prog.Quit()
	}()
	_, uiErr := t.prog.Run()
	cancel()
	err := <-errc
	if err == nil && uiErr != nil && ctx.Err() == nil {
		err = fmt.Errorf("approvals screen: %w", uiErr)
	}
	return err
}

func (t *tui) tick(ctx context.Context) {
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			t.q.push(approvals.Tick(t.opts.Now()))
		}
	}
}

// countPresignatures sends the presignature counts now and after every
// kick, until ctx ends.
func (t *tui) countPresignatures(ctx context.Context) {
	for {
		t.q.push(presignatureCounts(t.opts.Home))
		select {
		case <-ctx.Done():
			return
		case <-t.kick:
		}
	}
}

// recount asks for the presignature counts again (without waiting).
func (t *tui) recount() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// presignatureCounts counts the unused presignatures of the active share
// of every ECDSA wallet the home holds, sorted by the wallet as shown.
func presignatureCounts(h *home.Home) approvals.Presignatures {
	entries, err := h.Store.List()
	if err != nil {
		return nil
	}
	names := map[string]string{}
	if ws, err := h.Wallets(); err == nil {
		for _, w := range ws {
			names[w.ID] = w.Name
		}
	}
	var out approvals.Presignatures
	for _, e := range entries {
		if e.State != shares.StateActive || e.Scheme != shares.SchemeECDSA {
			continue
		}
		list, err := h.Store.Presignatures(e.WalletID, e.PartyID)
		if err != nil {
			continue
		}
		out = append(out, approvals.PoolCount{WalletID: e.WalletID, Wallet: cmp.Or(names[e.WalletID], e.WalletID), Left: len(list)})
	}
	slices.SortFunc(out, func(a, b approvals.PoolCount) int {
		return cmp.Or(cmp.Compare(a.Wallet, b.Wallet), cmp.Compare(a.WalletID, b.WalletID))
	})
	return out
}

// connection is the relay client's OnConnection.
func (t *tui) connection(up bool) { t.q.push(approvals.Connected(up)) }

// decided receives the holder's decision from the model.
func (t *tui) decided(d approvals.Decision) {
	t.mu.Lock()
	ch := t.answers[d.ID]
	delete(t.answers, d.ID)
	t.mu.Unlock()
	if ch != nil {
		ch <- d // buffered: one answer per request
	}
}

// decide is the party's Decider: it puts the request in the inbox and
// waits for the holder, or withdraws it when the question became moot.
func (t *tui) decide(ctx context.Context, p *coord.Proposal) (coord.Decision, error) {
	id := short(p.CeremonyID)
	ch := make(chan approvals.Decision, 1)
	t.mu.Lock()
	t.answers[id] = ch
	t.asked[id] = true
	t.mu.Unlock()
	t.q.push(approvals.RequestArrived{Request: screenRequest(id, p, t.opts.Now())})
	select {
	case d := <-ch:
		if d.Approve {
			t.mu.Lock()
			t.approved[id] = true
			t.mu.Unlock()
			return coord.Decision{Approve: true}, nil
		}
		reason := strings.TrimSpace(d.Reason)
		if reason == "" {
			reason = "rejected by " + t.opts.Home.ID.Name
		} else {
			reason = "rejected by " + t.opts.Home.ID.Name + ": " + reason
		}
		return coord.Decision{Approve: false, Reason: reason}, nil
	case <-ctx.Done():
		// The party says why (withdrawn, settled elsewhere, expired) with
		// an event, which takes the request off the screen.
		t.mu.Lock()
		delete(t.answers, id)
		t.mu.Unlock()
		return coord.Decision{}, ctx.Err()
	}
}

// screenRequest is what the inbox shows of a proposal.
func screenRequest(id string, p *coord.Proposal, now time.Time) approvals.Request {
	r := p.Request
	names := make([]string, len(r.Parties))
	for i, q := range r.Parties {
		names[i] = q.Name
	}
	sr := approvals.Request{
		ID: id, Kind: approvals.Kind(r.Kind), WalletID: r.WalletID, WalletName: r.WalletName, Chain: r.Chain,
		Initiator: approvals.Identity{Name: r.Initiator.Name, Fingerprint: r.Initiator.DisplayFingerprint()},
		Parties:   names, Required: r.Required, Deadline: r.Deadline, Received: now, SAS: p.SAS,
	}
	if r.Operator != "" {
		sr.Operator = "for " + ceremony.Sanitize(r.Operator) + " via the relay's API"
	}
	if r.Kind == ceremony.KindSign {
		sr.Digest = r.Digest
		sr.Summary = p.Summary
	}
	if r.Kind == ceremony.KindPresign {
		sr.Signers = signerNamesOf(r)
		if r.Batch != nil && r.Batch.Size > 1 {
			sr.Batch = r.Batch.Size
		}
	}
	return sr
}

// signerNamesOf names a presign request's signers (fingerprints) by the
// request's parties.
func signerNamesOf(r *coord.Request) []string {
	out := make([]string, 0, len(r.Signers))
	for _, fp := range r.Signers {
		name := fp
		for _, q := range r.Parties {
			if q.Fingerprint() == fp {
				name = q.Name
			}
		}
		out = append(out, name)
	}
	return out
}

// walletShown is the request's wallet as the screen names it.
func walletShown(r *coord.Request) string { return cmp.Or(r.WalletName, r.WalletID) }

// event turns a party event into screen messages.
func (t *tui) event(e coord.Event) {
	id := short(e.Ceremony)
	if e.Request != nil && e.Request.Kind == ceremony.KindPresign && t.presignEvent(id, e) {
		return
	}
	switch e.What {
	case "progress":
		pr := e.Progress
		if pr.Phase == ceremony.PhaseDone {
			return // "done" or "failed" follows
		}
		step := ""
		if pr.Phase == ceremony.PhaseTesting {
			step = "test signature"
		}
		t.q.push(approvals.Progress{ID: id, Step: step, Round: pr.Round, Rounds: pr.Rounds, Waiting: t.names(e, pr.Waiting), Elapsed: pr.Elapsed})
	case "started":
		t.q.push(approvals.Progress{ID: id})
	case "done":
		t.forget(id)
		text := ""
		if e.Outcome != nil && e.Request != nil && e.Request.Kind == ceremony.KindKeygen {
			text = "wallet " + e.Request.WalletID + " created"
		}
		if o := e.Outcome; o != nil && o.Presignature != "" {
			text = "signed in one round with a presignature"
			if o.PresignaturesLeft != nil {
				text += fmt.Sprintf(" (%d left)", *o.PresignaturesLeft)
			}
		}
		t.q.push(approvals.Done{ID: id, OK: true, Text: text})
		t.q.push(approvals.WalletsHeld(walletsHeld(t.opts)))
		t.recount()
	case "failed":
		t.forget(id)
		t.recount()
		text := e.Detail
		if e.Err != nil {
			text = ceremony.Sanitize(e.Err.Error())
		}
		t.q.push(approvals.Done{ID: id, OK: false, Text: text})
	case "not-selected", "withdrawn", "expired":
		t.mu.Lock()
		approved := t.approved[id]
		delete(t.approved, id)
		delete(t.asked, id)
		t.mu.Unlock()
		if approved {
			t.q.push(approvals.Done{ID: id, OK: e.What == "not-selected", Text: ceremony.Sanitize(e.Detail)})
		} else {
			t.q.push(approvals.RequestWithdrawn{ID: id, Reason: ceremony.Sanitize(e.Detail)})
		}
	case "request":
		// the inbox shows it if the holder is asked
	case "approved":
		t.mu.Lock()
		asked := t.asked[id]
		t.mu.Unlock()
		if asked || e.Request == nil {
			return // the holder's own answer: the screen logged it
		}
		// approved without asking: say so, and why
		line := "approved " + string(e.Request.Kind) + " " + e.Request.WalletID + " from " + e.Request.Initiator.Name + " without asking"
		if e.Detail != "" {
			line += ": " + ceremony.Sanitize(e.Detail)
		}
		t.q.push(approvals.LogLine{Text: line + " [" + id + "]"})
	case "rejected":
		t.mu.Lock()
		asked := t.asked[id]
		delete(t.asked, id)
		t.mu.Unlock()
		if asked {
			return // the holder's own answer: the screen logged it
		}
		// refused without asking (an untrusted party, a wrong share...)
		line := "refused " + string(e.Request.Kind) + " " + e.Request.WalletID + " from " + e.Request.Initiator.Name
		t.q.push(approvals.LogLine{Text: line + ": " + ceremony.Sanitize(e.Detail) + " [" + id + "]"})
	default:
		line := e.What
		if e.Request != nil {
			line += " " + string(e.Request.Kind) + " " + e.Request.WalletID
		}
		if e.Detail != "" {
			line += ": " + ceremony.Sanitize(e.Detail)
		}
		if e.Err != nil {
			line += ": " + ceremony.Sanitize(e.Err.Error())
		}
		if e.Ceremony == "" {
			// not about one ceremony (the presignature pool backing off):
			// the next such line replaces it
			t.q.push(approvals.LogLine{Text: line, Key: e.What + "/" + e.Detail})
			return
		}
		t.q.push(approvals.LogLine{Text: line + " [" + id + "]"})
		switch e.What {
		case "settled", "erased", "aborted-after-restart":
			t.recount() // another epoch, or none: its presignatures are gone
		}
	}
}

// presignEvent shows an event of a presign ceremony, run in the background
// for a presignature pool; it reports false for what the other events
// show as usual (the request put to the holder, and the holder's answer).
func (t *tui) presignEvent(id string, e coord.Event) bool {
	bg := approvals.Background{ID: id, WalletID: e.Request.WalletID, Wallet: walletShown(e.Request)}
	t.mu.Lock()
	asked, approved := t.asked[id], t.approved[id]
	t.mu.Unlock()
	switch e.What {
	case "request":
		return true // the inbox shows it if the holder is asked
	case "approved":
		if asked {
			return true // the holder's own answer: the screen logged it
		}
		// the pool's own request, or the next of a batch the holder approved
		bg.State, bg.Text = approvals.BackgroundApproved, ceremony.Sanitize(e.Detail)
		if bg.Text == "" {
			bg.Text = presignApprovedWhy(t.opts.Home, e.Request)
		}
	case "started":
		bg.State = approvals.BackgroundStarted
	case "progress":
		return true // a background ceremony's rounds are not shown
	case "done":
		t.forget(id)
		bg.State = approvals.BackgroundDone
		t.recount()
	case "failed":
		t.forget(id)
		bg.State, bg.Text = approvals.BackgroundFailed, ceremony.Sanitize(e.Detail)
		if e.Err != nil {
			bg.Text = ceremony.Sanitize(e.Err.Error())
		}
		t.recount()
	case "not-selected", "withdrawn", "expired":
		if asked && !approved {
			return false // still a question in the inbox: it leaves it
		}
		t.forget(id)
		bg.State, bg.Text = approvals.BackgroundFailed, e.What
		if e.Detail != "" {
			bg.Text += ": " + ceremony.Sanitize(e.Detail)
		}
	case "rejected":
		if asked {
			t.forget(id)
			return true // the holder's own answer: the screen logged it
		}
		// refused without asking; a pool asks again and again: one line
		t.q.push(approvals.LogLine{Key: "presign-refused/" + e.Request.WalletID,
			Text: "refused presign " + e.Request.WalletID + " from " + e.Request.Initiator.Name + ": " + ceremony.Sanitize(e.Detail) + " [" + id + "]"})
		return true
	default:
		return false
	}
	t.q.push(bg)
	return true
}

// presignApprovedWhy says why a presign request was approved without
// asking, when the party's event does not.
func presignApprovedWhy(h *home.Home, r *coord.Request) string {
	switch {
	case r.Initiator.Fingerprint() == h.ID.Fingerprint():
		return "this party's own presignature pool"
	case r.Batch != nil:
		return "batch " + ceremony.Sanitize(r.Batch.ID) + " approved by the holder"
	}
	return "approved without asking"
}

func (t *tui) forget(id string) {
	t.mu.Lock()
	delete(t.approved, id)
	delete(t.asked, id)
	t.mu.Unlock()
}

// names maps the fingerprints a ceremony waits for to the request's names.
func (t *tui) names(e coord.Event, ids []party.ID) []string {
	out := make([]string, 0, len(ids))
	for _, w := range ids {
		n := string(w)
		if e.Request != nil {
			for _, q := range e.Request.Parties {
				if q.Fingerprint() == n {
					n = q.Name
				}
			}
		}
		out = append(out, n)
	}
	return out
}

// msgQueue hands messages to the program without ever blocking the sender.
type msgQueue struct {
	mu   sync.Mutex
	msgs []tea.Msg
	wake chan struct{}
}

// maxQueued bounds the queue if the screen stops reading: log lines are
// dropped, oldest first. Requests, withdrawals and ends are never dropped
// (there are at most a few per ceremony); progress and the clock are
// coalesced to their latest value.
const maxQueued = 1000

func newMsgQueue() *msgQueue { return &msgQueue{wake: make(chan struct{}, 1)} }

func (q *msgQueue) push(m tea.Msg) {
	q.mu.Lock()
	if q.coalesce(m) {
		q.mu.Unlock()
		return
	}
	if len(q.msgs) >= maxQueued {
		if i := slices.IndexFunc(q.msgs, func(old tea.Msg) bool { _, ok := old.(approvals.LogLine); return ok }); i >= 0 {
			q.msgs = slices.Delete(q.msgs, i, i+1)
		}
	}
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// coalesce replaces a queued message m supersedes: the same ceremony's
// progress, or the clock.
func (q *msgQueue) coalesce(m tea.Msg) bool {
	for i, old := range q.msgs {
		switch m := m.(type) {
		case approvals.Progress:
			if op, ok := old.(approvals.Progress); ok && op.ID == m.ID {
				q.msgs[i] = m
				return true
			}
		case approvals.Tick:
			if _, ok := old.(approvals.Tick); ok {
				q.msgs[i] = m
				return true
			}
		}
	}
	return false
}

// feed sends queued messages to the program until ctx ends.
func (q *msgQueue) feed(ctx context.Context, p interface{ Send(tea.Msg) }) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		}
		q.mu.Lock()
		batch := q.msgs
		q.msgs = nil
		q.mu.Unlock()
		for _, m := range batch {
			p.Send(m)
		}
	}
}
