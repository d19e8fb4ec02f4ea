package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// clock advances by one second each time it is read.
func clock() func() time.Time {
	t := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

var parties = []party.ID{"alice", "bob", "carol"}

func TestNotATerminalGetsOneLinePerStep(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, false, false, clock())
	r.Start("ecdsa: create wallet 2-of-3", parties)
	r.Event(ceremony.Event{Phase: ceremony.PhaseWaiting, Round: 2, Rounds: 5, Waiting: []party.ID{"carol"}})
	r.Done("wal_x 0xabc")
	want := "ecdsa: create wallet 2-of-3 ...\necdsa: create wallet 2-of-3 ok (1.0 s): wal_x 0xabc\n"
	if buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
	if strings.Contains(buf.String(), "\r") || strings.Contains(buf.String(), "\033") {
		t.Fatal("escape sequences in non-terminal output")
	}
}

func TestTerminalLineShowsRoundAndWhoIsAwaited(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, true, false, clock())
	r.Start("ecdsa: create wallet 2-of-3", parties)
	r.Event(ceremony.Event{Phase: ceremony.PhaseWaiting, Round: 3, Rounds: 5, Waiting: []party.ID{"carol"}})
	if got := buf.String(); !strings.Contains(got, "round 3/5  alice ✔  bob ✔  carol …") {
		t.Fatalf("live line %q does not show round 3/5 with carol awaited", got)
	}
	r.Event(ceremony.Event{Phase: ceremony.PhaseConfirming, Round: 5, Rounds: 5, Waiting: []party.ID{"bob"}})
	if got := buf.String(); !strings.Contains(got, "confirming  alice ✔  bob …  carol ✔") {
		t.Fatalf("live line %q does not show the confirmation round", got)
	}
	r.Fail()
	if !strings.HasSuffix(buf.String(), "\r\033[K✘ ecdsa: create wallet 2-of-3 (4.0 s)\n") {
		t.Fatalf("final line: %q", buf.String())
	}
}

func TestQuietPrintsNothing(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, true, true, clock())
	r.Start("x", parties)
	r.Event(ceremony.Event{Phase: ceremony.PhaseWaiting, Round: 2, Rounds: 3})
	r.Done("y")
	if buf.Len() != 0 {
		t.Fatalf("quiet reporter wrote %q", buf.String())
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		9 * time.Millisecond:    "9 ms",
		1800 * time.Millisecond: "1.8 s",
		125 * time.Second:       "2 m 5 s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}
