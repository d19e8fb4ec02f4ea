package ceremony

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
)

type handlerResult struct {
	h   *protocol.MultiHandler
	err error
}

// startHandler builds the library handler off the loop goroutine (CMP round
// 1 generates Paillier primes and takes seconds), watching the deadline and
// buffering early messages meanwhile. The handler's output is drained
// continuously so Accept never blocks (SECURITY.md B5); the returned
// channel reports what was sent and closes when the handler is done.
func (s *session) startHandler(ctx context.Context, done <-chan struct{}, inbox <-chan inbound) (<-chan sentNote, error) {
	s.setPhase(PhaseComputing)
	if s.cfg.Presignature != nil {
		if err := s.cfg.MarkPresignatureUsed(); err != nil {
			return nil, &Error{Code: CodeInternal, Reason: "could not mark the presignature used", Err: err}
		}
	}
	ready := make(chan handlerResult, 1)
	go func() {
		h, err := newHandler(s.plan.start, s.sid)
		ready <- handlerResult{h, err}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil, s.ctxError(ctx)
		case in := <-inbox:
			if err := s.handleInbound(in); err != nil {
				return nil, err
			}
		case r := <-ready:
			if r.err != nil {
				return nil, &Error{Code: CodeInternal, Reason: "could not start the protocol", Err: r.err}
			}
			return s.adopt(r.h, done)
		}
	}
}

func newHandler(start protocol.StartFunc, sid []byte) (h *protocol.MultiHandler, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("threshold library failed: %s", panicText(r))
		}
	}()
	return protocol.NewMultiHandler(start, sid)
}

// adopt takes the new handler: it learns the library's session hash from
// the first outgoing message, starts the drain and replays early messages.
func (s *session) adopt(h *protocol.MultiHandler, done <-chan struct{}) (<-chan sentNote, error) {
	out := h.Listen()
	var first *protocol.Message
	select {
	case first = <-out:
	default:
	}
	if first == nil || first.RoundNumber == 0 {
		_, err := h.Result()
		return nil, &Error{Code: CodeInternal, Reason: "the protocol failed in its first round", Err: err}
	}
	s.handler, s.ssid, s.phase = h, first.SSID, PhaseWaiting
	if err := s.record(s.send(first)); err != nil {
		return nil, err
	}
	notes := make(chan sentNote, queueSize(s.plan))
	s.notes = notes
	go s.drain(out, notes, done)
	early := s.early
	s.early = nil
	for _, m := range early {
		if err := s.handleProtocol(m); err != nil {
			return nil, err
		}
	}
	return notes, nil
}

// sentNote tells the loop what the drain sent.
type sentNote struct {
	round     int
	broadcast bool
	skip      bool
	err       error
}

// drain empties the handler's output as soon as the library produces it and
// queues each message for sending at once, so peers are never kept waiting
// while this party's loop is busy verifying another message; it closes
// notes when the handler is done.
func (s *session) drain(out <-chan *protocol.Message, notes chan<- sentNote, done <-chan struct{}) {
	defer close(notes)
	for {
		select {
		case m, ok := <-out:
			if !ok {
				return
			}
			select {
			case notes <- s.send(m):
			case <-done:
				return
			}
		case <-done:
			return
		}
	}
}

// protocolLoop runs until the handler finishes or something fails.
func (s *session) protocolLoop(ctx context.Context, inbox <-chan inbound, notes <-chan sentNote) (*Result, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, s.ctxError(ctx)
		case err := <-s.sendErr:
			return nil, s.transportError(err)
		case in := <-inbox:
			if err := s.handleInbound(in); err != nil {
				return nil, err
			}
		case n, ok := <-notes:
			if !ok {
				if ctx.Err() != nil {
					// The drain stopped at the deadline (or
					// cancellation), not at the handler's end: a loop
					// busy when it passed sees both at once.
					return nil, s.ctxError(ctx)
				}
				return s.result()
			}
			if err := s.record(n); err != nil {
				return nil, err
			}
		}
	}
}

// handleInbound routes one received message; messages from non-members,
// for other sessions or for other recipients are dropped.
func (s *session) handleInbound(in inbound) error {
	if in.err != nil {
		return s.transportError(in.err)
	}
	m := in.msg
	if m != nil && s.routeOther(m) {
		return s.handleOther(in)
	}
	if m == nil || !bytes.Equal(m.SessionID, s.sid) || !slices.Contains(s.others, m.From) {
		return nil
	}
	if m.To != "" && m.To != s.cfg.Self {
		return nil
	}
	switch m.Type {
	case TypeAbort:
		return s.peerAbort(m)
	case TypeConfirm:
		return s.storeConfirm(m)
	case TypeProtocol:
		if s.handler == nil {
			if len(s.early) >= queueSize(s.plan) {
				return s.misbehaviour(m.From, 0, "too many messages")
			}
			s.early = append(s.early, m)
			return nil
		}
		return s.handleProtocol(m)
	}
	return s.misbehaviour(m.From, 0, fmt.Sprintf("unknown message type %d", m.Type))
}

// handleProtocol checks one protocol message and hands it to the library.
func (s *session) handleProtocol(m *Message) error {
	if len(m.Payload) > s.cfg.MaxMessageSize {
		return s.misbehaviour(m.From, m.Round, fmt.Sprintf("message of %d bytes exceeds the %d-byte limit", len(m.Payload), s.cfg.MaxMessageSize))
	}
	key := slotKey{from: m.From, typ: m.Type, round: m.Round, broadcast: m.Broadcast()}
	sum := sha256.Sum256(m.Payload)
	if prev, ok := s.seen[key]; ok {
		if prev == sum {
			return nil // a duplicate delivery
		}
		return s.misbehaviour(m.From, m.Round, "sent two different messages for the same round (equivocation)")
	}
	pm, err := s.decodeProtocolMessage(m.From, m.To, m.Round, m.Payload)
	if err != nil {
		return s.misbehaviour(m.From, m.Round, err.Error())
	}
	s.seen[key] = sum
	s.markGot(m.Round, m.From, kindOf(m.Broadcast()))
	if err := s.accept(pm); err != nil {
		return s.misbehaviour(m.From, m.Round, err.Error())
	}
	s.emit()
	return nil
}

// accept hands a checked message to the library under recover: with no
// worker pool, a panic caused by a peer's message is caught here and the
// sender is blamed (SECURITY.md B4).
func (s *session) accept(m *protocol.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("message made the threshold library fail: %s", panicText(r))
		}
	}()
	s.handler.Accept(m)
	return nil
}

// panicText describes a recovered panic without risking secret values: only
// runtime errors and the library's own error strings are quoted.
func panicText(r any) string {
	switch v := r.(type) {
	case runtime.Error:
		return Sanitize(v.Error())
	case error:
		return Sanitize(v.Error())
	case string:
		return Sanitize(v)
	}
	return "unexpected panic"
}

// send encodes one message from the library and queues it for sending.
// It runs on the drain goroutine (and once on the loop, for the first).
func (s *session) send(pm *protocol.Message) sentNote {
	if pm.RoundNumber == 0 {
		return sentNote{skip: true} // the library's own abort notice; fail() sends ours
	}
	data, err := pm.MarshalBinary()
	if err != nil {
		return sentNote{err: &Error{Code: CodeInternal, Reason: "could not encode a message", Err: err}}
	}
	r := int(pm.RoundNumber)
	m := &Message{SessionID: s.sid, Type: TypeProtocol, From: s.cfg.Self, To: pm.To, Round: r, Payload: data}
	return sentNote{round: r, broadcast: pm.Broadcast, err: s.enqueue(m)}
}

// record notes a sent message for progress and the waiting list.
func (s *session) record(n sentNote) error {
	if n.err != nil || n.skip {
		return n.err
	}
	s.note(n)
	s.emit()
	return nil
}

// note adds a message sent without error to what this party sent.
func (s *session) note(n sentNote) {
	if n.err == nil && !n.skip {
		s.sent[n.round] |= kindOf(n.broadcast)
		s.round = max(s.round, n.round)
	}
}

// catchUp records the sends the drain reported that the loop has not
// looked at yet: a loop busy when the deadline passed would otherwise
// name whom it waits for from an older round, or nobody.
func (s *session) catchUp() {
	for {
		select {
		case n, ok := <-s.notes:
			if !ok {
				s.notes = nil
				return
			}
			s.note(n)
		default:
			return
		}
	}
}

// peerAbort turns another party's abort notice into this party's error.
func (s *session) peerAbort(m *Message) error {
	if !time.Now().Before(s.d.Deadline) {
		// The deadline has passed here too: a peer that timed out at
		// the same moment names whom it waited for (perhaps this party,
		// itself stuck waiting), so report this party's own timeout,
		// which names the party that really fell silent.
		return s.timeoutError()
	}
	n := decodeAbortNotice(m.Payload)
	accused := slices.DeleteFunc(n.Culprits, func(id party.ID) bool { return !slices.Contains(s.plan.members, id) })
	return &Error{Code: CodeAborted, ReportedBy: m.From, Accused: accused, Reason: Sanitize(n.Reason),
		Round: s.displayRound(), Rounds: s.plan.rounds, Unsettled: s.confirmed && n.Confirmed}
}

// libraryError maps the handler's failure to an *Error.
func (s *session) libraryError(err error) error {
	var pe protocol.Error
	reason := "protocol failed"
	if errors.As(err, &pe) {
		if pe.Err != nil {
			reason = Sanitize(pe.Err.Error())
		}
		culprits := slices.DeleteFunc(slices.Clone(pe.Culprits), func(id party.ID) bool { return id == s.cfg.Self })
		if len(culprits) > 0 {
			return &Error{Code: CodeMisbehaviour, Culprits: culprits, Round: s.displayRound(), Rounds: s.plan.rounds, Reason: reason}
		}
	} else if err != nil {
		reason = Sanitize(err.Error())
	}
	return &Error{Code: CodeInternal, Round: s.displayRound(), Rounds: s.plan.rounds, Reason: reason}
}
