package coord

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// SAS is the short authentication string of a ceremony request: three
// groups of five digits that every party, and the initiator, show the same
// way. Holders read it to each other by voice or chat before approving; if
// the relay showed them different requests (or a request under a different
// ceremony), their strings differ.
//
// It is derived from the ceremony's ID and the hash of the signed request
// statement, which together fix everything the ceremony's session ID is
// later derived from except, for signing, which of the candidates sign.
func SAS(ceremonyID, requestHash string) string {
	h := sha256.New()
	fmt.Fprintf(h, "paratro sas v1\x00%s\x00%s", ceremonyID, requestHash)
	n := binary.BigEndian.Uint64(h.Sum(nil)[:8]) % 1_000_000_000_000_000
	return fmt.Sprintf("%05d %05d %05d", n/10_000_000_000, n/100_000%100_000, n%100_000)
}
