package walletcmd

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/taurusgroup/multi-party-sig/protocols/cmp"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/fuzzseed"
)

// FuzzParseIndex feeds arbitrary --index values to ParseIndex. It accepts
// exactly the decimal numbers below 2^31 (unhardened); an accepted index
// prints back to the number it read, and the child public key the
// TEST-ONLY fixture wallet derives for it equals btcutil's BIP-32
// derivation from the wallet's xpub.
func FuzzParseIndex(f *testing.F) {
	for _, s := range []string{"0", "1", "2147483647", "2147483648", "4294967295", "18446744073709551616",
		"-1", "+5", "007", "0x10", " 1", "1e3", ""} {
		fuzzseed.Add(f, s)
	}
	sh := ceremonytest.ECDSAShares(f)["alice"]
	lib, err := sh.LibraryConfig()
	if err != nil {
		f.Fatal(err)
	}
	xpub := hdkeychain.NewExtendedKey(chaincfg.MainNetParams.HDPublicKeyID[:], sh.PublicKey(),
		lib.(*cmp.Config).ChainKey, []byte{0, 0, 0, 0}, 0, 0, false)
	f.Fuzz(func(t *testing.T, s string) {
		i, err := ParseIndex(s)
		n, perr := strconv.ParseUint(s, 10, 64)
		if want := perr == nil && n < ceremony.HardenedIndex; (err == nil) != want {
			t.Fatalf("ParseIndex(%q) = %d, %v; want accepted %v", s, i, err, want)
		}
		if err != nil {
			return
		}
		if uint64(i) != n {
			t.Fatalf("ParseIndex(%q) = %d", s, i)
		}
		if again, err := ParseIndex(strconv.FormatUint(uint64(i), 10)); err != nil || again != i {
			t.Fatalf("index %d does not read back (%d, %v)", i, again, err)
		}
		got, err := sh.ChildPublicKey(i)
		if err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		child, err := xpub.Derive(i)
		if err != nil {
			return // BIP-32: an invalid child (probability 2^-127); the next index is used
		}
		pub, err := child.ECPubKey()
		if err != nil || !bytes.Equal(got, pub.SerializeCompressed()) {
			t.Fatalf("child %d: derived %x, BIP-32 says %x (%v)", i, got, pub.SerializeCompressed(), err)
		}
	})
}
