package partycmd

import (
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
	"github.com/paratro/paratro/internal/tui/approvals"
)

// tui drives the approvals screen for a party: coord's decisions and events
// become messages for the model, the holder's keys become decisions.
//
// The protocol never waits for the screen: events go into a queue that one
// goroutine feeds to the program (progress of one ceremony is coalesced to
// its latest state), so a slow terminal or a holder reading a request does
// not hold up a ceremony's messages.
type tui struct {
	opts *RunOptions
	prog *tea.Program
	q    *msgQueue

	mu       sync.Mutex
	answers  map[string]chan approvals.Decision // by screen ID
	asked    map[string]bool                    // put to the holder, by screen ID
	approved map[string]bool                    // approved here, by screen ID
}

// newTUI builds the program on the run's terminal (stdin for keys, stderr
// for the screen).
func newTUI(opts *RunOptions, in io.Reader, screen io.Writer, noColor bool) *tui {
	t := &tui{opts: opts, q: newMsgQueue(), answers: map[string]chan approvals.Decision{}, asked: map[string]bool{}, approved: map[string]bool{}}
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
	return sr
}

// event turns a party event into screen messages.
func (t *tui) event(e coord.Event) {
	id := short(e.Ceremony)
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
		t.q.push(approvals.Done{ID: id, OK: true, Text: text})
		t.q.push(approvals.WalletsHeld(walletsHeld(t.opts)))
	case "failed":
		t.forget(id)
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
	case "request", "approved":
		// the inbox and the running list show these
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
		t.q.push(approvals.LogLine{Text: line + " [" + id + "]"})
	}
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
