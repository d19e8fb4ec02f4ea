package shares

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"testing"

	"github.com/paratro/paratro/internal/fuzzseed"
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
	fuzzseed.Add(f, sealed)
	fuzzseed.Add(f, sealed[:headerLen])
	fuzzseed.Add(f, sealed[:minSealedLen])
	fuzzseed.Add(f, sealed[:len(sealed)-1])
	fuzzseed.Add(f, []byte{})
	fuzzseed.Add(f, []byte(sealMagic+"\x02\x01"))
	fuzzseed.Add(f, seal(as.aead, stateRef(as.slot), make([]byte, manifestLen)))
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
	fuzzseed.Add(f, encodeShare(sh))
	fuzzseed.Add(f, encodeShare(&Share{Secret: []byte{1}}))
	fuzzseed.Add(f, []byte{0, 0, 0, 1})
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
