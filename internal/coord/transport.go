package coord

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// Relay is what coord needs from the relay; *relay.Client provides it.
type Relay interface {
	Register(ctx context.Context) error
	CreateCeremony(ctx context.Context, c relay.CreateCeremony) error
	Ceremony(ctx context.Context, id string) (*relay.Ceremony, error)
	Post(ctx context.Context, ceremonyID, kind string, data []byte) (uint64, error)
	Messages(ctx context.Context, ceremonyID string, after uint64, wait time.Duration) ([]relay.Message, error)
	Inbox(ctx context.Context, after uint64, wait time.Duration) ([]relay.InboxItem, error)
}

// Mailbox kinds on the relay.
const (
	kindControl  = "control"
	kindEnvelope = "envelope"
)

// pollWait is how long one long-poll waits for news.
const pollWait = 25 * time.Second

// Transport carries one ceremony's messages through the relay: each is
// sealed in an envelope to its recipients and posted to the ceremony's
// mailbox; received envelopes are opened and checked against the members'
// identities. It reads the mailbox in sequence order from where it last
// stopped, so a relay restart loses nothing and delivers nothing twice.
type Transport struct {
	relay    Relay
	self     *identity.Identity
	ceremony string
	members  map[string]identity.Public
	after    uint64
	queue    []*ceremony.Message
	// seen holds the SHA-256 of every envelope already read: a relay that
	// serves one again (an old sequence number re-served, or the same
	// bytes under a new one) delivers nothing twice (release case 21).
	seen map[[32]byte]struct{}
	// foreign counts the envelopes ignored as another ceremony's.
	foreign int
	// Foreign, if set, is told about each envelope from another ceremony
	// that was ignored (see Receive), up to maxForeignReports of them.
	Foreign func(*ForeignEnvelope)

	// kept holds, per sender fingerprint, the last keptPerSender
	// envelopes of this ceremony it sent that were opened and delivered,
	// as the relay served them: the evidence Evidence returns.
	keptMu sync.Mutex
	kept   map[string][]*Received
}

// keptPerSender is how many of each member's last envelopes a transport
// keeps as possible evidence. A message that gives its sender away is
// refused in its own round, and by then the sender can have sent at most
// the next round's messages and its abort notice: the offending envelope
// is among its last few (a whole CMP sign is five to six envelopes from
// each member: rounds 2 to 5, round 2 both broadcast and point-to-point,
// and an abort notice). A member that posts more rounds' envelopes after
// its offending one than this can push it out; the ones kept are still
// envelopes it signed.
const keptPerSender = 6

// maxEvidence caps the envelopes Evidence returns for one ceremony.
const maxEvidence = 8

// maxForeignReports caps how many ignored foreign envelopes one transport
// reports: a relay that floods a mailbox must not flood the audit log.
const maxForeignReports = 8

// NewTransport returns the transport of ceremony ceremonyID among members
// (self included) for self.
func NewTransport(r Relay, self *identity.Identity, ceremonyID string, members []identity.Public) *Transport {
	m := map[string]identity.Public{}
	for _, p := range members {
		m[p.Fingerprint()] = p
	}
	return &Transport{relay: r, self: self, ceremony: ceremonyID, members: m, seen: map[[32]byte]struct{}{}}
}

func (t *Transport) lookup(fp string) (identity.Public, bool) {
	p, ok := t.members[fp]
	return p, ok
}

// Send seals msg for its recipient (or every other member) and posts it.
//
// Only in a binary built with the paratro_adversary tag (the end-to-end
// tests' malicious party, adversary_on.go) may outbound first change msg;
// otherwise outbound is post (adversary_off.go).
func (t *Transport) Send(ctx context.Context, msg *ceremony.Message) error {
	return t.outbound(ctx, msg)
}

// post seals msg for its recipient (or every other member) and posts it.
func (t *Transport) post(ctx context.Context, msg *ceremony.Message) error {
	h := envelope.Header{Ceremony: t.ceremony, SessionID: msg.SessionID, Type: uint8(msg.Type), Round: msg.Round,
		From: t.self.Fingerprint(), To: string(msg.To)}
	var to []identity.Public
	if msg.To == "" {
		for fp, p := range t.members {
			if fp != h.From {
				to = append(to, p)
			}
		}
	} else {
		p, ok := t.members[string(msg.To)]
		if !ok {
			return fmt.Errorf("no member %s in this ceremony", msg.To)
		}
		to = []identity.Public{p}
	}
	raw, err := envelope.Seal(t.self, h, msg.Payload, to)
	if err != nil {
		return err
	}
	_, err = t.relay.Post(ctx, t.ceremony, kindEnvelope, raw)
	return err
}

// Receive returns the next message for this party. An envelope that fails
// its checks stops the ceremony with an error naming the member it claims
// to come from: the relay, or somebody on the way, changed it, or it was
// not sealed by that member.
//
// Two things a relay may serve are not failures:
//   - an envelope already read (the same bytes again, under its old
//     sequence number or a new one) is skipped: each is delivered once;
//   - an envelope a member really signed, whose signed header binds it to
//     another ceremony (a concurrent one among the same parties, or a
//     finished one replayed), is ignored and reported through Foreign: it
//     cannot take part in this ceremony (its binding, and the session ID,
//     say where it belongs), so it does not stop this one either (release
//     case 22). An envelope bound to this ceremony that fails any check
//     still stops it.
func (t *Transport) Receive(ctx context.Context) (*ceremony.Message, error) {
	me := t.self.Fingerprint()
	for len(t.queue) == 0 {
		msgs, err := t.relay.Messages(ctx, t.ceremony, t.after, pollWait)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Seq > t.after {
				t.after = m.Seq
			}
			if m.Kind != kindEnvelope || m.From == me || (m.To != "" && m.To != me) {
				continue
			}
			sum := sha256.Sum256(m.Data)
			if _, dup := t.seen[sum]; dup {
				continue
			}
			t.seen[sum] = struct{}{}
			if h, err := envelope.Inspect(m.Data, t.lookup); err == nil && h.Ceremony != t.ceremony {
				t.ignoreForeign(m, h)
				continue
			}
			h, pt, err := envelope.Open(t.self, m.Data, t.lookup)
			if err != nil {
				return nil, t.rejected(m, err)
			}
			if h.Ceremony != t.ceremony || h.From != m.From {
				return nil, t.rejected(m, fmt.Errorf("envelope for ceremony %.16s… from %s, found in ceremony %.16s… as posted by %s", h.Ceremony, h.From, t.ceremony, m.From))
			}
			t.keep(&Received{Seq: m.Seq, Header: h, Raw: m.Data})
			t.queue = append(t.queue, &ceremony.Message{SessionID: h.SessionID, Type: ceremony.MessageType(h.Type),
				From: party.ID(h.From), To: party.ID(h.To), Round: h.Round, Payload: pt})
		}
	}
	m := t.queue[0]
	t.queue = t.queue[1:]
	return m, nil
}

// Received is an envelope of this ceremony that this party opened and
// delivered: Raw is exactly what the relay served (the sender's signature
// included, so anyone with the sender's public identity can check with
// envelope.Inspect who sealed it), Seq the sequence number it came under.
type Received struct {
	Seq    uint64
	Header envelope.Header
	Raw    []byte
}

func (t *Transport) keep(r *Received) {
	t.keptMu.Lock()
	defer t.keptMu.Unlock()
	if t.kept == nil {
		t.kept = map[string][]*Received{}
	}
	k := append(t.kept[r.Header.From], r)
	t.kept[r.Header.From] = k[max(0, len(k)-keptPerSender):]
}

// Evidence returns the envelopes kept from the members named (by
// fingerprint), each member's oldest first, at most maxEvidence in all:
// when the ceremony failed because those members misbehaved, the signed
// envelopes that carried their messages to this party. Safe to call while
// Receive runs.
func (t *Transport) Evidence(culprits []string) []*Received {
	t.keptMu.Lock()
	defer t.keptMu.Unlock()
	var out []*Received
	for _, fp := range culprits {
		k := t.kept[fp]
		out = append(out, k[max(0, len(k)-(maxEvidence-len(out))):]...)
	}
	return slices.Clip(out)
}

// ForeignEnvelope is an envelope a member signed for another ceremony that
// the relay served in this one's mailbox: evidence that the relay mixed
// mailboxes up or replays envelopes, kept by the party's audit log.
type ForeignEnvelope struct {
	// Ceremony is the mailbox it was found in; Bound the ceremony its
	// signed header names.
	Ceremony, Bound string
	// Sender is the member that signed it, by name.
	Sender string
	Seq    uint64
	// Digest is a short hash of the envelope's bytes.
	Digest string
}

func (f *ForeignEnvelope) String() string {
	return fmt.Sprintf("ignored message #%d of ceremony %.16s…: an envelope %s signed for ceremony %.16s… (envelope %s), served by the relay in the wrong mailbox",
		f.Seq, f.Ceremony, f.Sender, f.Bound, f.Digest)
}

// Foreigners is how many envelopes of other ceremonies were ignored.
func (t *Transport) Foreigners() int { return t.foreign }

func (t *Transport) ignoreForeign(m relay.Message, h envelope.Header) {
	t.foreign++
	if t.Foreign == nil || t.foreign > maxForeignReports {
		return
	}
	sender := h.From
	if p, ok := t.members[sender]; ok {
		sender = p.Label()
	}
	t.Foreign(&ForeignEnvelope{Ceremony: t.ceremony, Bound: h.Ceremony, Sender: sender, Seq: m.Seq, Digest: envelope.Digest(m.Data)})
}

// EnvelopeError is an envelope this party refused.
type EnvelopeError struct {
	// Sender is the member the envelope claims to come from (or that the
	// relay says posted it), by name.
	Sender string
	Seq    uint64
	Err    error
}

func (e *EnvelopeError) Error() string {
	what := "failed authentication"
	if errors.Is(e.Err, envelope.ErrMalformed) {
		what = "is malformed"
	}
	return fmt.Sprintf("message #%d claiming to come from %s %s and was rejected (it was changed on the relay or on the way, or not sealed by %s): %v",
		e.Seq, e.Sender, what, e.Sender, e.Err)
}

func (e *EnvelopeError) Unwrap() error { return e.Err }

func (t *Transport) rejected(m relay.Message, err error) error {
	sender := m.From
	var ee *envelope.Error
	if errors.As(err, &ee) && ee.Sender != "" {
		sender = ee.Sender
	}
	if p, ok := t.members[sender]; ok {
		sender = p.Label()
	}
	return &EnvelopeError{Sender: sender, Seq: m.Seq, Err: err}
}
