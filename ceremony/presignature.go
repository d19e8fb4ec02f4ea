package ceremony

import (
	"errors"
	"fmt"

	"github.com/taurusgroup/multi-party-sig/pkg/ecdsa"
	"github.com/taurusgroup/multi-party-sig/pkg/math/curve"
)

// presignatureIDLen is the length of the library's random presignature ID.
const presignatureIDLen = 32

// presignatureFormat is the version of MarshalPresignature's encoding.
const presignatureFormat = 1

// presignatureWire is a presignature as stored: the library has no
// serialisation of its own for ecdsa.PreSignature.
type presignatureWire struct {
	Format int    `cbor:"format"`
	ID     []byte `cbor:"id"`
	R      []byte `cbor:"r"`
	RBar   []byte `cbor:"rbar"`
	S      []byte `cbor:"s"`
	K      []byte `cbor:"k"`   // secret: k_i
	Chi    []byte `cbor:"chi"` // secret: χ_i
}

// ErrPresignatureFormat is returned for bytes that are not a presignature.
var ErrPresignatureFormat = errors.New("not a valid presignature")

// MarshalPresignature serialises a presignature for sealed storage. The
// result holds this party's secret nonce shares (k_i and χ_i): anyone who
// gets two signatures made with the same presignature learns the wallet's
// private key (SECURITY.md #9), so it must be sealed like a share and
// used once.
func MarshalPresignature(ps *Presignature) ([]byte, error) {
	if ps == nil {
		return nil, fmt.Errorf("%w: nil", ErrPresignatureFormat)
	}
	if err := ps.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPresignatureFormat, err)
	}
	w := presignatureWire{Format: presignatureFormat, ID: ps.ID}
	var err error
	for _, f := range []struct {
		dst *[]byte
		v   interface{ MarshalBinary() ([]byte, error) }
	}{{&w.R, ps.R}, {&w.RBar, ps.RBar}, {&w.S, ps.S}, {&w.K, ps.KShare}, {&w.Chi, ps.ChiShare}} {
		if *f.dst, err = f.v.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("marshal presignature: %w", err)
		}
	}
	out, err := canonicalCBOR.Marshal(w)
	clear(w.K)
	clear(w.Chi)
	return out, err
}

// UnmarshalPresignature parses bytes made by MarshalPresignature and checks
// the presignature's shape (ecdsa.PreSignature.Validate).
func UnmarshalPresignature(data []byte) (*Presignature, error) {
	var w presignatureWire
	if err := strictCBOR.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPresignatureFormat, err)
	}
	defer clear(w.K)
	defer clear(w.Chi)
	if w.Format != presignatureFormat {
		return nil, fmt.Errorf("%w: unsupported format %d", ErrPresignatureFormat, w.Format)
	}
	ps := ecdsa.EmptyPreSignature(curve.Secp256k1{})
	if len(w.ID) != presignatureIDLen {
		return nil, fmt.Errorf("%w: id is %d bytes", ErrPresignatureFormat, len(w.ID))
	}
	ps.ID = append(ps.ID[:0], w.ID...)
	for _, f := range []struct {
		src []byte
		v   interface{ UnmarshalBinary([]byte) error }
	}{{w.R, ps.R}, {w.RBar, ps.RBar}, {w.S, ps.S}, {w.K, ps.KShare}, {w.Chi, ps.ChiShare}} {
		if err := f.v.UnmarshalBinary(f.src); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPresignatureFormat, err)
		}
	}
	if err := ps.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPresignatureFormat, err)
	}
	return ps, nil
}
