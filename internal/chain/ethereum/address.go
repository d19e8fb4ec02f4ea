// Package ethereum holds what paratro needs of Ethereum: EIP-55 addresses of
// wallet keys and signature recovery, through go-ethereum, the chain's
// reference implementation.
package ethereum

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Address returns the EIP-55 checksummed address of a 33-byte compressed
// secp256k1 public key.
func Address(publicKey []byte) (string, error) {
	pub, err := crypto.DecompressPubkey(publicKey)
	if err != nil {
		return "", fmt.Errorf("public key: %w", err)
	}
	return crypto.PubkeyToAddress(*pub).Hex(), nil
}

// ErrBadSignature is returned when a signature does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// RecoverAddress returns the EIP-55 address that made sig (r || s || v,
// v = 0 or 1) over the 32-byte digest. High-s signatures are refused (EIP-2).
func RecoverAddress(digest, sig []byte) (string, error) {
	if len(digest) != 32 || len(sig) != 65 {
		return "", fmt.Errorf("%w: want a 32-byte digest and a 65-byte signature", ErrBadSignature)
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if !crypto.ValidateSignatureValues(sig[64], r, s, true) {
		return "", fmt.Errorf("%w: r, s or v out of range (or high s)", ErrBadSignature)
	}
	pub, err := crypto.Ecrecover(digest, sig)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	key, err := crypto.UnmarshalPubkey(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return crypto.PubkeyToAddress(*key).Hex(), nil
}

// VerifyDigest checks that sig over digest was made by the key of address.
func VerifyDigest(address string, digest, sig []byte) error {
	got, err := RecoverAddress(digest, sig)
	if err != nil {
		return err
	}
	if !common.IsHexAddress(address) || !bytes.Equal(common.HexToAddress(got).Bytes(), common.HexToAddress(address).Bytes()) {
		return fmt.Errorf("%w: recovered %s, want %s", ErrBadSignature, got, address)
	}
	return nil
}

// TextHash is the EIP-191 digest of a personal message ("\x19Ethereum
// Signed Message:\n" + length + message, keccak256), what personal_sign
// and ethers' signMessage sign.
func TextHash(msg []byte) []byte {
	return crypto.Keccak256([]byte(fmt.Sprintf("\x19Ethereum Signed Message:\n%d", len(msg))), msg)
}
