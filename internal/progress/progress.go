// Package progress shows people how a ceremony is going, on stderr: a live
// line redrawn in place on a terminal ("DKG  round 3/5  alice ✔ bob ✔ carol …
// 6.1s"), one line per step when stderr is not a terminal, and nothing with
// --quiet. It never writes to stdout, which is for data.
package progress

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// Reporter reports the steps of a command. Its methods may be called from
// any goroutine.
type Reporter struct {
	w     io.Writer
	tty   bool
	quiet bool
	now   func() time.Time

	mu      sync.Mutex
	step    string
	parties []party.ID
	began   time.Time
	ev      *ceremony.Event
	ticker  *time.Ticker
	done    chan struct{}
}

// New returns a Reporter writing to w (stderr). tty selects the live line;
// quiet silences everything; now is the clock (nil: time.Now).
func New(w io.Writer, tty, quiet bool, now func() time.Time) *Reporter {
	if now == nil {
		now = time.Now
	}
	return &Reporter{w: w, tty: tty, quiet: quiet, now: now}
}

// Start begins a step, such as "ecdsa: create wallet 2-of-3", among parties.
func (r *Reporter) Start(step string, parties []party.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step, r.parties, r.began, r.ev = step, slices.Clone(parties), r.now(), nil
	if r.quiet {
		return
	}
	if !r.tty {
		fmt.Fprintf(r.w, "%s ...\n", step)
		return
	}
	r.draw()
	r.ticker, r.done = time.NewTicker(250*time.Millisecond), make(chan struct{})
	go r.tick(r.ticker, r.done)
}

func (r *Reporter) tick(t *time.Ticker, done chan struct{}) {
	for {
		select {
		case <-t.C:
			r.mu.Lock()
			r.draw()
			r.mu.Unlock()
		case <-done:
			return
		}
	}
}

// Event records a ceremony event of the party whose view is shown.
func (r *Reporter) Event(ev ceremony.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ev = &ev
	if r.tty && !r.quiet {
		r.draw()
	}
}

// Done ends the step with a summary of what it produced.
func (r *Reporter) Done(summary string) { r.end("✔", "ok", summary) }

// Fail ends the step as failed; the error itself is printed by the caller.
func (r *Reporter) Fail() { r.end("✘", "failed", "") }

func (r *Reporter) end(mark, word, summary string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ticker != nil {
		r.ticker.Stop()
		close(r.done)
		r.ticker = nil
	}
	if r.quiet {
		return
	}
	took := Duration(r.now().Sub(r.began))
	line := fmt.Sprintf("%s %s (%s)", r.step, word, took)
	if r.tty {
		line = fmt.Sprintf("\r\033[K%s %s (%s)", mark, r.step, took)
	}
	if summary != "" {
		line += ": " + summary
	}
	fmt.Fprintln(r.w, line)
}

// draw redraws the live line; r.mu is held.
func (r *Reporter) draw() {
	fmt.Fprintf(r.w, "\r\033[K%s", r.line())
}

// line renders the current state: round, and who has answered (✔) or is
// still awaited (…) from the shown party's point of view.
func (r *Reporter) line() string {
	var b strings.Builder
	b.WriteString(r.step)
	if ev := r.ev; ev != nil && ev.Phase != ceremony.PhaseDone {
		switch ev.Phase {
		case ceremony.PhaseComputing:
			fmt.Fprintf(&b, "  round %d/%d computing", ev.Round, ev.Rounds)
		case ceremony.PhaseTesting:
			fmt.Fprintf(&b, "  test signature %d/%d", ev.Round, ev.Rounds)
		case ceremony.PhaseConfirming:
			b.WriteString("  confirming")
		default:
			fmt.Fprintf(&b, "  round %d/%d", ev.Round, ev.Rounds)
		}
		if ev.Phase != ceremony.PhaseComputing {
			for _, id := range r.parties {
				mark := "✔"
				if slices.Contains(ev.Waiting, id) {
					mark = "…"
				}
				fmt.Fprintf(&b, "  %s %s", id, mark)
			}
		}
	}
	fmt.Fprintf(&b, "  %s", Duration(r.now().Sub(r.began)))
	return b.String()
}

// Duration formats a duration for people: "9 ms", "1.8 s", "2 m 5 s".
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%d m %d s", int(d.Minutes()), int(d.Seconds())%60)
}
