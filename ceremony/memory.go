package ceremony

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// MemoryNetwork connects the parties of one ceremony inside one process.
// It authenticates senders by construction: an endpoint stamps its own ID
// on everything it sends. Safe for concurrent use.
type MemoryNetwork struct {
	mu        sync.Mutex
	parties   []party.ID
	inboxes   map[party.ID]*memoryQueue
	intercept func(to party.ID, m *Message) []*Message
}

// NewMemoryNetwork returns a network joining the given parties.
func NewMemoryNetwork(parties ...party.ID) *MemoryNetwork {
	n := &MemoryNetwork{parties: slices.Clone(parties), inboxes: map[party.ID]*memoryQueue{}}
	for _, id := range parties {
		n.inboxes[id] = newMemoryQueue()
	}
	return n
}

// Endpoint returns party id's transport. It panics if id is not a member:
// that is a programming error.
func (n *MemoryNetwork) Endpoint(id party.ID) Transport {
	if _, ok := n.inboxes[id]; !ok {
		panic(fmt.Sprintf("ceremony: %q is not on this network", id))
	}
	return &memoryEndpoint{net: n, self: id}
}

// SetIntercept installs a hook that sees every delivery (one call per
// recipient, with a private copy of the message) and returns what to
// deliver instead: nothing to drop it, several to duplicate it, a changed
// copy to tamper with it. Tests use it to play an adversarial network.
func (n *MemoryNetwork) SetIntercept(f func(to party.ID, m *Message) []*Message) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.intercept = f
}

// Deliver puts m into party to's inbox as is, bypassing the intercept. Tests
// use it to inject messages, including ones a real transport would refuse.
func (n *MemoryNetwork) Deliver(to party.ID, m *Message) {
	if q, ok := n.inboxes[to]; ok {
		q.push(copyMessage(m))
	}
}

func (n *MemoryNetwork) send(from party.ID, m *Message) error {
	m = copyMessage(m)
	m.From = from
	var targets []party.ID
	if m.To == "" {
		targets = slices.DeleteFunc(slices.Clone(n.parties), func(id party.ID) bool { return id == from })
	} else if _, ok := n.inboxes[m.To]; ok {
		targets = []party.ID{m.To}
	} else {
		return fmt.Errorf("no party %q on this network", m.To)
	}
	n.mu.Lock()
	intercept := n.intercept
	n.mu.Unlock()
	for _, to := range targets {
		out := []*Message{copyMessage(m)}
		if intercept != nil {
			out = intercept(to, out[0])
		}
		for _, x := range out {
			n.inboxes[to].push(x)
		}
	}
	return nil
}

type memoryEndpoint struct {
	net  *MemoryNetwork
	self party.ID
}

func (e *memoryEndpoint) Send(_ context.Context, m *Message) error { return e.net.send(e.self, m) }

func (e *memoryEndpoint) Receive(ctx context.Context) (*Message, error) {
	return e.net.inboxes[e.self].pop(ctx)
}

// memoryQueue is an unbounded FIFO whose pop blocks.
type memoryQueue struct {
	mu     sync.Mutex
	items  []*Message
	notify chan struct{}
}

func newMemoryQueue() *memoryQueue { return &memoryQueue{notify: make(chan struct{}, 1)} }

func (q *memoryQueue) push(m *Message) {
	q.mu.Lock()
	q.items = append(q.items, m)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *memoryQueue) pop(ctx context.Context) (*Message, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			m := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			q.mu.Unlock()
			return m, nil
		}
		q.mu.Unlock()
		select {
		case <-q.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func copyMessage(m *Message) *Message {
	c := *m
	c.SessionID = bytes.Clone(m.SessionID)
	c.Payload = bytes.Clone(m.Payload)
	return &c
}
