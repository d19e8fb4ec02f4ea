package coord

import (
	"context"
	"errors"
	"fmt"
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
}

// NewTransport returns the transport of ceremony ceremonyID among members
// (self included) for self.
func NewTransport(r Relay, self *identity.Identity, ceremonyID string, members []identity.Public) *Transport {
	m := map[string]identity.Public{}
	for _, p := range members {
		m[p.Fingerprint()] = p
	}
	return &Transport{relay: r, self: self, ceremony: ceremonyID, members: m}
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
			h, pt, err := envelope.Open(t.self, m.Data, t.lookup)
			if err != nil {
				return nil, t.rejected(m, err)
			}
			if h.Ceremony != t.ceremony || h.From != m.From {
				return nil, t.rejected(m, fmt.Errorf("envelope for ceremony %.16s… from %s, found in ceremony %.16s… as posted by %s", h.Ceremony, h.From, t.ceremony, m.From))
			}
			t.queue = append(t.queue, &ceremony.Message{SessionID: h.SessionID, Type: ceremony.MessageType(h.Type),
				From: party.ID(h.From), To: party.ID(h.To), Round: h.Round, Payload: pt})
		}
	}
	m := t.queue[0]
	t.queue = t.queue[1:]
	return m, nil
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
