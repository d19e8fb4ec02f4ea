package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

var ethAddressRE = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)

// parseDestination checks an allowlisted address and returns it lower
// case, the form requests are compared in. A typo that a checksum catches
// (EIP-55 mixed case, bech32) is an error rather than a dead entry.
func parseDestination(s string) (string, error) {
	low := strings.ToLower(s)
	switch {
	case strings.HasPrefix(low, "0x"):
		if !ethAddressRE.MatchString(s) {
			return "", fmt.Errorf("%q is not an Ethereum address; write 0x and 40 hex digits", s)
		}
		if hex := s[2:]; hex != strings.ToLower(hex) && hex != strings.ToUpper(hex) && common.HexToAddress(s).Hex() != s {
			return "", fmt.Errorf("%q fails its EIP-55 checksum (a typo?); copy the address again", s)
		}
	case strings.HasPrefix(low, "bc1"), strings.HasPrefix(low, "tb1"), strings.HasPrefix(low, "bcrt1"):
		if err := checkSegwit(s); err != nil {
			return "", fmt.Errorf("%q is not a bech32 address: %v; copy the address again", s, err)
		}
	default:
		return "", fmt.Errorf("%q is neither an Ethereum address (0x and 40 hex digits) nor a bech32 Bitcoin address (bc1..., tb1..., bcrt1...)", s)
	}
	return low, nil
}

const (
	bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	bech32Const   = 1          // BIP 173, witness version 0
	bech32mConst  = 0x2bc830a3 // BIP 350, witness versions 1 to 16
)

// checkSegwit checks a segwit address's characters, witness version and
// checksum (BIP 173, BIP 350).
func checkSegwit(s string) error {
	if s != strings.ToLower(s) && s != strings.ToUpper(s) {
		return fmt.Errorf("mixes upper and lower case")
	}
	s = strings.ToLower(s)
	sep := strings.LastIndexByte(s, '1')
	hrp, data := s[:sep], s[sep+1:]
	if len(s) > 90 || len(data) < 6+1+2 {
		return fmt.Errorf("wrong length")
	}
	values := make([]byte, 0, 2*len(hrp)+1+len(data))
	for _, c := range []byte(hrp) {
		values = append(values, c>>5)
	}
	values = append(values, 0)
	for _, c := range []byte(hrp) {
		values = append(values, c&31)
	}
	for _, c := range []byte(data) {
		v := strings.IndexByte(bech32Charset, c)
		if v < 0 {
			return fmt.Errorf("%q is not a bech32 character", c)
		}
		values = append(values, byte(v))
	}
	switch version, sum := data[0], bech32Polymod(values); {
	case version == 'q' && sum == bech32Const, version != 'q' && sum == bech32mConst && values[2*len(hrp)+1] <= 16:
		return nil
	default:
		return fmt.Errorf("checksum fails (a typo?)")
	}
}

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i, g := range gen {
			if top>>i&1 == 1 {
				chk ^= g
			}
		}
	}
	return chk
}
