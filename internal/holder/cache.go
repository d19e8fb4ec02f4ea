package holder

import (
	"crypto/sha256"
	"sync"

	"github.com/paratro/paratro/ceremony"
)

// ShareCache keeps the parsed shares of a long-running party, so that each
// ceremony does not parse its share again: parsing a CMP share checks its
// two Paillier primes, which costs more than a one-round signature.
//
// A cached share is only ever used after the sealed share was read and
// opened from the store, and only if that share's bytes are the ones it
// was parsed from (their SHA-256 is the key): a rotated, erased or
// restored share is never served from the cache. It holds secret key
// material in memory for as long as the party runs, as the party's own
// copies during ceremonies do (party run locks its memory and turns core
// dumps off).
type ShareCache struct {
	mu sync.Mutex
	m  map[string]cachedShare // by wallet
}

type cachedShare struct {
	sum [32]byte
	sh  *ceremony.Share
}

// get returns the share parsed from secret, parsing it on a miss.
func (c *ShareCache) get(walletID string, secret []byte) (*ceremony.Share, error) {
	sum := sha256.Sum256(secret)
	c.mu.Lock()
	if e, ok := c.m[walletID]; ok && e.sum == sum {
		c.mu.Unlock()
		return e.sh, nil
	}
	c.mu.Unlock()
	sh, err := ceremony.UnmarshalShare(secret)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedShare{}
	}
	c.m[walletID] = cachedShare{sum: sum, sh: sh}
	return sh, nil
}

// Forget drops a wallet's share from the cache.
func (c *ShareCache) Forget(walletID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, walletID)
}
