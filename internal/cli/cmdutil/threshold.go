package cmdutil

import (
	"strconv"
	"strings"

	"github.com/paratro/paratro/ceremony"
)

// ParseThreshold parses a wallet threshold written "2-of-3" (also "2of3" or
// "2/3"): how many parties must sign, of how many. It refuses required = 1,
// required > total and more than ceremony.MaxParties parties, with a
// FlagError naming the flag.
func ParseThreshold(flag, s string) (required, total int, err error) {
	r, t, ok := splitThreshold(strings.ToLower(strings.TrimSpace(s)))
	if !ok {
		return 0, 0, FlagErrorf("invalid --%s %q: write it as REQUIRED-of-TOTAL, e.g. 2-of-3", flag, s)
	}
	required, err1 := strconv.Atoi(r)
	total, err2 := strconv.Atoi(t)
	if err1 != nil || err2 != nil {
		return 0, 0, FlagErrorf("invalid --%s %q: REQUIRED and TOTAL must be whole numbers, e.g. 2-of-3", flag, s)
	}
	if err := ceremony.ValidateThreshold(required, total); err != nil {
		return 0, 0, FlagErrorf("invalid --%s %q: %s", flag, s, strings.TrimPrefix(err.Error(), "threshold: "))
	}
	return required, total, nil
}

func splitThreshold(s string) (string, string, bool) {
	for _, sep := range []string{"-of-", "of", "/"} {
		if r, t, ok := strings.Cut(s, sep); ok && r != "" && t != "" {
			return r, t, true
		}
	}
	return "", "", false
}
