// Package ceremonytest runs whole ceremonies in one process for tests and
// benchmarks: every party on its own goroutine over a ceremony.MemoryNetwork,
// descriptor builders, TEST-ONLY fixture shares, and message mutators that
// play a malicious party or network.
package ceremonytest

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// Outcome is one party's result of a ceremony.
type Outcome struct {
	Result *ceremony.Result
	Err    error
}

// Run runs every given party's side of d concurrently over net and returns
// each party's outcome. configure fills in each party's Config (Self and
// Transport are set by Run).
func Run(ctx context.Context, d *ceremony.Descriptor, net *ceremony.MemoryNetwork, ids []party.ID, configure func(id party.ID, c *ceremony.Config)) map[party.ID]Outcome {
	var mu sync.Mutex
	out := make(map[party.ID]Outcome, len(ids))
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := ceremony.Config{Self: id, Transport: net.Endpoint(id)}
			if configure != nil {
				configure(id, &cfg)
			}
			res, err := ceremony.Run(ctx, d, cfg)
			mu.Lock()
			out[id] = Outcome{res, err}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// RunAll runs a ceremony with every party of d on a fresh network; shares
// (may be nil for keygen) supply each party's share.
func RunAll(ctx context.Context, d *ceremony.Descriptor, shares map[party.ID]*ceremony.Share) (map[party.ID]Outcome, *ceremony.MemoryNetwork) {
	net := ceremony.NewMemoryNetwork(d.Parties...)
	return Run(ctx, d, net, d.Parties, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] }), net
}

// DefaultTimeout is the deadline the descriptor builders set.
const DefaultTimeout = 2 * time.Minute

// Keygen describes a key generation among parties with the given threshold.
func Keygen(scheme ceremony.Scheme, required int, parties ...party.ID) *ceremony.Descriptor {
	return &ceremony.Descriptor{ID: ceremony.NewID(), Kind: ceremony.KindKeygen, Scheme: scheme,
		WalletID: "wal_test", Parties: parties, Required: required, Deadline: time.Now().Add(DefaultTimeout)}
}

// Sign describes signing digest with the given signers' shares.
func Sign(shares map[party.ID]*ceremony.Share, digest []byte, signers ...party.ID) *ceremony.Descriptor {
	sh := shares[signers[0]]
	return &ceremony.Descriptor{ID: ceremony.NewID(), Kind: ceremony.KindSign, Scheme: sh.Scheme(),
		WalletID: "wal_test", Parties: signers, Required: sh.Required(), Epoch: 1,
		ConfigDigest: sh.ConfigDigest(), Digest: digest, Deadline: time.Now().Add(DefaultTimeout)}
}

// Refresh describes a refresh of the wallet the shares belong to.
func Refresh(shares map[party.ID]*ceremony.Share) *ceremony.Descriptor {
	var sh *ceremony.Share
	for _, s := range shares {
		sh = s
		break
	}
	return &ceremony.Descriptor{ID: ceremony.NewID(), Kind: ceremony.KindRefresh, Scheme: sh.Scheme(),
		WalletID: "wal_test", Parties: sh.Parties(), Required: sh.Required(), Epoch: 1,
		ConfigDigest: sh.ConfigDigest(), Deadline: time.Now().Add(DefaultTimeout)}
}

// Digest returns the SHA-256 of text, a convenient message digest.
func Digest(text string) []byte {
	d := sha256.Sum256([]byte(text))
	return d[:]
}

// Shares collects the new shares from successful outcomes.
func Shares(out map[party.ID]Outcome) map[party.ID]*ceremony.Share {
	m := map[party.ID]*ceremony.Share{}
	for id, o := range out {
		if o.Err == nil && o.Result != nil && o.Result.Share != nil {
			m[id] = o.Result.Share
		}
	}
	return m
}
