package relay

import "sync"

// hub wakes long-polls: a waiter takes the channel of a topic (a ceremony's
// log or an identity's inbox) before it reads the store, and every append
// to the topic closes that channel, so an append that lands between the
// read and the wait is never missed. A topic's channel exists only while
// someone waits on it.
type hub struct {
	mu     sync.Mutex
	topics map[string]*topic
}

type topic struct {
	ch      chan struct{}
	waiters int
}

func newHub() *hub { return &hub{topics: make(map[string]*topic)} }

// subscribe returns the channel closed by the next notify of key, and a
// release function the waiter must call when it stops waiting.
func (h *hub) subscribe(key string) (<-chan struct{}, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[key]
	if t == nil {
		t = &topic{ch: make(chan struct{})}
		h.topics[key] = t
	}
	t.waiters++
	ch := t.ch
	return ch, func() { h.release(key, ch) }
}

// release forgets one waiter on ch; the last one out removes the topic.
func (h *hub) release(key string, ch chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[key]
	if t == nil || t.ch != ch {
		return // notified since: the topic was replaced or removed
	}
	if t.waiters--; t.waiters == 0 {
		delete(h.topics, key)
	}
}

// notify wakes everyone waiting on key.
func (h *hub) notify(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.topics[key]; t != nil {
		close(t.ch)
		delete(h.topics, key)
	}
}
