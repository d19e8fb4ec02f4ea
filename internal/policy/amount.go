package policy

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// Amount is a ceiling in one asset's smallest unit.
type Amount struct {
	Asset string   // "ETH" or "BTC"
	Value *big.Int // wei or sat
}

// covers reports whether v, in asset, is known and at most a.
func (a *Amount) covers(asset string, v *big.Int) bool {
	return v != nil && v.Sign() >= 0 && strings.EqualFold(asset, a.Asset) && v.Cmp(a.Value) <= 0
}

// units are the units an amount may be written in, lower case.
var units = map[string]struct {
	asset    string
	decimals int
}{
	"eth": {"ETH", 18}, "gwei": {"ETH", 9}, "wei": {"ETH", 0},
	"btc": {"BTC", 8}, "sat": {"BTC", 0},
}

const unitNames = "ETH, gwei, wei, BTC or sat"

var (
	decimalRE  = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?$`)
	unitTailRE = regexp.MustCompile(`^(.*?)([A-Za-z]+)$`)
)

// parseAmount reads "1.5 ETH", "20 gwei", "0.001 BTC", "5000 sat": a plain
// decimal number and a unit (any case), exact in the unit's smallest one.
func parseAmount(s string) (*Amount, error) {
	num, unit := splitAmount(strings.TrimSpace(s))
	if unit == "" {
		return nil, fmt.Errorf("%q is not a number and a unit; write one like \"0.5 ETH\" (units: %s)", s, unitNames)
	}
	u, ok := units[strings.ToLower(unit)]
	if !ok {
		return nil, fmt.Errorf("unknown unit %q; write %s", unit, unitNames)
	}
	if strings.HasPrefix(num, "-") {
		return nil, fmt.Errorf("%q is negative; write a ceiling of 0 or more", s)
	}
	m := decimalRE.FindStringSubmatch(num)
	if m == nil {
		return nil, fmt.Errorf("%q is not a plain decimal number; write digits with an optional point, like \"0.5 ETH\"", num)
	}
	whole, frac := m[1], m[2]
	if len(frac) > u.decimals {
		return nil, fmt.Errorf("%q has more decimals than %s allows (%d); write it in a smaller unit", s, unit, u.decimals)
	}
	v, _ := new(big.Int).SetString(whole+frac+strings.Repeat("0", u.decimals-len(frac)), 10)
	return &Amount{Asset: u.asset, Value: v}, nil
}

// splitAmount separates "1.5 ETH" or "1.5ETH" into number and unit.
func splitAmount(s string) (num, unit string) {
	if f := strings.Fields(s); len(f) == 2 {
		return f[0], f[1]
	}
	if m := unitTailRE.FindStringSubmatch(s); m != nil && !strings.ContainsAny(m[1], " \t") {
		return m[1], m[2]
	}
	return s, ""
}
