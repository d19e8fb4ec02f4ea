// Package bitcoin holds what paratro needs of Bitcoin: BIP-340 Schnorr
// verification through btcd's btcec, the reference Go implementation.
package bitcoin

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

// ErrBadSignature is returned when a signature does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// VerifySchnorr checks a 64-byte BIP-340 signature over a 32-byte digest
// under a 32-byte x-only public key.
func VerifySchnorr(xOnlyKey, digest, sig []byte) error {
	if len(digest) != 32 {
		return fmt.Errorf("%w: digest must be 32 bytes", ErrBadSignature)
	}
	pub, err := schnorr.ParsePubKey(xOnlyKey)
	if err != nil {
		return fmt.Errorf("%w: public key: %v", ErrBadSignature, err)
	}
	s, err := schnorr.ParseSignature(sig)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if !s.Verify(digest, pub) {
		return ErrBadSignature
	}
	return nil
}
