package audit

// Events of the relay's request handling.
const (
	// EventRequestRefused: the relay refused a request before it could
	// read it (its body is over the cap). The entry names the method, the
	// path, the status and the reason, and the caller as far as it is
	// known without the body; never the body.
	EventRequestRefused = "relay.request.refused"
)
