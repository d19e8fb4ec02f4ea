package ceremony_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// TestDeadlinePassingWhileBusyIsATimeout is release case 19 for a party
// that is busy when its deadline passes (verifying a large message on a
// loaded machine; here its progress display stalls): carol's round-3
// message to alice is lost, and alice's loop is held past the deadline
// just after bob's arrived. alice must still report the timeout naming
// carol and the round: not a failure of the threshold library ("protocol:
// not finished": the handler is stopped at the deadline, and a loop that
// looks at it only after the deadline could take that for its end), nor a
// timeout naming nobody (her own last sends, not yet looked at, left out
// of what she waits for). The
// race is the runtime's choice between two ready channels, so 16
// ceremonies run at once: each would fail half the time.
func TestDeadlinePassingWhileBusyIsATimeout(t *testing.T) {
	const runs = 16
	var wg sync.WaitGroup
	errs := make([]error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, ceremonytest.FixtureParties...)
			d.Deadline = time.Now().Add(2 * time.Second)
			net := ceremony.NewMemoryNetwork(d.Parties...)
			net.SetIntercept(ceremonytest.Chain(
				ceremonytest.DropWhere(ceremonytest.And(ceremonytest.Session(d.SessionID()),
					ceremonytest.From("carol"), ceremonytest.To("alice"), ceremonytest.Round(3), ceremonytest.P2P())),
				// The others' abort notices at their own timeouts would
				// give alice's loop a third ready channel: only the
				// deadline and the stopped handler are left to choose from.
				ceremonytest.DropWhere(ceremonytest.And(ceremonytest.OfType(ceremony.TypeAbort), ceremonytest.To("alice"))),
			))
			var stalled bool
			out := ceremonytest.Run(ctx, d, net, []party.ID{"alice", "bob", "carol"}, func(id party.ID, c *ceremony.Config) {
				if id != "alice" {
					return
				}
				c.Progress = func(ev ceremony.Event) {
					if !stalled && ev.Phase == ceremony.PhaseWaiting && ev.Round == 3 && slices.Equal(ev.Waiting, []party.ID{"carol"}) {
						stalled = true
						time.Sleep(time.Until(d.Deadline) + 300*time.Millisecond)
					}
				}
			})
			if !stalled {
				errs[i] = errors.New("alice never waited for carol alone in round 3")
				return
			}
			errs[i] = out["alice"].Err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var e *ceremony.Error
		// bob may be named too: his message can still sit unread in the
		// inbox of a loop that was busy when the deadline passed.
		if !errors.As(err, &e) || !errors.Is(err, ceremony.ErrTimeout) || !slices.Contains(e.Waiting, "carol") ||
			!strings.Contains(err.Error(), "round 3/3 waiting for") || !strings.Contains(err.Error(), "carol") {
			t.Errorf("ceremony %d: alice got %v, want a timeout in round 3/3 waiting for carol", i, err)
		}
	}
}
