package bitcoin

import (
	"encoding/hex"
	"errors"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Vectors 0 and 1 of BIP-340's test-vectors.csv.
func TestVerifySchnorrWithBIP340Vectors(t *testing.T) {
	cases := []struct{ name, key, msg, sig string }{
		{"vector 0", "F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9",
			"0000000000000000000000000000000000000000000000000000000000000000",
			"E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA821525F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0"},
		{"vector 1", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659",
			"243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
			"6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE33418906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A"},
	}
	for _, c := range cases {
		t.Run(c.name+" verifies", func(t *testing.T) {
			if err := VerifySchnorr(unhex(t, c.key), unhex(t, c.msg), unhex(t, c.sig)); err != nil {
				t.Fatal(err)
			}
		})
		t.Run(c.name+" with a flipped bit does not verify", func(t *testing.T) {
			sig := unhex(t, c.sig)
			sig[40] ^= 1
			if err := VerifySchnorr(unhex(t, c.key), unhex(t, c.msg), sig); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("got %v, want ErrBadSignature", err)
			}
		})
	}
	t.Run("malformed inputs are errors", func(t *testing.T) {
		if err := VerifySchnorr(nil, make([]byte, 32), make([]byte, 64)); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("got %v", err)
		}
	})
}
