package ceremony

import (
	"slices"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// Phase is where a ceremony stands.
type Phase string

// The phases of a ceremony.
const (
	PhaseComputing  Phase = "computing"  // this party computes its first round (CMP keygen: Paillier primes, seconds)
	PhaseWaiting    Phase = "waiting"    // exchanging protocol messages
	PhaseTesting    Phase = "testing"    // signing a test message with the new shares (keygen, refresh)
	PhaseConfirming Phase = "confirming" // waiting for every party's confirmation (keygen, refresh)
	PhaseDone       Phase = "done"
)

// Event reports a ceremony's progress.
type Event struct {
	Kind  Kind
	Phase Phase
	// Round of Rounds is the protocol round in progress.
	Round, Rounds int
	// Waiting are the parties whose messages for this round (or whose
	// confirmations) have not arrived yet.
	Waiting []party.ID
	// Elapsed is the time since the ceremony started.
	Elapsed time.Duration
}

func (s *session) setPhase(p Phase) {
	s.phase = p
	s.emit()
}

// emit reports the current state if it changed since the last report.
func (s *session) emit() {
	if s.cfg.Progress == nil {
		return
	}
	ev := Event{Kind: s.d.Kind, Phase: s.phase, Round: s.displayRound(), Rounds: s.plan.rounds, Waiting: s.waiting()}
	if ev.Phase == PhaseWaiting && len(ev.Waiting) == 0 {
		return // between rounds: the library is computing the next one
	}
	if s.last != nil && s.last.Phase == ev.Phase && s.last.Round == ev.Round && slices.Equal(s.last.Waiting, ev.Waiting) {
		return
	}
	s.last = &ev
	ev.Elapsed = time.Since(s.began)
	s.cfg.Progress(ev)
}

func (s *session) displayRound() int { return s.displayRoundOf(s.round) }

// displayRoundOf maps a library round number to the round shown to people.
func (s *session) displayRoundOf(r int) int {
	if r <= 1 {
		return 1
	}
	if d := r - (s.plan.final - s.plan.rounds); d > 1 {
		return d
	}
	return 1
}

// waiting lists the parties this party still needs something from.
func (s *session) waiting() []party.ID {
	var ids []party.ID
	switch s.phase {
	case PhaseWaiting:
		want := s.sent[s.round]
		for _, id := range s.others {
			if s.got[s.round][id]&want != want {
				ids = append(ids, id)
			}
		}
	case PhaseConfirming:
		for _, id := range s.others {
			if _, ok := s.confirm[id]; !ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func (s *session) markGot(round int, from party.ID, k kinds) {
	if s.got[round] == nil {
		s.got[round] = map[party.ID]kinds{}
	}
	s.got[round][from] |= k
}
