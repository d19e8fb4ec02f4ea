package mfa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// sealVersion is the first byte of a sealed secret.
const sealVersion = 1

// ErrSealed is returned by Open for any sealed secret it cannot decrypt:
// wrong key, another operator's secret, or damaged bytes.
var ErrSealed = errors.New("mfa: sealed TOTP secret unreadable")

func sealAD(operator string) []byte {
	return append([]byte("paratro totp secret v1\x00"), operator...)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("mfa: sealing key must be 32 bytes (AES-256)")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts a TOTP secret for operator with AES-256-GCM under a 32-byte
// key. The operator ID is the associated data, so a sealed secret moved to
// another operator does not open. Output: version byte, random 12-byte
// nonce, ciphertext and tag.
func Seal(key []byte, operator, secret string) ([]byte, error) {
	if operator == "" {
		return nil, errors.New("mfa: seal needs an operator ID")
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(secret)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[1:], []byte(secret), sealAD(operator)), nil
}

// Open decrypts what Seal made for the same key and operator.
func Open(key []byte, operator string, sealed []byte) (string, error) {
	aead, err := newGCM(key)
	if err != nil {
		return "", err
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != sealVersion {
		return "", ErrSealed
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, sealed[1+aead.NonceSize():], sealAD(operator))
	if err != nil {
		return "", ErrSealed
	}
	return string(plain), nil
}
