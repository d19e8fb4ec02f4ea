package audit

// Events of a party's ceremony transport.
const (
	// EventForeignEnvelope: a party found, in one ceremony's mailbox, an
	// envelope that a member signed for another ceremony (a concurrent one
	// replayed into it, or a finished one), and ignored it. The relay
	// served it there: the entry is evidence against the relay (party log;
	// the detail names the envelope, its sender and the ceremony it is
	// bound to).
	EventForeignEnvelope = "ceremony.foreign-envelope"
)
