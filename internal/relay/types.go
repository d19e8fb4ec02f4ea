package relay

import (
	"time"

	"github.com/paratro/paratro/internal/identity"
)

// Ceremony is a ceremony as the relay keeps it: who started it, who takes
// part, and the initiator's request, which the relay does not read.
type Ceremony struct {
	ID        string            `json:"id"`        // 64 lower-case hex characters, random
	Initiator string            `json:"initiator"` // fingerprint of the member who created it
	Members   []identity.Public `json:"members"`   // every member, initiator included
	Request   []byte            `json:"request"`   // opaque to the relay (the ceremony descriptor)
	Deadline  time.Time         `json:"deadline"`  // after it the ceremony no longer counts as open
	CreatedAt time.Time         `json:"created_at"`
}

// CreateCeremony is what an initiator sends to open a ceremony. The
// initiator is added to Members when not listed.
type CreateCeremony struct {
	ID       string            `json:"id"`
	Members  []identity.Public `json:"members"`
	Request  []byte            `json:"request"`
	Deadline time.Time         `json:"deadline"`
}

// Message is one message of a ceremony's log.
type Message struct {
	Seq        uint64    `json:"seq"`  // position in the ceremony's log, from 1, never reused
	Kind       string    `json:"kind"` // KindControl or KindEnvelope
	From       string    `json:"from"` // sender's fingerprint, as authenticated by the relay
	To         string    `json:"to"`   // an envelope's recipient; "" for broadcasts and control messages
	Data       []byte    `json:"data"`
	ReceivedAt time.Time `json:"received_at"`
}

// InboxItem tells a member that a ceremony including it was created.
type InboxItem struct {
	Seq        uint64    `json:"seq"`
	CeremonyID string    `json:"ceremony_id"`
	Initiator  string    `json:"initiator"`
	CreatedAt  time.Time `json:"created_at"`
}
