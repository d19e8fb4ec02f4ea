// Package envelope seals the protocol messages parties exchange through the
// relay: each message is encrypted to each recipient with HPKE (RFC 9180:
// DHKEM(X25519), HKDF-SHA256, ChaCha20-Poly1305, from Go's crypto/hpke) and
// the whole envelope is signed with the sender's Ed25519 identity key.
//
// The signed header binds the relay ceremony ID, the session ID, the message
// type, the round, the sender and the recipient; each recipient's HPKE info
// binds the same fields with that recipient's ID. So an envelope cannot be
// replayed into another ceremony, session, round or recipient, re-signed by
// somebody else, or read by anybody but its recipients, and the relay (which
// can check the signature without decrypting) stores exactly one envelope per
// (ceremony, type, round, sender, recipient).
//
// A broadcast carries one ciphertext per recipient and the SHA-256 of the
// plaintext in its signed header: every recipient checks its plaintext
// against it, so a sender cannot show different recipients different
// broadcasts without the signed envelope proving it (SECURITY.md B3).
package envelope

import (
	"bytes"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"

	"github.com/paratro/paratro/internal/identity"
)

// Version is the envelope format version.
const Version = 1

// MaxSize caps an envelope before it is parsed: the largest protocol
// message (CMP keygen round-4 broadcast, about 85 KB) sealed to 63
// recipients fits.
const MaxSize = 8 << 20

// MaxPayload caps one plaintext (SECURITY.md B4: 256 KiB per message).
const MaxPayload = 256 << 10

const (
	signDomain = "paratro/envelope/v1 signature\x00"
	infoDomain = "paratro/envelope/v1 hpke\x00"
)

// Header is what an envelope's signature binds besides the ciphertexts.
type Header struct {
	// Ceremony is the relay's ceremony ID (64 hex characters).
	Ceremony string
	// SessionID is the ceremony's session ID (hash of its descriptor).
	SessionID []byte
	// Type is the ceremony message type (protocol, confirm, abort).
	Type uint8
	// Round is the protocol round.
	Round int
	// From is the sender's fingerprint, To the recipient's ("" = broadcast).
	From, To string
}

// Broadcast reports whether the envelope goes to every other party.
func (h Header) Broadcast() bool { return h.To == "" }

// body is the signed part of an envelope.
type body struct {
	V         int    `cbor:"1,keyasint"`
	Ceremony  string `cbor:"2,keyasint"`
	SessionID []byte `cbor:"3,keyasint"`
	Type      uint8  `cbor:"4,keyasint"`
	Round     int    `cbor:"5,keyasint"`
	From      string `cbor:"6,keyasint"`
	To        string `cbor:"7,keyasint"`
	// Digest is SHA-256 of the plaintext of a broadcast; empty for p2p.
	Digest []byte `cbor:"8,keyasint"`
	Boxes  []box  `cbor:"9,keyasint"`
}

// box is one recipient's ciphertext: HPKE enc || ciphertext.
type box struct {
	To string `cbor:"1,keyasint"`
	CT []byte `cbor:"2,keyasint"`
}

// wire is the envelope on the wire: the signed body bytes and the signature.
type wire struct {
	Body []byte `cbor:"1,keyasint"`
	Sig  []byte `cbor:"2,keyasint"`
}

// boxInfo is the HPKE info of one recipient's ciphertext.
type boxInfo struct {
	Ceremony  string `cbor:"1,keyasint"`
	SessionID []byte `cbor:"2,keyasint"`
	Type      uint8  `cbor:"3,keyasint"`
	Round     int    `cbor:"4,keyasint"`
	From      string `cbor:"5,keyasint"`
	To        string `cbor:"6,keyasint"`
	Broadcast bool   `cbor:"7,keyasint"`
}

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxArrayElements:  256,
		MaxMapPairs:       64,
		MaxNestedLevels:   8,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// The ways an envelope is refused. Errors wrap one of them in an *Error.
var (
	// ErrMalformed: the bytes are not an envelope of this version.
	ErrMalformed = errors.New("malformed envelope")
	// ErrUnknownSender: the sender is not a member of the ceremony.
	ErrUnknownSender = errors.New("unknown sender")
	// ErrUnauthenticated: the signature, a ciphertext or the broadcast digest
	// does not verify: the envelope was changed after its sender sealed it,
	// or it does not come from whom it claims.
	ErrUnauthenticated = errors.New("failed authentication")
	// ErrNotForMe: the envelope has no ciphertext for this recipient.
	ErrNotForMe = errors.New("not addressed to this party")
)

// Error is a refused envelope, naming the sender it claims when known.
type Error struct {
	Kind   error
	Sender string // fingerprint the envelope claims to come from; "" if unreadable
	Reason string
}

func (e *Error) Error() string {
	if e.Sender == "" {
		return fmt.Sprintf("envelope %v: %s", e.Kind, e.Reason)
	}
	return fmt.Sprintf("envelope claiming to come from %s %v: %s", e.Sender, e.Kind, e.Reason)
}

// Unwrap returns the kind, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

func fail(kind error, sender, format string, args ...any) *Error {
	return &Error{Kind: kind, Sender: sender, Reason: fmt.Sprintf(format, args...)}
}

var (
	kdf  = hpke.HKDFSHA256()
	aead = hpke.ChaCha20Poly1305()
)

// Seal encrypts payload to each recipient and signs the result as from.
// h.From must be from's fingerprint. A p2p message (h.To set) has exactly
// the recipient h.To; a broadcast has every other member.
func Seal(from *identity.Identity, h Header, payload []byte, recipients []identity.Public) ([]byte, error) {
	if h.From != from.Fingerprint() {
		return nil, fmt.Errorf("envelope: header sender %s is not the sealing identity %s", h.From, from.Fingerprint())
	}
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("envelope: payload of %d bytes is over the %d-byte cap", len(payload), MaxPayload)
	}
	if len(recipients) == 0 {
		return nil, errors.New("envelope: no recipients")
	}
	if !h.Broadcast() && (len(recipients) != 1 || recipients[0].Fingerprint() != h.To) {
		return nil, fmt.Errorf("envelope: a message to %s must be sealed to that recipient only", h.To)
	}
	b := body{V: Version, Ceremony: h.Ceremony, SessionID: h.SessionID, Type: h.Type, Round: h.Round, From: h.From, To: h.To}
	if h.Broadcast() {
		d := sha256.Sum256(payload)
		b.Digest = d[:]
	}
	seen := map[string]bool{}
	for _, r := range recipients {
		fp := r.Fingerprint()
		if fp == h.From || seen[fp] {
			return nil, fmt.Errorf("envelope: recipient %s is the sender or listed twice", fp)
		}
		seen[fp] = true
		pk, err := r.BoxPublicKey()
		if err != nil {
			return nil, fmt.Errorf("envelope: recipient %s: %w", fp, err)
		}
		hpk, err := hpke.NewDHKEMPublicKey(pk)
		if err != nil {
			return nil, err
		}
		ct, err := hpke.Seal(hpk, kdf, aead, info(b, fp), payload)
		if err != nil {
			return nil, fmt.Errorf("envelope: seal to %s: %w", fp, err)
		}
		b.Boxes = append(b.Boxes, box{To: fp, CT: ct})
	}
	slices.SortFunc(b.Boxes, func(x, y box) int { return bytes.Compare([]byte(x.To), []byte(y.To)) })
	bb, err := encMode.Marshal(b)
	if err != nil {
		return nil, err
	}
	return encMode.Marshal(wire{Body: bb, Sig: from.Sign(signed(bb))})
}

// Inspect parses raw and checks its sender's signature with the key that
// sender returns for the header's From; it does not decrypt. The relay
// uses it to refuse forged envelopes and to detect equivocation.
func Inspect(raw []byte, sender func(fingerprint string) (identity.Public, bool)) (Header, error) {
	h, _, err := inspect(raw, sender)
	return h, err
}

func inspect(raw []byte, sender func(string) (identity.Public, bool)) (Header, *body, error) {
	if len(raw) > MaxSize {
		return Header{}, nil, fail(ErrMalformed, "", "%d bytes is over the %d-byte cap", len(raw), MaxSize)
	}
	var w wire
	if err := decMode.Unmarshal(raw, &w); err != nil || len(w.Body) == 0 {
		return Header{}, nil, fail(ErrMalformed, "", "cannot be decoded")
	}
	var b body
	if err := decMode.Unmarshal(w.Body, &b); err != nil {
		return Header{}, nil, fail(ErrMalformed, "", "cannot be decoded")
	}
	h := Header{Ceremony: b.Ceremony, SessionID: b.SessionID, Type: b.Type, Round: b.Round, From: b.From, To: b.To}
	if b.V != Version {
		return h, nil, fail(ErrMalformed, b.From, "unsupported version %d", b.V)
	}
	pub, ok := sender(b.From)
	if !ok {
		return h, nil, fail(ErrUnknownSender, b.From, "the sender is not a member of this ceremony")
	}
	if !pub.Verify(signed(w.Body), w.Sig) {
		return h, nil, fail(ErrUnauthenticated, b.From, "the signature does not verify (changed in transit, or not sealed by this sender)")
	}
	if len(b.Boxes) == 0 || (!h.Broadcast() && (len(b.Boxes) != 1 || b.Boxes[0].To != b.To)) ||
		(h.Broadcast() && len(b.Digest) != sha256.Size) || (!h.Broadcast() && len(b.Digest) != 0) {
		return h, nil, fail(ErrMalformed, b.From, "recipients do not match the header")
	}
	return h, &b, nil
}

// Open checks raw as Inspect does, then decrypts the ciphertext for self
// and, for a broadcast, checks the plaintext against the signed digest.
func Open(self *identity.Identity, raw []byte, sender func(fingerprint string) (identity.Public, bool)) (Header, []byte, error) {
	h, b, err := inspect(raw, sender)
	if err != nil {
		return h, nil, err
	}
	me := self.Fingerprint()
	if h.From == me {
		return h, nil, fail(ErrNotForMe, h.From, "it was sent by this party")
	}
	if !h.Broadcast() && h.To != me {
		return h, nil, fail(ErrNotForMe, h.From, "it is addressed to %s", h.To)
	}
	i := slices.IndexFunc(b.Boxes, func(x box) bool { return x.To == me })
	if i < 0 {
		return h, nil, fail(ErrNotForMe, h.From, "it has no ciphertext for this party")
	}
	priv, err := hpke.NewDHKEMPrivateKey(self.BoxPrivateKey())
	if err != nil {
		return h, nil, err
	}
	pt, err := hpke.Open(priv, kdf, aead, info(*b, me), b.Boxes[i].CT)
	if err != nil {
		return h, nil, fail(ErrUnauthenticated, h.From, "the ciphertext does not decrypt for this party")
	}
	if len(pt) > MaxPayload {
		return h, nil, fail(ErrMalformed, h.From, "payload of %d bytes is over the %d-byte cap", len(pt), MaxPayload)
	}
	if h.Broadcast() {
		if d := sha256.Sum256(pt); !bytes.Equal(d[:], b.Digest) {
			return h, nil, fail(ErrUnauthenticated, h.From, "the broadcast differs from the one its signature commits to (equivocation)")
		}
	}
	return h, pt, nil
}

// ID identifies an envelope's slot: one envelope per (ceremony, type,
// round, sender, recipient). The relay keys equivocation checks on it.
func (h Header) ID() string {
	return fmt.Sprintf("%s/%d/%d/%s/%s", h.Ceremony, h.Type, h.Round, h.From, h.To)
}

// Digest is a short hex hash of an envelope's bytes, for logs and evidence.
func Digest(raw []byte) string {
	d := sha256.Sum256(raw)
	return hex.EncodeToString(d[:8])
}

func signed(bodyBytes []byte) []byte {
	return append([]byte(signDomain), bodyBytes...)
}

// info binds every header field and the recipient into its HPKE context.
func info(b body, recipient string) []byte {
	i, err := encMode.Marshal(boxInfo{Ceremony: b.Ceremony, SessionID: b.SessionID, Type: b.Type, Round: b.Round,
		From: b.From, To: recipient, Broadcast: b.To == ""})
	if err != nil {
		panic("envelope: encode info: " + err.Error()) // plain struct: cannot fail
	}
	return append([]byte(infoDomain), i...)
}
