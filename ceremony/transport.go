package ceremony

import (
	"context"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// MessageType distinguishes protocol messages from the engine's own.
type MessageType uint8

// The message types.
const (
	// TypeProtocol carries one threshold-library protocol message.
	TypeProtocol MessageType = 1
	// TypeConfirm carries a party's confirmation of a keygen or refresh result.
	TypeConfirm MessageType = 2
	// TypeAbort tells the other parties this party gave up, and why.
	TypeAbort MessageType = 3
)

func (t MessageType) String() string {
	switch t {
	case TypeProtocol:
		return "protocol"
	case TypeConfirm:
		return "confirm"
	case TypeAbort:
		return "abort"
	}
	return "unknown"
}

// Message is what a Transport carries between the parties of one ceremony.
type Message struct {
	// SessionID is the ceremony's session ID ([Descriptor.SessionID]).
	SessionID []byte
	// Type says what Payload holds.
	Type MessageType
	// From is the sender. A Transport must authenticate it: on receipt it is
	// the party the transport vouches sent the message.
	From party.ID
	// To is the recipient, or empty for a broadcast to every other party.
	To party.ID
	// Round is the protocol round the message belongs to (0 for confirm and
	// abort messages). Transports bind it into their envelopes.
	Round int
	// Payload is the message body: a marshalled protocol message, a
	// confirmation digest, or an abort notice.
	Payload []byte
}

// Broadcast reports whether the message goes to every other party.
func (m *Message) Broadcast() bool { return m.To == "" }

// Transport moves messages between the parties of one ceremony.
//
// Send delivers msg to msg.To, or to every other party of the ceremony when
// msg.To is empty; it must not block for long. Receive returns the next
// message for this party, blocking until one arrives or ctx ends. A
// Transport authenticates senders: Receive sets From to the party that
// really sent the message. It need not deduplicate, order or filter: the
// engine drops duplicates, copes with reordering and rejects messages from
// non-members or for other sessions.
type Transport interface {
	Send(ctx context.Context, msg *Message) error
	Receive(ctx context.Context) (*Message, error)
}
