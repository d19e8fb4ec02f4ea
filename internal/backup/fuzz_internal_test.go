package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/fuzzseed"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares"
)

// FuzzDecodePayload feeds arbitrary plaintext to the decoder of a backup's
// decrypted payload, which FuzzOpen cannot reach past age's
// authentication. Refusals match ErrTampered; no section longer than
// maxSection is accepted (a declared length is never trusted); whatever
// decodes encodes to a payload that decodes to the same contents, and
// encoding is then stable.
func FuzzDecodePayload(f *testing.F) {
	secret := sha256.Sum256([]byte("paratro fuzz TEST-ONLY backup identity"))
	id, err := identity.FromSecret("ana", append(secret[:], secret[:]...))
	if err != nil {
		f.Fatal(err)
	}
	c := &Contents{Identity: id, Wallet: &home.Wallet{ID: "wal_aaaaaaaaaaaaaaaa", Name: "ops", Chain: "bitcoin"},
		Share: &shares.Share{Meta: shares.Meta{WalletID: "wal_aaaaaaaaaaaaaaaa", PartyID: id.Fingerprint(), Epoch: 3,
			Scheme: "schnorr", Required: 2, Parties: []string{"x", "y"}, PublicKey: []byte{2, 3}, ConfigDigest: []byte{4},
			CreatedAt: time.Date(2026, 3, 2, 8, 15, 0, 0, time.UTC)}, Secret: []byte("TEST-ONLY share bytes")}}
	good, err := encodePayload([]byte(`{"version":1}`), c)
	if err != nil {
		f.Fatal(err)
	}
	fuzzseed.Add(f, good)
	c.Wallet = nil
	noWallet, _ := encodePayload([]byte(`{}`), c)
	fuzzseed.Add(f, noWallet)
	fuzzseed.Add(f, good[:len(good)-3])
	huge := append([]byte(payloadMagic), binary.BigEndian.AppendUint32(nil, 0xffffffff)...)
	fuzzseed.Add(f, huge)
	fuzzseed.Add(f, []byte(payloadMagic))
	f.Fuzz(func(t *testing.T, plain []byte) {
		c, inner, err := decodePayload(plain)
		if err != nil {
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		if len(inner) > maxSection || len(c.Share.Secret) > maxSection {
			t.Fatalf("accepted a section over %d bytes", maxSection)
		}
		enc, err := encodePayload(inner, c)
		if err != nil {
			t.Fatalf("cannot encode decoded contents: %v", err)
		}
		c2, inner2, err := decodePayload(enc)
		if err != nil {
			t.Fatalf("re-encoded payload refused: %v", err)
		}
		if !bytes.Equal(inner2, inner) || !bytes.Equal(c2.Share.Secret, c.Share.Secret) ||
			c2.Identity.Fingerprint() != c.Identity.Fingerprint() || c2.Identity.Name != c.Identity.Name ||
			c2.Share.WalletID != c.Share.WalletID || c2.Share.Epoch != c.Share.Epoch || (c2.Wallet == nil) != (c.Wallet == nil) {
			t.Fatal("decode, encode, decode changed the contents")
		}
		if enc2, err := encodePayload(inner2, c2); err != nil || !bytes.Equal(enc2, enc) {
			t.Fatalf("encoding is not stable (%v)", err)
		}
	})
}
