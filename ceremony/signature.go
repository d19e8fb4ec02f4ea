package ceremony

import (
	"bytes"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	decredecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/taurusgroup/multi-party-sig/pkg/ecdsa"
	"github.com/taurusgroup/multi-party-sig/pkg/taproot"
)

// ECDSASignatureSize is the size of an encoded ECDSA signature: r || s || v.
const ECDSASignatureSize = 65

// SchnorrSignatureSize is the size of a BIP-340 signature.
const SchnorrSignatureSize = 64

// encodeECDSA encodes a CMP signature as r || s || v with s normalised to
// the low half of the order (EIP-2, BIP-62) and v the recovery ID (0 or 1),
// found by trial recovery against the wallet key (SECURITY.md B13). The
// library's SigEthereum is not used: it mutates the signature in place.
func encodeECDSA(sig *ecdsa.Signature, publicKey, digest []byte) ([]byte, error) {
	rb, err := sig.R.XScalar().MarshalBinary()
	if err != nil {
		return nil, err
	}
	sb, err := sig.S.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var r, s secp256k1.ModNScalar
	if r.SetByteSlice(rb) || s.SetByteSlice(sb) || r.IsZero() || s.IsZero() {
		return nil, fmt.Errorf("signature has an out-of-range or zero component")
	}
	if s.IsOverHalfOrder() {
		s.Negate()
	}
	rBytes, sBytes := r.Bytes(), s.Bytes()
	compact := make([]byte, 65)
	copy(compact[1:33], rBytes[:])
	copy(compact[33:], sBytes[:])
	for v := byte(0); v < 2; v++ {
		compact[0] = 27 + 4 + v // compact header: recovery ID, compressed key
		pub, _, err := decredecdsa.RecoverCompact(compact, digest)
		if err == nil && bytes.Equal(pub.SerializeCompressed(), publicKey) {
			out := append(compact[1:65:65], v)
			return out, nil
		}
	}
	return nil, fmt.Errorf("signature does not recover to the wallet key")
}

// checkSchnorr verifies a FROST Taproot signature before returning it.
func checkSchnorr(sig taproot.Signature, publicKey, digest []byte) ([]byte, error) {
	if len(sig) != SchnorrSignatureSize {
		return nil, fmt.Errorf("signature is %d bytes, want %d", len(sig), SchnorrSignatureSize)
	}
	if !taproot.PublicKey(publicKey).Verify(sig, digest) {
		return nil, fmt.Errorf("signature does not verify under the wallet key")
	}
	return bytes.Clone(sig), nil
}
