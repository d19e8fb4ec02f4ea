package ceremony

import (
	"fmt"
	"slices"

	"github.com/taurusgroup/multi-party-sig/pkg/math/curve"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// MaxPartyIDLen is the longest party ID accepted.
const MaxPartyIDLen = 32

// ValidatePartyID checks one party ID: 1-32 printable ASCII characters (no
// space, no NUL) whose value as a scalar is not zero. The library maps IDs to
// scalars as big-endian bytes mod q, so an ID that maps to zero would make
// every honest party panic (SECURITY.md #16e).
func ValidatePartyID(id party.ID) error {
	if !printable(string(id), MaxPartyIDLen) {
		return fmt.Errorf("party ID %q must be 1-%d printable characters without spaces", string(id), MaxPartyIDLen)
	}
	if id.Scalar(curve.Secp256k1{}).IsZero() {
		return fmt.Errorf("party ID %q maps to the zero scalar", string(id))
	}
	return nil
}

// ValidateParties checks a party set: between 2 and MaxParties valid IDs,
// distinct as strings and as scalars (SECURITY.md B11, #20).
func ValidateParties(ids []party.ID) error {
	if len(ids) < 2 || len(ids) > MaxParties {
		return fmt.Errorf("a ceremony needs between 2 and %d parties, got %d", MaxParties, len(ids))
	}
	group := curve.Secp256k1{}
	scalars := make([]curve.Scalar, 0, len(ids))
	for _, id := range ids {
		if err := ValidatePartyID(id); err != nil {
			return err
		}
		s := id.Scalar(group)
		for j, other := range scalars {
			if s.Equal(other) {
				return fmt.Errorf("party IDs %q and %q are duplicates", string(ids[j]), string(id))
			}
		}
		scalars = append(scalars, s)
	}
	return nil
}

// containsAll reports whether every id in sub is in set.
func containsAll(set, sub []party.ID) (party.ID, bool) {
	for _, id := range sub {
		if !slices.Contains(set, id) {
			return id, false
		}
	}
	return "", true
}

// names renders party IDs for messages: "alice, bob".
func names(ids []party.ID) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += string(id)
	}
	return s
}
