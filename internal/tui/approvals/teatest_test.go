package approvals

import (
	"bytes"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
)

// TestProgramSmoke runs the model in a real program loop: a request arrives,
// is approved with a then y, the decision comes out of the channel, and q quits.
func TestProgramSmoke(t *testing.T) {
	decisions := make(chan Decision, 1)
	m := New(testHeader, func(d Decision) { decisions <- d },
		WithNow(t0), WithStyles(PlainStyles()), WithConnected(true))
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))

	tm.Send(RequestArrived{Request: signRequest()})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("treasury")) },
		teatest.WithDuration(3*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	tm.Type("a")
	tm.Type("y")
	select {
	case d := <-decisions:
		if d != (Decision{ID: "s-7f3a", Approve: true}) {
			t.Errorf("decision %+v", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no decision")
	}
	tm.Send(Done{ID: "s-7f3a", OK: true})
	tm.Type("q")
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(3*time.Second)).(Model)
	if !fm.Quitting() || fm.Running() || len(fm.Pending()) != 0 {
		t.Errorf("final: quitting %v, running %v, pending %v", fm.Quitting(), fm.Running(), fm.Pending())
	}
}
