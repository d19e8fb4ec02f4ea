package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/relay"
)

// RelayTimeout bounds a control-plane command's calls to the relay (the
// client retries a relay that is down or restarting until then).
const RelayTimeout = 20 * time.Second

// Operator is this operator as the relay sees them: their home (identity)
// and a relay client that signs as that identity.
type Operator struct {
	Home   *home.Home
	Client *relay.Client
	URL    string
	close  func()
}

// OpenOperator opens the home and a client of the relay given by --relay
// or PARATRO_RELAY. It does not contact the relay. Close releases the
// keyring.
func OpenOperator(cmd *cobra.Command, f *Factory) (*Operator, error) {
	rl, err := RelayOf(cmd, f)
	if err != nil {
		return nil, err
	}
	h, closeKR, err := OpenHome(cmd, f)
	if err != nil {
		return nil, err
	}
	c, err := relay.NewClient(rl.URL, h.ID, relay.ClientOptions{CAFile: rl.CAFile})
	if err != nil {
		closeKR()
		return nil, err
	}
	return &Operator{Home: h, Client: c, URL: rl.URL, close: closeKR}, nil
}

// NewOperator returns the operator of h with client c of the relay at url
// (for tests and callers that make their own client); Close does nothing.
func NewOperator(h *home.Home, c *relay.Client, url string) *Operator {
	return &Operator{Home: h, Client: c, URL: url, close: func() {}}
}

// Close releases what OpenOperator opened.
func (o *Operator) Close() { o.close() }

// Name is the operator's name.
func (o *Operator) Name() string { return o.Home.ID.Name }

// Register puts the operator's identity on the relay's roster, so that an
// owner can admit it. Registering again is harmless, so every command that
// talks to the relay does it first. Call it before Client.SetOTP: the
// registration is a PUT and would take the code.
func (o *Operator) Register(ctx context.Context) error {
	if err := o.Client.Register(ctx); err != nil {
		return RelayHint(fmt.Errorf("register %s with the relay: %w", o.Home.ID.Label(), err), o.URL)
	}
	return nil
}

// WithOperator opens the operator with open, registers it with the relay
// and runs fn under a context bounded by RelayTimeout, closing the
// operator when fn returns. fn comes after Register, so it may call
// Client.SetOTP; it wraps the errors of its own relay calls (RelayHint),
// each with what failed.
func WithOperator(ctx context.Context, open func() (*Operator, error), fn func(ctx context.Context, op *Operator) error) error {
	op, err := open()
	if err != nil {
		return err
	}
	defer op.Close()
	ctx, cancel := context.WithTimeout(ctx, RelayTimeout)
	defer cancel()
	if err := op.Register(ctx); err != nil {
		return err
	}
	return fn(ctx, op)
}

// relayHints says what to do about the relay's refusals, by API error code.
var relayHints = map[string]string{
	"mfa_required":     "give the code: paratro asks on a terminal; scripts set PARATRO_OTP or pass --otp-stdin",
	"mfa_not_enrolled": "paratro mfa enroll shows a QR code for your authenticator app; paratro mfa status tells whether it is done",
	"mfa_invalid":      "check the code in your authenticator app (paratro's entry for this relay) and this machine's clock; too many wrong codes lock you out for a while",
	"mfa_reused":       "each code works once: wait for the next one (codes change every 30 seconds) and run the command again",
	"mfa_locked":       "wait until the time given, or ask an owner if it was not you who tried",
	"forbidden":        "paratro operator list shows each operator's role; an owner changes it with paratro operator add NAME --role ROLE",
	"not_admitted":     "give an owner your name and fingerprint (paratro identity show), over a channel they trust",
	"no_owner":         "the relay host's administrator makes the first owner: paratro relay bootstrap --data DIR --owner IDENTITY.json",
	"invalid_api_key":  "check the key was copied whole, or make a new one: paratro apikey create --name NAME",
	"api_key_revoked":  "make a new one: paratro apikey create --name NAME",
	"unknown_member":   "every party must be registered with this relay: each runs paratro party run (or paratro operator register) against it once",
	"last_owner":       "make another operator owner first: paratro operator add NAME --role owner",
}

// RelayHint attaches what to do next to an error from the relay: a
// refusal the relay gave a code for, or a relay that never answered
// (url names it). It returns other errors unchanged, and nil for nil.
func RelayHint(err error, url string) error {
	var api *relay.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &api):
		if h, ok := relayHints[api.Code]; ok {
			return WithHint(err, h)
		}
	case errors.Is(err, context.DeadlineExceeded):
		return WithHint(err, "is the relay running at "+url+"? check --relay or PARATRO_RELAY")
	}
	return err
}
