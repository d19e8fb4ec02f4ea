package ceremonytest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/paratro/paratro/ceremony"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
)

// The adversary: an in-process network that misbehaves on purpose.
//
// A ceremony.MemoryNetwork calls one [Intercept] per delivery (one per
// recipient of a broadcast) and delivers whatever it returns. The
// primitives below are such intercepts, or build them, and compose with
// [Chain]:
//
//	net := ceremony.NewMemoryNetwork(d.Parties...)
//	adv := ceremonytest.NewAdversary(net)
//	defer adv.Close()
//	adv.Install(
//		ceremonytest.Duplicate(3),                                   // every message three times
//		adv.Delay(ceremonytest.From("bob"), 200*time.Millisecond),  // bob is slow
//		ceremonytest.DropWhere(ceremonytest.Once(ceremonytest.And(   // one lost message
//			ceremonytest.From("carol"), ceremonytest.To("alice"), ceremonytest.Round(2)))),
//	)
//	out := ceremonytest.Run(ctx, d, net, d.Parties, configure)
//
// What each models:
//
//   - a faulty relay: [Drop], [DropWhere], [Duplicate], [Reorder],
//     [Adversary.Delay], [Adversary.DelayUntil], [Adversary.Reroute];
//   - a malicious relay replaying old traffic: [Recorder] and
//     [Adversary.Replay] / [ReplayBefore];
//   - a malicious party: [Tamper], [TamperField], [Equivocate],
//     [Conflict], [AbortInstead].
//
// The memory network authenticates the sender of every message (From) and
// nothing else, like a transport whose envelopes are signed by the sender
// but whose relay may misroute, hold, repeat or replay them. Primitives
// that change a message's content act for its sender (a malicious party);
// the network primitives never change a message.

// Match selects deliveries: to is the recipient of this delivery.
type Match func(to party.ID, m *ceremony.Message) bool

// From matches messages sent by id.
func From(id party.ID) Match {
	return func(_ party.ID, m *ceremony.Message) bool { return m.From == id }
}

// To matches deliveries to id (broadcasts included).
func To(id party.ID) Match {
	return func(to party.ID, _ *ceremony.Message) bool { return to == id }
}

// Round matches protocol messages of library round r.
func Round(r int) Match {
	return func(_ party.ID, m *ceremony.Message) bool { return m.Type == ceremony.TypeProtocol && m.Round == r }
}

// OfType matches messages of type t.
func OfType(t ceremony.MessageType) Match {
	return func(_ party.ID, m *ceremony.Message) bool { return m.Type == t }
}

// P2P matches point-to-point protocol messages.
func P2P() Match {
	return func(_ party.ID, m *ceremony.Message) bool { return m.Type == ceremony.TypeProtocol && !m.Broadcast() }
}

// Broadcasts matches broadcast protocol messages.
func Broadcasts() Match {
	return func(_ party.ID, m *ceremony.Message) bool { return m.Type == ceremony.TypeProtocol && m.Broadcast() }
}

// Session matches messages of the session sid (a keygen or refresh also
// carries the messages of its test signature, ceremony.TestSessionID).
func Session(sid []byte) Match {
	return func(_ party.ID, m *ceremony.Message) bool { return string(m.SessionID) == string(sid) }
}

// Any matches every delivery.
func Any() Match { return func(party.ID, *ceremony.Message) bool { return true } }

// And matches when every one of ms does.
func And(ms ...Match) Match {
	return func(to party.ID, m *ceremony.Message) bool {
		for _, f := range ms {
			if !f(to, m) {
				return false
			}
		}
		return true
	}
}

// Not matches what m does not.
func Not(m Match) Match {
	return func(to party.ID, x *ceremony.Message) bool { return !m(to, x) }
}

// Once matches only the first delivery m matches: DropWhere(Once(...))
// loses exactly one message, however often it is sent again.
func Once(m Match) Match {
	var mu sync.Mutex
	done := false
	return func(to party.ID, x *ceremony.Message) bool {
		mu.Lock()
		defer mu.Unlock()
		if done || !m(to, x) {
			return false
		}
		done = true
		return true
	}
}

// Only applies f to the deliveries m matches and passes the rest through.
func Only(m Match, f Intercept) Intercept {
	return func(to party.ID, x *ceremony.Message) []*ceremony.Message {
		if !m(to, x) {
			return []*ceremony.Message{x}
		}
		return f(to, x)
	}
}

// DropWhere drops every delivery m matches, for good (a relay that loses
// messages).
func DropWhere(m Match) Intercept {
	return Only(m, func(party.ID, *ceremony.Message) []*ceremony.Message { return nil })
}

// Notify passes everything through and closes the returned channel at the
// first delivery m matches: the condition for [Adversary.DelayUntil].
func Notify(m Match) (Intercept, <-chan struct{}) {
	ch := make(chan struct{})
	var once sync.Once
	return func(to party.ID, x *ceremony.Message) []*ceremony.Message {
		if m(to, x) {
			once.Do(func() { close(ch) })
		}
		return []*ceremony.Message{x}
	}, ch
}

// Adversary owns the network side of an attack: the primitives that hold
// messages back or deliver them elsewhere later need the network and
// goroutines, which Close stops.
type Adversary struct {
	net  *ceremony.MemoryNetwork
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// NewAdversary returns an adversary acting on net.
func NewAdversary(net *ceremony.MemoryNetwork) *Adversary {
	return &Adversary{net: net, stop: make(chan struct{})}
}

// Network returns the network the adversary acts on.
func (a *Adversary) Network() *ceremony.MemoryNetwork { return a.net }

// Install chains fs and sets them as the network's intercept.
func (a *Adversary) Install(fs ...Intercept) { a.net.SetIntercept(Chain(fs...)) }

// Close stops every pending delay; what they hold is never delivered.
func (a *Adversary) Close() {
	a.once.Do(func() { close(a.stop) })
	a.wg.Wait()
}

// later delivers m to `to` once release fires, unless the adversary is
// closed first.
func (a *Adversary) later(to party.ID, m *ceremony.Message, release <-chan struct{}) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		select {
		case <-release:
			a.net.Deliver(to, m)
		case <-a.stop:
		}
	}()
}

// Delay holds every delivery m matches for d, then delivers it (a slow
// link or a slow relay). Intercepts after it in a Chain do not see the
// held messages.
func (a *Adversary) Delay(m Match, d time.Duration) Intercept {
	return Only(m, func(to party.ID, x *ceremony.Message) []*ceremony.Message {
		t := time.NewTimer(d)
		fired := make(chan struct{})
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			select {
			case <-t.C:
				close(fired)
			case <-a.stop:
				t.Stop()
			}
		}()
		a.later(to, x, fired)
		return nil
	})
}

// DelayUntil holds every delivery m matches until release is closed (see
// [Notify]), then delivers it: for example, round 2 only after round 3.
func (a *Adversary) DelayUntil(m Match, release <-chan struct{}) Intercept {
	return Only(m, func(to party.ID, x *ceremony.Message) []*ceremony.Message {
		a.later(to, x, release)
		return nil
	})
}

// Reroute delivers the messages m matches to party `to` instead of their
// recipient, as they are: a point-to-point envelope still names the real
// recipient, so the wrong party drops it, and a rerouted copy of a
// broadcast is a duplicate for `to`; either way the right recipient never
// gets it (the ceremony times out waiting for the sender).
func (a *Adversary) Reroute(m Match, to party.ID) Intercept {
	return Only(m, func(_ party.ID, x *ceremony.Message) []*ceremony.Message {
		a.net.Deliver(to, x)
		return nil
	})
}

// Delivery is one message as delivered to one recipient.
type Delivery struct {
	To  party.ID
	Msg *ceremony.Message
}

// Recorder keeps a copy of every delivery that passes its Intercept, to
// replay it into another ceremony later.
type Recorder struct {
	mu   sync.Mutex
	msgs []Delivery
}

// Intercept records the delivery and passes it through.
func (r *Recorder) Intercept(to party.ID, m *ceremony.Message) []*ceremony.Message {
	c := *m
	c.SessionID = slices.Clone(m.SessionID)
	c.Payload = slices.Clone(m.Payload)
	r.mu.Lock()
	r.msgs = append(r.msgs, Delivery{to, &c})
	r.mu.Unlock()
	return []*ceremony.Message{m}
}

// Deliveries returns what was recorded, in order.
func (r *Recorder) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// Replay delivers recorded messages now, each to its original recipient
// and unchanged: a relay replaying a finished ceremony's traffic into the
// current one.
func (a *Adversary) Replay(recorded []Delivery) {
	for _, r := range recorded {
		a.net.Deliver(r.To, r.Msg)
	}
}

// ReplayBefore returns an intercept that, at the first delivery of each
// (sender, recipient, type, round) slot, first delivers every recorded
// message of that slot: the replayed message reaches the recipient just
// before the one the current ceremony really sent, the strongest position
// a replay can have.
func ReplayBefore(recorded []Delivery) Intercept {
	type slot struct {
		from, to party.ID
		typ      ceremony.MessageType
		round    int
	}
	var mu sync.Mutex
	bySlot := map[slot][]*ceremony.Message{}
	for _, r := range recorded {
		k := slot{r.Msg.From, r.To, r.Msg.Type, r.Msg.Round}
		bySlot[k] = append(bySlot[k], r.Msg)
	}
	return func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		k := slot{m.From, to, m.Type, m.Round}
		mu.Lock()
		old := bySlot[k]
		delete(bySlot, k)
		mu.Unlock()
		out := make([]*ceremony.Message, 0, len(old)+1)
		for _, o := range old {
			c := *o
			out = append(out, &c)
		}
		return append(out, m)
	}
}

// Decode returns the library message inside a protocol message.
func Decode(m *ceremony.Message) (*protocol.Message, error) {
	pm := new(protocol.Message)
	if err := pm.UnmarshalBinary(m.Payload); err != nil || len(pm.Data) == 0 {
		return nil, fmt.Errorf("ceremonytest: not a library message from %s (round %d)", m.From, m.Round)
	}
	return pm, nil
}

// Fields lists the keys of a library message's CBOR content map, sorted:
// the names [SetField], [Field] and [TamperField] take.
func Fields(pm *protocol.Message) []string {
	var fields map[string]cbor.RawMessage
	if err := cbor.Unmarshal(pm.Data, &fields); err != nil {
		return nil
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TamperField returns an intercept with which party `from` sends, in
// `round` (broadcast or point-to-point as asked), field replaced by
// f(current value): a malicious party that changes one named field of its
// message and nothing else. f gets the field's raw CBOR and returns the
// raw CBOR to send (use [Bytes] for byte strings).
func TamperField(from party.ID, round int, broadcast bool, field string, f func(old cbor.RawMessage) []byte) Intercept {
	return Tamper(from, round, broadcast, func(pm *protocol.Message) {
		SetField(pm, field, f(Field(pm, field)))
	})
}

// Equivocate returns an intercept with which party `from` sends its
// broadcast of `round` with different content to different recipients:
// f rewrites the copy for recipient `to` (and may leave it alone). Each
// recipient sees one version only (split view), as from a relay that
// forwards whatever each sender sends to each recipient.
func Equivocate(from party.ID, round int, f func(to party.ID, pm *protocol.Message)) Intercept {
	return func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		return Tamper(from, round, true, func(pm *protocol.Message) { f(to, pm) })(to, m)
	}
}

// Conflict returns an intercept with which party `from` sends two
// different broadcasts for `round`: every recipient gets the real one and
// then a copy rewritten by f. This is what an honest relay shows of an
// equivocating sender (it forwards both); the engine names the sender.
func Conflict(from party.ID, round int, f func(pm *protocol.Message)) Intercept {
	return func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		if m.From != from || m.Type != ceremony.TypeProtocol || m.Round != round || !m.Broadcast() {
			return []*ceremony.Message{m}
		}
		orig := *m
		orig.Payload = slices.Clone(m.Payload)
		return append([]*ceremony.Message{&orig}, Tamper(from, round, true, f)(to, m)...)
	}
}

// AbortInstead returns an intercept that replaces every delivery m matches
// by an abort notice from its sender for ceremony d, giving reason: the
// sender gives up at that point (an abort injected by a party).
func AbortInstead(d *ceremony.Descriptor, m Match, reason string) Intercept {
	return Only(m, func(_ party.ID, x *ceremony.Message) []*ceremony.Message {
		return []*ceremony.Message{ceremony.AbortMessage(d, x.From, reason, false)}
	})
}
