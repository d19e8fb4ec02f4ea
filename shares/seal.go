package shares

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// A sealed file is
//
//	magic "PRTSHARE" (8) | format version (1) | kind (1) | nonce (12) | AES-256-GCM ciphertext and tag
//
// and its associated data binds the header to what the file holds:
//
//	header (10) | "paratro/shares/v1" | len(wallet) u16 | wallet | len(party) u16 | party | epoch u64
//
// State manifests use epoch 0; shares start at epoch 1.
const (
	sealMagic     = "PRTSHARE"
	formatVersion = 1
	kindShare     = 1
	kindState     = 2
	headerLen     = len(sealMagic) + 2
	nonceLen      = 12
	tagLen        = 16
	minSealedLen  = headerLen + nonceLen + tagLen
	aadDomain     = "paratro/shares/v1"
	kekLen        = 32
)

// sealRef is what a sealed file is bound to.
type sealRef struct {
	kind  byte
	slot  slot
	epoch uint64
	id    string // presignatures only
}

func shareRef(sl slot, epoch uint64) sealRef { return sealRef{kind: kindShare, slot: sl, epoch: epoch} }
func stateRef(sl slot) sealRef               { return sealRef{kind: kindState, slot: sl} }

func (r sealRef) header() []byte {
	return append([]byte(sealMagic), formatVersion, r.kind)
}

// aad returns the associated data for a file that starts with header.
func (r sealRef) aad(header []byte) []byte {
	b := append(bytes.Clone(header), aadDomain...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.slot.wallet)))
	b = append(b, r.slot.wallet...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.slot.party)))
	b = append(b, r.slot.party...)
	b = binary.BigEndian.AppendUint64(b, r.epoch)
	if r.kind == kindPresig {
		b = append(b, presigAADPart...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.id)))
		b = append(b, r.id...)
	}
	return b
}

func (r sealRef) subject() string {
	if r.kind == kindState {
		return r.slot.stateSubject()
	}
	if r.kind == kindPresig {
		return r.slot.presigSubject(r.id)
	}
	return r.slot.shareSubject(r.epoch)
}

// newAEAD returns AES-256-GCM under key. The cipher keeps its own expanded
// copy of the key, so the caller may zero key right after.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != kekLen {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), kekLen)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts pt into the bytes of a sealed file bound to r.
func seal(aead cipher.AEAD, r sealRef, pt []byte) []byte {
	out := make([]byte, 0, headerLen+nonceLen+len(pt)+tagLen)
	out = append(out, r.header()...)
	out = append(out, make([]byte, nonceLen)...)
	rand.Read(out[headerLen:]) // never returns an error (crypto/rand)
	return aead.Seal(out, out[headerLen:headerLen+nonceLen], pt, r.aad(out[:headerLen]))
}

// openSealed checks and decrypts the bytes of a sealed file bound to r. path
// only names the file in messages. data is never modified; the returned
// plaintext must be zeroed by the caller.
func openSealed(aead cipher.AEAD, r sealRef, path string, data []byte) ([]byte, error) {
	subject := r.subject()
	if len(data) < headerLen || string(data[:len(sealMagic)]) != sealMagic {
		return nil, errorf(ErrCorrupt, "%s cannot be opened: %s is truncated or not a paratro share file", subject, path)
	}
	if v := data[len(sealMagic)]; v != formatVersion {
		return nil, errorf(ErrUnsupportedFormat, "%s cannot be opened: %s is in format version %d, which this paratro does not read (it reads version %d)", subject, path, v, formatVersion)
	}
	if len(data) < minSealedLen {
		return nil, errorf(ErrCorrupt, "%s cannot be opened: %s is truncated or not a paratro share file", subject, path)
	}
	// The header as read enters the associated data, so a changed kind byte
	// fails authentication like any other change.
	nonce, ct := data[headerLen:headerLen+nonceLen], data[headerLen+nonceLen:]
	pt, err := aead.Open(nil, nonce, ct, r.aad(data[:headerLen]))
	if err != nil {
		return nil, errorf(ErrAuth, "%s cannot be opened: %s", subject, ErrAuth.Error())
	}
	return pt, nil
}
