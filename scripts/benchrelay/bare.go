package main

import (
	"context"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/math/curve"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
	"github.com/taurusgroup/multi-party-sig/protocols/cmp"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
)

// The bare library side: ceremonytest.BareRun, the threshold library's
// handlers wired directly, as the `go test -bench` benchmarks of
// ceremony/ use it.

// bareRun times one ceremonytest.BareRun.
func bareRun(starts map[party.ID]protocol.StartFunc, sid []byte) (memRun, error) {
	cpu0 := selfCPU()
	t0 := time.Now()
	err := ceremonytest.BareRun(starts, sid)
	m := memRun{total: time.Since(t0), cpu: selfCPU() - cpu0}
	m.engine = m.total
	return m, err
}

// bareSign signs a random digest with the fixture shares of memSigners.
// Each signer gets its own copy of its share, as the engine's parties do.
func bareSign(sh map[party.ID]*ceremony.Share) (memRun, error) {
	digest := randomDigest()
	d := ceremonytest.Sign(sh, digest, memSigners...)
	starts := map[party.ID]protocol.StartFunc{}
	for _, id := range memSigners {
		c, err := sh[id].LibraryConfig()
		if err != nil {
			return memRun{}, err
		}
		starts[id] = cmp.Sign(c.(*cmp.Config), memSigners, digest, nil)
	}
	return bareRun(starts, d.SessionID())
}

// bareKeygen is a CMP key generation among n parties, required of them to sign.
func bareKeygen(_ context.Context, required, n int) (memRun, error) {
	ids := keygenParties(n)
	d := ceremonytest.Keygen(ceremony.SchemeECDSA, required, ids...)
	starts := map[party.ID]protocol.StartFunc{}
	for _, id := range ids {
		starts[id] = cmp.Keygen(curve.Secp256k1{}, id, ids, required-1, nil)
	}
	return bareRun(starts, d.SessionID())
}
