package shares

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"testing"
)

type aeadSlot struct {
	aead cipher.AEAD
	slot slot
}

// FuzzOpenSealed feeds arbitrary bytes to the share-file reader. It must
// never panic, never change its input, and fail only with the documented
// sentinels. The seeds, a real sealed share and cuts of it, run as a normal
// unit test.
func FuzzOpenSealed(f *testing.F) {
	as, sh := testAEADAndSlot(f)
	sealed := seal(as.aead, shareRef(as.slot, 1), encodeShare(sh))
	f.Add(sealed)
	f.Add(sealed[:headerLen])
	f.Add(sealed[:minSealedLen])
	f.Add(sealed[:len(sealed)-1])
	f.Add([]byte{})
	f.Add([]byte(sealMagic + "\x02\x01"))
	f.Add(seal(as.aead, stateRef(as.slot), make([]byte, manifestLen)))
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		got, err := parseShareFile(as.aead, as.slot, 1, "/store/1.share", data)
		if !bytes.Equal(data, orig) {
			t.Fatal("the reader changed its input")
		}
		if err == nil {
			if got.WalletID != "w1" || got.PartyID != "alice" || got.Epoch != 1 {
				t.Fatalf("opened a share for the wrong place: %v", got)
			}
			return
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrAuth) && !errors.Is(err, ErrUnsupportedFormat) {
			t.Fatalf("undocumented error: %v", err)
		}
	})
}

// FuzzDecodeShare feeds arbitrary plaintext to the decoder, which the
// sealed-file fuzzer cannot reach past authentication. Whatever decodes
// must encode back to the same bytes.
func FuzzDecodeShare(f *testing.F) {
	_, sh := testAEADAndSlot(f)
	f.Add(encodeShare(sh))
	f.Add(encodeShare(&Share{Secret: []byte{1}}))
	f.Add([]byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, pt []byte) {
		got, err := decodeShare(pt)
		if err != nil {
			return
		}
		if again := encodeShare(got); !bytes.Equal(again, pt) {
			t.Fatalf("decode then encode changed the bytes:\n%x\n%x", pt, again)
		}
	})
}
