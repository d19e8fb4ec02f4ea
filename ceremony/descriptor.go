package ceremony

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// Kind is what a ceremony does.
type Kind string

// The ceremony kinds.
const (
	KindKeygen  Kind = "keygen"  // distributed key generation: creates a wallet
	KindSign    Kind = "sign"    // threshold signature over a 32-byte digest
	KindPresign Kind = "presign" // ECDSA presignature, for one-round signing later
	KindRefresh Kind = "refresh" // new shares of the same key (key rotation)
)

// Scheme is the signature scheme of a wallet.
type Scheme string

// The signature schemes.
const (
	SchemeECDSA   Scheme = "ecdsa"   // CMP threshold ECDSA over secp256k1
	SchemeSchnorr Scheme = "schnorr" // FROST threshold Schnorr, BIP-340 (Taproot)
)

// MaxParties is the largest number of parties a wallet may have.
const MaxParties = 64

// DigestSize is the size of the digest a sign ceremony signs.
const DigestSize = 32

// ID is a ceremony's random identifier, chosen by the initiator.
type ID [32]byte

// NewID returns a fresh random ceremony ID.
func NewID() ID {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		panic("ceremony: crypto/rand failed: " + err.Error())
	}
	return id
}

// String returns the ID in hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// ParseID parses a hex ceremony ID.
func ParseID(s string) (ID, error) {
	var id ID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("ceremony ID must be %d hex characters", 2*len(id))
	}
	copy(id[:], b)
	return id, nil
}

// Descriptor is what every participant approves before a ceremony starts.
// All fields take part in the session ID, so two parties holding different
// descriptors can never exchange a message the other accepts.
type Descriptor struct {
	// ID is the initiator's random ceremony ID; it makes every session unique.
	ID ID
	// Kind and Scheme say what is run.
	Kind   Kind
	Scheme Scheme
	// WalletID names the wallet.
	WalletID string
	// Parties are the participants of this ceremony: all of the wallet's
	// parties for keygen and refresh, the signers for sign and presign.
	Parties []party.ID
	// Required is the wallet's threshold: how many parties must take part to
	// sign (the library's threshold t is Required-1). At least 2.
	Required int
	// Epoch is the share epoch the ceremony runs on (0 for keygen).
	Epoch uint64
	// ConfigDigest is the public configuration digest of that epoch
	// ([Share.ConfigDigest]); empty for keygen.
	ConfigDigest []byte
	// Digest is the 32-byte message digest to sign (sign only).
	Digest []byte
	// PresignatureID names the presignature a sign ceremony consumes; empty
	// for a full signing ceremony.
	PresignatureID string
	// Index, for an ECDSA sign ceremony, is the BIP-32 child to sign with:
	// every party derives its child share locally from its share
	// (unhardened derivation m/Index from the wallet key and its chain
	// key) and signs with that, so one key generation yields many
	// addresses. nil signs with the wallet key itself. It is a single
	// unhardened index below [HardenedIndex]: hardened derivation needs the
	// whole private key, and Schnorr (FROST) wallets have no chain code to
	// derive with (SECURITY.md #15, B12).
	Index *uint32
	// Taproot, for a Schnorr sign ceremony, signs under the wallet's BIP-86
	// Taproot output key (a P2TR key-path spend) instead of the bare key:
	// every party tweaks its own share the same way (Share.TaprootKeyPath).
	Taproot bool
	// Deadline is when the ceremony gives up.
	Deadline time.Time
}

// SortedParties returns the descriptor's parties in canonical order.
func (d *Descriptor) SortedParties() []party.ID {
	ids := slices.Clone(d.Parties)
	slices.Sort(ids)
	return ids
}

// SessionID is the hash of the canonical encoding of the descriptor. Each
// party computes it from the descriptor it approved (SECURITY.md B1).
func (d *Descriptor) SessionID() []byte {
	var buf bytes.Buffer
	field := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		buf.Write(n[:])
		buf.Write(b)
	}
	num := func(v uint64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], v)
		field(n[:])
	}
	field([]byte("paratro/v1/session"))
	field(d.ID[:])
	field([]byte(d.Kind))
	field([]byte(d.Scheme))
	field([]byte(d.WalletID))
	parties := d.SortedParties()
	num(uint64(len(parties)))
	for _, id := range parties {
		field([]byte(id))
	}
	num(uint64(d.Required))
	num(d.Epoch)
	field(d.ConfigDigest)
	field(d.Digest)
	field([]byte(d.PresignatureID))
	num(uint64(d.Deadline.UTC().UnixNano()))
	if d.Index != nil {
		// Only present when set, so that the session IDs of ceremonies
		// without derivation stay what they were; the tag keeps the
		// encoding unambiguous.
		field([]byte("index"))
		num(uint64(*d.Index))
	}
	if d.Taproot {
		field([]byte("taproot-bip86"))
	}
	sum := sha256.Sum256(buf.Bytes())
	return sum[:]
}

// Validate checks the descriptor on its own, before any share is loaded or
// any handler exists. Errors match [ErrInvalid].
func (d *Descriptor) Validate() error {
	if err := d.validate(); err != nil {
		return &Error{Code: CodeInvalid, Reason: err.Error()}
	}
	return nil
}

func (d *Descriptor) validate() error {
	switch d.Scheme {
	case SchemeECDSA, SchemeSchnorr:
	default:
		return fmt.Errorf("unknown scheme %q (want ecdsa or schnorr)", d.Scheme)
	}
	if d.ID == (ID{}) {
		return fmt.Errorf("ceremony ID is zero")
	}
	if err := ValidateWalletID(d.WalletID); err != nil {
		return err
	}
	if err := ValidateParties(d.Parties); err != nil {
		return err
	}
	if err := d.validateKind(); err != nil {
		return err
	}
	if d.Deadline.IsZero() {
		return fmt.Errorf("ceremony has no deadline")
	}
	return nil
}

func (d *Descriptor) validateKind() error {
	n := len(d.Parties)
	switch d.Kind {
	case KindKeygen, KindRefresh:
		if err := ValidateThreshold(d.Required, n); err != nil {
			return err
		}
	case KindSign, KindPresign:
		if d.Required < 2 || d.Required > MaxParties {
			return fmt.Errorf("threshold: required must be between 2 and %d, got %d", MaxParties, d.Required)
		}
		if n < d.Required {
			return fmt.Errorf("%d signers given, the wallet needs %d", n, d.Required)
		}
	default:
		return fmt.Errorf("unknown ceremony kind %q", d.Kind)
	}
	return d.validateInputs()
}

func (d *Descriptor) validateInputs() error {
	if d.Kind == KindKeygen {
		if d.Epoch != 0 || len(d.ConfigDigest) != 0 {
			return fmt.Errorf("keygen takes no epoch or configuration digest")
		}
	} else if len(d.ConfigDigest) != sha256.Size {
		return fmt.Errorf("%s needs the %d-byte configuration digest of the share epoch", d.Kind, sha256.Size)
	}
	if d.Kind == KindSign {
		if len(d.Digest) != DigestSize {
			return fmt.Errorf("digest must be %d bytes, got %d", DigestSize, len(d.Digest))
		}
	} else if len(d.Digest) != 0 {
		return fmt.Errorf("only sign ceremonies take a digest")
	}
	if d.PresignatureID != "" {
		if d.Kind != KindSign || d.Scheme != SchemeECDSA {
			return fmt.Errorf("presignatures are for ecdsa sign ceremonies only")
		}
		if !printable(d.PresignatureID, 64) {
			return fmt.Errorf("presignature ID must be 1-64 printable characters")
		}
	} else if d.Kind == KindPresign && d.Scheme != SchemeECDSA {
		return fmt.Errorf("presign is for ecdsa wallets only")
	}
	if d.Taproot && (d.Kind != KindSign || d.Scheme != SchemeSchnorr) {
		return fmt.Errorf("a Taproot key-path signature is a schnorr sign ceremony, not %s %s", d.Scheme, d.Kind)
	}
	return d.validateIndex()
}

func (d *Descriptor) validateIndex() error {
	if d.Index == nil {
		return nil
	}
	if d.Kind != KindSign {
		return fmt.Errorf("only sign ceremonies take a derivation index, not %s", d.Kind)
	}
	if err := ValidateIndex(d.Scheme, *d.Index); err != nil {
		return err
	}
	if d.PresignatureID != "" {
		return fmt.Errorf("a presignature is made for the wallet key: it cannot sign for a derived index")
	}
	return nil
}

// HardenedIndex is the first hardened BIP-32 index (2^31). Indexes from it
// up are refused: hardened derivation needs the whole private key, which
// no party has (and the threshold library panics on them).
const HardenedIndex = 1 << 31

// ErrSchnorrDerivation is why Schnorr wallets refuse BIP-32 derivation.
var ErrSchnorrDerivation = errors.New("schnorr (FROST) wallets cannot derive child keys: FROST key generation yields no chain code (SECURITY.md #15), and deriving with an empty one would let anyone who knows the wallet key derive every child")

// ValidateIndex checks a BIP-32 child index for a wallet of the given
// scheme: unhardened (below 2^31) and an ECDSA wallet.
func ValidateIndex(scheme Scheme, i uint32) error {
	if i >= HardenedIndex {
		return fmt.Errorf("hardened derivation unsupported: index %d is 2^31 or more; give an unhardened index 0-%d", i, HardenedIndex-1)
	}
	if scheme == SchemeSchnorr {
		return ErrSchnorrDerivation
	}
	return nil
}

// ValidateThreshold checks a wallet threshold: 2 <= required <= total <= MaxParties.
// required = 1 is refused: every share would then be the whole key.
func ValidateThreshold(required, total int) error {
	switch {
	case total < 2 || total > MaxParties:
		return fmt.Errorf("threshold: total must be between 2 and %d, got %d", MaxParties, total)
	case required == 1:
		return fmt.Errorf("threshold: required must be at least 2 (with 1, every share would be the whole key)")
	case required < 2 || required > total:
		return fmt.Errorf("threshold: required must be between 2 and total (%d), got %d", total, required)
	}
	return nil
}

// ValidateWalletID checks a wallet ID: 1-64 characters of [A-Za-z0-9_-].
func ValidateWalletID(id string) error {
	if len(id) == 0 || len(id) > 64 {
		return fmt.Errorf("wallet ID must be 1-64 characters, got %d", len(id))
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("wallet ID %q may only hold letters, digits, '_' and '-'", id)
		}
	}
	return nil
}

func printable(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}
