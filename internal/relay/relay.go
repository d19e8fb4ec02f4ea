// Package relay is the meeting point of paratro's share parties: an HTTP
// server that keeps a roster of identities, ceremonies and their message
// logs in an embedded bbolt store, and the Go client that parties use.
//
// The relay is not trusted with secrets. Every request is signed by the
// caller's identity key (see SignRequest), protocol messages are end-to-end
// encrypted envelopes it cannot open, and it only checks what it must to
// keep parties honest with each other: who may read a ceremony's mailbox,
// and that a sender never posts two different envelopes for the same
// (type, round, recipient) slot (SECURITY.md B3). Everything it
// acknowledges is on disk (fsync'd) before the response leaves, so a relay
// killed mid-ceremony restarts with nothing lost, and the client retries
// through the restart.
package relay

import (
	"log/slog"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/identity"
)

// Defaults of Config's limits.
const (
	DefaultListen            = "127.0.0.1:8700"
	DefaultMaxBody           = 2 << 20  // bytes of one request body
	DefaultMaxRequest        = 64 << 10 // bytes of a ceremony's opaque request
	DefaultMaxMessages       = 2000     // messages in one ceremony's log
	DefaultMaxOpenCeremonies = 64       // ceremonies one identity has open (deadline not passed)
	DefaultMaxCeremonyTTL    = 7 * 24 * time.Hour
	DefaultRate              = 100 // requests per second per identity, sustained
	DefaultBurst             = 400 // requests per identity in a burst
	DefaultClockSkew         = 60 * time.Second
	DefaultMaxWait           = 30 * time.Second
	DefaultShutdownTimeout   = 5 * time.Second
)

// Fixed limits.
const (
	maxBatchBytes    = 4 << 20 // data bytes in one messages response (one message is always sent, whatever its size)
	maxBatchMessages = 500     // messages or inbox items in one response
	maxNonces        = 1 << 20 // nonces remembered at once (a minute's worth of requests)
)

// Config is how a relay runs. The zero value of every limit means its
// default; Listen and DataDir are only read by Serve.
type Config struct {
	Listen   string // host:port; ":0" picks a free port
	DataDir  string // holds relay.db; created 0700 if missing
	TLSCert  string // PEM certificate chain; with TLSKey, serve TLS 1.3 only
	TLSKey   string // PEM private key
	Insecure bool   // allow plain HTTP on a non-loopback address

	Logger *slog.Logger     // nil: discard
	Audit  *audit.Log       // security events; nil: Serve opens <DataDir>/audit.log, NewServer records none
	Now    func() time.Time // nil: time.Now

	// Self is the relay's own identity: it signs the ceremonies the relay
	// starts on API requests. Serve loads it from DataDir (creating it).
	Self *identity.Identity
	// Setup, when set, is called by Serve with the new Server before it
	// listens: the control plane mounts its routes and hooks there.
	Setup func(*Server) error
	// Issuer names this relay in operators' authenticator apps.
	Issuer         string
	MFAMaxFailures int           // consecutive wrong codes that lock an operator out (default 5)
	MFALockout     time.Duration // how long a lockout lasts (default 15 min)

	MaxBody           int64         // request body cap (413)
	MaxRequest        int           // a ceremony's opaque request cap (413)
	MaxMessages       int           // messages per ceremony (413 "ceremony message quota exceeded")
	MaxOpenCeremonies int           // open ceremonies created per identity (429)
	MaxCeremonyTTL    time.Duration // furthest a ceremony deadline may lie ahead
	Rate              float64       // token bucket refill per identity, requests/second
	Burst             int           // token bucket size per identity
	ClockSkew         time.Duration // accepted distance of a request's timestamp from Now
	MaxWait           time.Duration // longest long-poll
	ShutdownTimeout   time.Duration // how long Serve waits for requests in flight
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Issuer == "" {
		c.Issuer = "paratro"
	}
	setDefault(&c.MaxBody, DefaultMaxBody)
	setDefault(&c.MaxRequest, DefaultMaxRequest)
	setDefault(&c.MaxMessages, DefaultMaxMessages)
	setDefault(&c.MaxOpenCeremonies, DefaultMaxOpenCeremonies)
	setDefault(&c.MaxCeremonyTTL, DefaultMaxCeremonyTTL)
	setDefault(&c.Rate, DefaultRate)
	setDefault(&c.Burst, DefaultBurst)
	setDefault(&c.ClockSkew, DefaultClockSkew)
	setDefault(&c.MaxWait, DefaultMaxWait)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	return c
}

func setDefault[T int | int64 | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
