package ceremony

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/taurusgroup/multi-party-sig/pkg/math/curve"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/taproot"
	"github.com/taurusgroup/multi-party-sig/protocols/cmp"
	"github.com/taurusgroup/multi-party-sig/protocols/frost"

	"github.com/paratro/paratro/internal/chain/bitcoin"
)

// Share is one party's secret share of a wallet key: a CMP configuration for
// ECDSA wallets or a FROST Taproot configuration for Schnorr wallets. It is
// secret key material: seal it at rest and never log it.
type Share struct {
	scheme Scheme
	cmp    *cmp.Config
	frost  *frost.TaprootConfig
}

// NewECDSAShare wraps a CMP configuration.
func NewECDSAShare(c *cmp.Config) *Share { return &Share{scheme: SchemeECDSA, cmp: c} }

// NewSchnorrShare wraps a FROST Taproot configuration.
func NewSchnorrShare(c *frost.TaprootConfig) *Share {
	return &Share{scheme: SchemeSchnorr, frost: c}
}

// Scheme is the share's signature scheme.
func (s *Share) Scheme() Scheme { return s.scheme }

// PartyID is the party holding the share.
func (s *Share) PartyID() party.ID {
	if s.cmp != nil {
		return s.cmp.ID
	}
	return s.frost.ID
}

// Parties are all parties of the wallet, sorted.
func (s *Share) Parties() []party.ID {
	var ids []party.ID
	if s.cmp != nil {
		ids = s.cmp.PartyIDs()
	} else {
		for id := range s.frost.VerificationShares {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Required is how many parties must take part to sign.
func (s *Share) Required() int {
	if s.cmp != nil {
		return s.cmp.Threshold + 1
	}
	return s.frost.Threshold + 1
}

// PublicKey is the wallet public key: 33-byte compressed SEC1 for ECDSA,
// 32-byte x-only (BIP-340) for Schnorr.
func (s *Share) PublicKey() []byte {
	if s.cmp != nil {
		b, _ := s.cmp.PublicPoint().MarshalBinary()
		return b
	}
	return slices.Clone([]byte(s.frost.PublicKey))
}

// ConfigDigest is a hash of the share's public configuration (threshold,
// parties, every party's public data, public key). All parties of one epoch
// hold the same digest; it binds ceremonies to that epoch (SECURITY.md B1).
func (s *Share) ConfigDigest() []byte {
	h := sha256.New()
	h.Write([]byte("paratro/v1/config\x00" + string(s.scheme) + "\x00"))
	if s.cmp != nil {
		_, _ = s.cmp.WriteTo(h) // writing to a hash cannot fail
	} else {
		fmt.Fprintf(h, "t=%d\x00", s.frost.Threshold)
		for _, id := range s.Parties() {
			b, _ := s.frost.VerificationShares[id].MarshalBinary()
			fmt.Fprintf(h, "%d:%s", len(id), id)
			h.Write(b)
		}
	}
	h.Write(s.PublicKey())
	return h.Sum(nil)
}

// LibraryConfig returns a private copy of the threshold library's
// configuration: a *cmp.Config for ECDSA, a *frost.TaprootConfig for
// Schnorr. It is for callers that drive the library directly (benchmarks,
// tools); it is secret key material.
func (s *Share) LibraryConfig() (any, error) {
	c, err := s.clone()
	if err != nil {
		return nil, err
	}
	if c.cmp != nil {
		return c.cmp, nil
	}
	return c.frost, nil
}

// shareFormat tags the serialised form.
const shareFormat = 1

type shareEnvelope struct {
	Format int    `cbor:"1,keyasint"`
	Scheme string `cbor:"2,keyasint"`
	Config []byte `cbor:"3,keyasint"`
}

type frostWire struct {
	ID                 string            `cbor:"1,keyasint"`
	Threshold          int               `cbor:"2,keyasint"`
	PrivateShare       []byte            `cbor:"3,keyasint"`
	PublicKey          []byte            `cbor:"4,keyasint"`
	ChainKey           []byte            `cbor:"5,keyasint"`
	VerificationShares map[string][]byte `cbor:"6,keyasint"`
}

// MarshalBinary serialises the share (secret!).
func (s *Share) MarshalBinary() ([]byte, error) {
	var inner []byte
	var err error
	if s.cmp != nil {
		inner, err = s.cmp.MarshalBinary()
	} else {
		inner, err = marshalFROST(s.frost)
	}
	if err != nil {
		return nil, fmt.Errorf("marshal share: %w", err)
	}
	return canonicalCBOR.Marshal(shareEnvelope{Format: shareFormat, Scheme: string(s.scheme), Config: inner})
}

func marshalFROST(c *frost.TaprootConfig) ([]byte, error) {
	priv, err := c.PrivateShare.MarshalBinary()
	if err != nil {
		return nil, err
	}
	w := frostWire{ID: string(c.ID), Threshold: c.Threshold, PrivateShare: priv,
		PublicKey: c.PublicKey, ChainKey: c.ChainKey, VerificationShares: map[string][]byte{}}
	for id, p := range c.VerificationShares {
		b, err := p.MarshalBinary()
		if err != nil {
			return nil, err
		}
		w.VerificationShares[string(id)] = b
	}
	return canonicalCBOR.Marshal(w)
}

// ErrShareFormat is returned for bytes that are not a share.
var ErrShareFormat = errors.New("not a valid share")

// UnmarshalShare parses a share serialised by MarshalBinary and checks that
// it is internally consistent (party set, threshold, own public share).
func UnmarshalShare(data []byte) (*Share, error) {
	var env shareEnvelope
	if err := strictCBOR.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrShareFormat, err)
	}
	if env.Format != shareFormat {
		return nil, fmt.Errorf("%w: unsupported share format %d", ErrShareFormat, env.Format)
	}
	var sh *Share
	switch Scheme(env.Scheme) {
	case SchemeECDSA:
		c := cmp.EmptyConfig(curve.Secp256k1{})
		if err := c.UnmarshalBinary(env.Config); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrShareFormat, err)
		}
		sh = NewECDSAShare(c)
	case SchemeSchnorr:
		c, err := unmarshalFROST(env.Config)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrShareFormat, err)
		}
		sh = NewSchnorrShare(c)
	default:
		return nil, fmt.Errorf("%w: unknown scheme %q", ErrShareFormat, env.Scheme)
	}
	if err := sh.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrShareFormat, err)
	}
	return sh, nil
}

func unmarshalFROST(data []byte) (*frost.TaprootConfig, error) {
	var w frostWire
	if err := strictCBOR.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	c := &frost.TaprootConfig{ID: party.ID(w.ID), Threshold: w.Threshold,
		PrivateShare: new(curve.Secp256k1Scalar), PublicKey: taproot.PublicKey(w.PublicKey),
		ChainKey: w.ChainKey, VerificationShares: map[party.ID]*curve.Secp256k1Point{}}
	if err := c.PrivateShare.UnmarshalBinary(w.PrivateShare); err != nil {
		return nil, err
	}
	if len(c.PublicKey) != 32 {
		return nil, fmt.Errorf("public key must be 32 bytes")
	}
	for id, b := range w.VerificationShares {
		p := new(curve.Secp256k1Point)
		if err := p.UnmarshalBinary(b); err != nil {
			return nil, err
		}
		c.VerificationShares[party.ID(id)] = p
	}
	return c, nil
}

// check asserts the invariants a share must hold after loading.
func (s *Share) check() error {
	parties := s.Parties()
	if err := ValidateParties(parties); err != nil {
		return err
	}
	if !slices.Contains(parties, s.PartyID()) {
		return fmt.Errorf("share's own party %q is not among its parties", s.PartyID())
	}
	if err := ValidateThreshold(s.Required(), len(parties)); err != nil {
		return err
	}
	if s.frost != nil {
		own := s.frost.PrivateShare.ActOnBase()
		if !own.Equal(s.frost.VerificationShares[s.frost.ID]) {
			return fmt.Errorf("private share does not match its verification share")
		}
		if _, err := (curve.Secp256k1{}).LiftX(s.frost.PublicKey); err != nil {
			return fmt.Errorf("public key: %v", err)
		}
	}
	return nil
}

// clone returns a deep copy of the share.
func (s *Share) clone() (*Share, error) {
	b, err := s.MarshalBinary()
	if err != nil {
		return nil, err
	}
	defer clear(b)
	return UnmarshalShare(b)
}

// Equal reports whether two shares serialise to the same bytes.
func (s *Share) Equal(o *Share) bool {
	a, err1 := s.MarshalBinary()
	b, err2 := o.MarshalBinary()
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// String never prints secret material.
func (s *Share) String() string {
	return fmt.Sprintf("share{%s party=%s %d-of-%d}", s.scheme, s.PartyID(), s.Required(), len(s.Parties()))
}

// GoString never prints secret material.
func (s *Share) GoString() string { return s.String() }

// DeriveChild returns this party's share of the wallet's BIP-32 child i
// (unhardened derivation from the wallet key and the chain key the CMP key
// generation agreed on). Every party derives its own child share locally;
// together they sign for the child public key. It works for ECDSA shares
// only: FROST key generation yields no chain code (SECURITY.md #15), so a
// Schnorr share refuses, and so does a hardened index (i >= 2^31).
func (s *Share) DeriveChild(i uint32) (*Share, error) {
	if err := ValidateIndex(s.scheme, i); err != nil {
		return nil, err
	}
	c, err := s.clone() // the child shares nothing with s
	if err != nil {
		return nil, err
	}
	if len(c.cmp.ChainKey) != 32 {
		return nil, fmt.Errorf("the share has a %d-byte chain key, not 32: it cannot derive child keys", len(c.cmp.ChainKey))
	}
	child, err := c.cmp.DeriveBIP32(i)
	if err != nil {
		// Probability about 2^-127 per index (BIP-32): use the next one.
		return nil, fmt.Errorf("index %d gives no valid child key (BIP-32); use another index: %w", i, err)
	}
	return NewECDSAShare(child), nil
}

// ChildPublicKey is the 33-byte compressed public key of the wallet's
// BIP-32 child i, computed from this share's public data and chain key
// alone: no ceremony, no other party. The same rules as DeriveChild apply.
func (s *Share) ChildPublicKey(i uint32) ([]byte, error) {
	child, err := s.DeriveChild(i)
	if err != nil {
		return nil, err
	}
	return child.PublicKey(), nil
}

// TaprootKeyPath returns this party's share of the BIP-86 Taproot output
// key Q = P + H_TapTweak(P)G of a Schnorr wallet (a key-path spend with no
// script tree): every party adds the same public tweak to its own share, so
// together they sign under Q. multi-party-sig applies no TapTweak itself
// (SECURITY.md B13); the tweak comes from btcd's BIP-86 code.
func (s *Share) TaprootKeyPath() (*Share, error) {
	if s.scheme != SchemeSchnorr {
		return nil, fmt.Errorf("a Taproot key-path spend needs a schnorr wallet, not %s", s.scheme)
	}
	_, tweak, err := bitcoin.TaprootOutputKey(s.frost.PublicKey)
	if err != nil {
		return nil, err
	}
	var t curve.Secp256k1Scalar
	if err := t.UnmarshalBinary(tweak); err != nil {
		return nil, fmt.Errorf("taproot tweak: %w", err)
	}
	c, err := s.clone()
	if err != nil {
		return nil, err
	}
	// FROST key generation gives no chain key (SECURITY.md #15) and Derive
	// insists on 32 bytes; the tweaked share never derives further
	// (derivation is refused for Schnorr wallets), so zeros stand in.
	tweaked, err := c.frost.Derive(&t, make([]byte, 32))
	if err != nil {
		return nil, fmt.Errorf("taproot tweak: %w", err)
	}
	return NewSchnorrShare(tweaked), nil
}
