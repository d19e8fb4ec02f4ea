package ethereum

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/crypto/sha3"
)

func TestAddressOfKnownKeys(t *testing.T) {
	// Private key 1 is G; its address is well known.
	key, err := crypto.HexToECDSA(strings.Repeat("0", 63) + "1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Address(crypto.CompressPubkey(&key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if want := "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"; got != want {
		t.Errorf("address of key 1 = %s, want %s", got, want)
	}
}

// eip55 is the checksum rule of EIP-55, written out here so the test does not
// lean on the code it checks: a hex letter is upper case when the matching
// nibble of keccak256(lower-case hex) is 8 or more.
func eip55(lowerHex string) string {
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lowerHex))
	sum := hex.EncodeToString(h.Sum(nil))
	out := []byte(lowerHex)
	for i, c := range out {
		if c >= 'a' && c <= 'f' && sum[i] >= '8' {
			out[i] = c - 'a' + 'A'
		}
	}
	return "0x" + string(out)
}

func TestAddressIsEIP55Checksummed(t *testing.T) {
	t.Run("the rule reproduces the vectors of EIP-55", func(t *testing.T) {
		for _, want := range []string{
			"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
			"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
			"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
			"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
		} {
			if got := eip55(strings.ToLower(want[2:])); got != want {
				t.Errorf("eip55(%s) = %s", want, got)
			}
		}
	})
	t.Run("addresses of random keys follow the rule", func(t *testing.T) {
		for range 20 {
			key, _ := crypto.GenerateKey()
			got, err := Address(crypto.CompressPubkey(&key.PublicKey))
			if err != nil {
				t.Fatal(err)
			}
			if want := eip55(strings.ToLower(got[2:])); got != want {
				t.Errorf("Address = %s, want %s", got, want)
			}
		}
	})
	t.Run("a malformed key is an error, not a panic", func(t *testing.T) {
		for _, pub := range [][]byte{nil, {2}, make([]byte, 33), make([]byte, 65)} {
			if _, err := Address(pub); err == nil {
				t.Errorf("Address(%x) succeeded", pub)
			}
		}
	})
}

func TestRecoverAddressOfAGoEthereumSignature(t *testing.T) {
	key, _ := crypto.GenerateKey()
	digest := crypto.Keccak256([]byte("paratro"))
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := Address(crypto.CompressPubkey(&key.PublicKey))
	if err := VerifyDigest(addr, digest, sig); err != nil {
		t.Fatalf("a valid signature did not verify: %v", err)
	}
	sig[5] ^= 1
	if err := VerifyDigest(addr, digest, sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a tampered signature gave %v, want ErrBadSignature", err)
	}
}

func TestRecoverAddressRefusesHighS(t *testing.T) {
	key, _ := crypto.GenerateKey()
	digest := crypto.Keccak256([]byte("high s"))
	sig, _ := crypto.Sign(digest, key)
	// s' = n - s flips to the high half; v flips with it.
	n := crypto.S256().Params().N
	s := new(big.Int).SetBytes(sig[32:64])
	s.Sub(n, s)
	s.FillBytes(sig[32:64])
	sig[64] ^= 1
	if _, err := RecoverAddress(digest, sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a high-s signature gave %v, want ErrBadSignature", err)
	}
}

// The EIP-191 digest of "hello", as ethers' hashMessage("hello") gives it.
func TestTextHash(t *testing.T) {
	got := fmt.Sprintf("%x", TextHash([]byte("hello")))
	if got != "50b2c43fd39106bafbba0da34fc430e1f91e3c96ea2acee2bc34119f92b37750" {
		t.Fatalf("TextHash(hello) = %s", got)
	}
}
