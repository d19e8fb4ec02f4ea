package shares

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"
)

// Scheme names used in [Meta.Scheme].
const (
	SchemeECDSA   = "ecdsa"
	SchemeSchnorr = "schnorr"
)

// Meta is the public description of one party's share of a wallet. It is
// stored sealed together with the secret but is not itself secret.
type Meta struct {
	// WalletID names the wallet; it must match [A-Za-z0-9_-]{1,64}.
	WalletID string
	// PartyID is the holder's party ID: 1 to 32 printable ASCII bytes.
	PartyID string
	// Epoch is 1 after keygen and grows by one with every refresh.
	Epoch uint64
	// Scheme is SchemeECDSA or SchemeSchnorr.
	Scheme string
	// Required is how many parties must take part to sign.
	Required int
	// Parties are all parties of the wallet.
	Parties []string
	// PublicKey is the wallet's public key.
	PublicKey []byte
	// ConfigDigest is the digest of the public configuration that all
	// parties confirmed for this epoch.
	ConfigDigest []byte
	// CreatedAt is when the share was produced.
	CreatedAt time.Time
}

// Share is one party's secret share of a wallet: its metadata and the
// threshold library's serialised configuration.
//
// Formatting a Share with the fmt, log/slog or encoding/json packages shows
// only its metadata, never Secret. Call [Share.Wipe] when done with it.
type Share struct {
	Meta
	// Secret is the serialised configuration. It is opaque to this package.
	Secret []byte
}

// Wipe overwrites the secret with zeros. Copies made elsewhere (for example
// by the threshold library while parsing it) are out of its reach.
func (s *Share) Wipe() {
	if s != nil {
		clear(s.Secret)
	}
}

// String describes the share without its secret.
func (s Share) String() string {
	return fmt.Sprintf("share for %s (party %s, epoch %d, %s %d-of-%d, secret redacted)",
		s.WalletID, s.PartyID, s.Epoch, s.Scheme, s.Required, len(s.Parties))
}

// GoString is like String, in Go syntax, for the %#v verb.
func (s Share) GoString() string {
	return fmt.Sprintf("shares.Share{WalletID:%q, PartyID:%q, Epoch:%d, Scheme:%q, Required:%d, Parties:%q, Secret:<redacted>}",
		s.WalletID, s.PartyID, s.Epoch, s.Scheme, s.Required, s.Parties)
}

// Format implements [fmt.Formatter] so that every verb, including %x and
// %+v, prints String (or GoString for %#v) and never the secret.
func (s Share) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, s.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", s.String())
	default:
		io.WriteString(f, s.String())
	}
}

// LogValue implements [slog.LogValuer]: the share logs as its metadata.
func (s Share) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("wallet", s.WalletID),
		slog.String("party", s.PartyID),
		slog.Uint64("epoch", s.Epoch),
		slog.String("scheme", s.Scheme),
		slog.String("secret", "redacted"),
	)
}

// MarshalJSON encodes only the metadata, so that a Share marshalled by
// mistake does not carry its secret.
func (s Share) MarshalJSON() ([]byte, error) { return json.Marshal(s.Meta) }

// State tells whether a stored share is in use or awaiting confirmation.
type State string

// The states a stored share can be in.
const (
	// StateActive is the share used for signing.
	StateActive State = "active"
	// StatePending is a refreshed share awaiting Commit or Discard.
	StatePending State = "pending"
)

// Entry describes one stored share, without its secret.
type Entry struct {
	Meta
	State State
}

// validateShare checks a share, whose IDs are already known to be valid,
// before it is sealed.
func validateShare(sh *Share) error {
	subject := fmt.Sprintf("share for %s (party %s)", sh.WalletID, sh.PartyID)
	switch {
	case sh.Epoch == 0:
		return errorf(ErrInvalid, "%s: epoch must be 1 or more", subject)
	case sh.Scheme != SchemeECDSA && sh.Scheme != SchemeSchnorr:
		return errorf(ErrInvalid, "%s: unknown scheme %q (want %s or %s)", subject, sh.Scheme, SchemeECDSA, SchemeSchnorr)
	case sh.Required < 1 || sh.Required > len(sh.Parties):
		return errorf(ErrInvalid, "%s: required is %d, want 1 to %d (the number of parties)", subject, sh.Required, len(sh.Parties))
	case !slices.Contains(sh.Parties, sh.PartyID):
		return errorf(ErrInvalid, "%s: the party is not among the wallet's parties", subject)
	case len(sh.Secret) == 0:
		return errorf(ErrInvalid, "%s: the secret is empty", subject)
	}
	return nil
}
