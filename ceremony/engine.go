package ceremony

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
)

// Config is one party's side of a ceremony: who it is, how it talks to the
// others, its inputs, and the hooks the engine calls.
type Config struct {
	// Self is this party's ID; it must be one of the descriptor's parties.
	Self party.ID
	// Transport carries messages to and from the other parties.
	Transport Transport
	// Share is this party's current share (sign, presign and refresh).
	Share *Share
	// Presignature is consumed by a sign ceremony whose descriptor names a
	// PresignatureID. MarkPresignatureUsed must then be set: it is called,
	// and must have durably recorded the presignature as used, before the
	// library computes this party's signature share (SECURITY.md B10).
	Presignature         *Presignature
	MarkPresignatureUsed func() error
	// Progress, if set, is called from Run's goroutine whenever the
	// ceremony's state changes. It must not block.
	Progress func(Event)
	// BeforeConfirm, if set, is called for keygen and refresh once this
	// party holds its new share and before it confirms it to the others:
	// store the share as pending there. An error aborts the ceremony.
	BeforeConfirm func(*Result) error
	// MaxMessageSize caps inbound payloads; 0 means DefaultMaxMessageSize.
	MaxMessageSize int
}

// Result is what a ceremony produced for this party.
type Result struct {
	// SessionID is the session ID all parties derived from the descriptor.
	SessionID []byte
	// Share is this party's new share (keygen, refresh).
	Share *Share
	// PublicKey is the wallet public key: 33-byte compressed for ECDSA,
	// 32-byte x-only for Schnorr.
	PublicKey []byte
	// ConfigDigest is the new share's configuration digest (keygen, refresh).
	ConfigDigest []byte
	// Confirmations holds every party's confirmation digest (keygen,
	// refresh); Run returns only when they are all equal.
	Confirmations map[party.ID][]byte
	// Signature is the signature (sign): r||s||v with low s and v the
	// recovery ID (0 or 1) for ECDSA; 64-byte BIP-340 for Schnorr.
	Signature []byte
	// Presignature is the new presignature (presign). It is secret.
	Presignature *Presignature
	// Elapsed is how long the ceremony took.
	Elapsed time.Duration
}

// Run runs this party's side of the ceremony d until it succeeds, fails,
// reaches d.Deadline or ctx ends. Failures are *Error values; a failing
// party tells the others it gave up so they stop at once.
func Run(ctx context.Context, d *Descriptor, cfg Config) (*Result, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if cfg.Transport == nil {
		return nil, invalidf("no transport")
	}
	p, err := prepare(d, &cfg)
	if err != nil {
		return nil, err
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	ctx, cancel := context.WithDeadline(ctx, d.Deadline)
	defer cancel()
	s := newSession(d, cfg, p)
	res, err := s.run(ctx)
	if err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(s.began)
	return res, nil
}

// session is the state of one Run.
type session struct {
	d      *Descriptor
	cfg    Config
	plan   *plan
	sid    []byte
	others []party.ID
	began  time.Time

	handler *protocol.MultiHandler
	ssid    []byte // the library's session hash, from our first message
	round   int    // the library round whose messages we are collecting
	phase   Phase
	sent    map[int]kinds
	got     map[int]map[party.ID]kinds
	seen    map[slotKey][32]byte
	early   []*Message
	confirm map[party.ID][]byte
	last    *Event
	// notes is what the drain reports sent (loop.go), once the handler
	// runs.
	notes <-chan sentNote
	// confirmed is set once this party sends its confirmation.
	confirmed bool

	// The test signature of keygen and refresh (testsign.go): its session
	// ID, its messages that arrived before it started, the test session
	// while it runs, and, in the test session, the outer one.
	testSID   []byte
	testEarly []*Message
	test      *session
	parent    *session

	sendMu   sync.Mutex // guards sendOpen and closing sendq
	sendq    chan *Message
	sendOpen bool
	sendDone chan struct{}
	sendErr  chan error
}

// kinds records which kinds of message were seen in a round.
type kinds uint8

const (
	kindBroadcast kinds = 1 << iota
	kindDirect
)

func kindOf(broadcast bool) kinds {
	if broadcast {
		return kindBroadcast
	}
	return kindDirect
}

type slotKey struct {
	from      party.ID
	typ       MessageType
	round     int
	broadcast bool
}

// queueSize bounds the messages one party exchanges in a ceremony: the
// send queue, the drain's reports, and messages buffered before the
// handler exists (more than that from peers is misbehaviour).
func queueSize(p *plan) int { return 4*len(p.members)*p.final + 16 }

func newSession(d *Descriptor, cfg Config, p *plan) *session {
	others := slices.DeleteFunc(slices.Clone(p.members), func(id party.ID) bool { return id == cfg.Self })
	s := &session{
		d: d, cfg: cfg, plan: p, sid: d.SessionID(), others: others, began: time.Now(),
		round: 1, sent: map[int]kinds{}, got: map[int]map[party.ID]kinds{},
		seen: map[slotKey][32]byte{}, confirm: map[party.ID][]byte{},
		sendq:    make(chan *Message, queueSize(p)),
		sendOpen: true, sendDone: make(chan struct{}), sendErr: make(chan error, 1),
	}
	if d.Kind == KindKeygen || d.Kind == KindRefresh {
		s.testSID = TestSessionID(s.sid)
	}
	return s
}

func (s *session) run(ctx context.Context) (*Result, error) {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	inbox := s.receive(rctx)
	go s.sender(rctx)
	notes, err := s.startHandler(ctx, rctx.Done(), inbox)
	if err != nil {
		return nil, s.fail(err)
	}
	res, err := s.protocolLoop(ctx, inbox, notes)
	if err == nil {
		err = s.flush(ctx)
	}
	if err == nil && (s.d.Kind == KindKeygen || s.d.Kind == KindRefresh) {
		err = s.testSign(ctx, inbox, res)
		if err == nil {
			err = s.confirmLoop(ctx, inbox, res)
		}
	}
	if err != nil {
		return nil, s.fail(err)
	}
	s.setPhase(PhaseDone)
	return res, nil
}

type inbound struct {
	msg *Message
	err error
}

// receive pumps the transport into a channel until ctx ends.
func (s *session) receive(ctx context.Context) <-chan inbound {
	ch := make(chan inbound, 64)
	go func() {
		for {
			m, err := s.cfg.Transport.Receive(ctx)
			if err != nil && ctx.Err() != nil {
				return
			}
			select {
			case ch <- inbound{m, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// sender sends queued messages in order.
func (s *session) sender(ctx context.Context) {
	defer close(s.sendDone)
	for m := range s.sendq {
		if err := s.cfg.Transport.Send(ctx, m); err != nil {
			s.sendErr <- err
			for range s.sendq {
			}
			return
		}
	}
}

// enqueue queues m for the sender; safe from the drain goroutine.
func (s *session) enqueue(m *Message) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if !s.sendOpen {
		return &Error{Code: CodeInternal, Reason: "ceremony already ended"}
	}
	select {
	case s.sendq <- m:
		return nil
	default:
		return &Error{Code: CodeInternal, Reason: "outgoing message queue is full"}
	}
}

// flush waits until every queued message has been handed to the transport.
func (s *session) flush(ctx context.Context) error {
	s.closeQueue()
	select {
	case <-s.sendDone:
	case <-ctx.Done():
		return s.ctxError(ctx)
	}
	select {
	case err := <-s.sendErr:
		return s.transportError(err)
	default:
		return nil
	}
}

func (s *session) closeQueue() {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.sendOpen {
		s.sendOpen = false
		close(s.sendq)
	}
}

// fail tells the other parties this party gives up and returns err. It
// does so even when another party's abort is the cause: that abort may not
// have reached everyone (its sender may have died mid-broadcast), and each
// party sends at most one notice per ceremony.
func (s *session) fail(err error) error {
	s.closeQueue()
	var e *Error
	if errors.As(err, &e) && e.Code == CodeInvalid {
		return err // nothing was started
	}
	notice := abortNotice{Reason: err.Error(), Confirmed: s.confirmed}
	if e != nil {
		notice.Culprits = e.Culprits
	}
	if e != nil && e.Code == CodeAborted {
		// Passing on another party's abort: whether anyone may have
		// completed depends on that party too, not only on this one having
		// confirmed. Claiming Confirmed from s.confirmed alone would make
		// whoever hears this echo before the original keep the new share
		// pending although the aborting party never confirmed.
		notice.Confirmed = e.Unsettled
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Best effort: the ceremony has already failed, and err says why.
	_ = s.cfg.Transport.Send(ctx, &Message{SessionID: s.sid, Type: TypeAbort, From: s.cfg.Self, Payload: notice.encode()})
	return err
}

// ctxError explains why ctx ended: the deadline (naming who we wait for) or
// cancellation.
func (s *session) ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return s.timeoutError()
	}
	return &Error{Code: CodeCancelled, Reason: "cancelled", Err: ctx.Err(), Unsettled: s.confirmed}
}

// timeoutError is this party's own timeout, naming who it waits for.
func (s *session) timeoutError() *Error {
	if s.test != nil {
		// A keygen or refresh in its test signature (a peer's abort,
		// handled here, met the deadline): the test session knows whom
		// this party waits for; this one would name nobody.
		return s.test.timeoutError()
	}
	s.catchUp()
	e := &Error{Code: CodeTimeout, Round: s.displayRound(), Rounds: s.plan.rounds, Waiting: s.waiting(), Unsettled: s.confirmed}
	switch s.phase {
	case PhaseComputing:
		e.Reason = "this party was still computing"
	case PhaseConfirming:
		e.Round, e.Rounds = 0, 0
		e.Reason = "confirmations missing"
	}
	return e
}

func (s *session) transportError(err error) error {
	return &Error{Code: CodeTransport, Round: s.displayRound(), Rounds: s.plan.rounds, Err: err, Unsettled: s.confirmed}
}

func (s *session) misbehaviour(from party.ID, round int, reason string) error {
	r := s.displayRoundOf(round)
	if round == 0 {
		r = 0
	}
	return &Error{Code: CodeMisbehaviour, Culprits: []party.ID{from}, Round: r, Rounds: s.plan.rounds, Reason: reason}
}

// confirmationDigest is what every party attests to after keygen and
// refresh (SECURITY.md B3).
func confirmationDigest(sid, configDigest, publicKey []byte) []byte {
	h := sha256.New()
	h.Write([]byte("paratro/v1/confirm\x00"))
	for _, b := range [][]byte{sid, configDigest, publicKey} {
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	return h.Sum(nil)
}
