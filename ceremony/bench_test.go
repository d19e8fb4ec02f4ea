package ceremony_test

import (
	"testing"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
	"github.com/taurusgroup/multi-party-sig/protocols/cmp"
	"github.com/taurusgroup/multi-party-sig/protocols/frost"
)

// The benchmarks run the same work twice in one process: through the
// ceremony engine over the in-memory network ("engine"), and with the bare
// library's handlers wired together the way its own tests do ("library").
// scripts/bench.sh turns each pair into a ratio.

// bareRun runs the library alone (ceremonytest.BareRun).
func bareRun(b *testing.B, starts map[party.ID]protocol.StartFunc, sid []byte) {
	if err := ceremonytest.BareRun(starts, sid); err != nil {
		b.Error(err)
	}
}

func engineRun(b *testing.B, d *ceremony.Descriptor, shares map[party.ID]*ceremony.Share) {
	out, _ := ceremonytest.RunAll(ctx, d, shares)
	for id, o := range out {
		if o.Err != nil {
			b.Fatalf("%s: %v", id, o.Err)
		}
	}
}

func BenchmarkSignECDSA(b *testing.B) {
	shares := ceremonytest.ECDSAShares(b)
	signers := []party.ID{"alice", "bob"}
	digest := ceremonytest.Digest("bench")
	b.Run("engine", func(b *testing.B) {
		for b.Loop() {
			engineRun(b, ceremonytest.Sign(shares, digest, signers...), shares)
		}
	})
	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			d := ceremonytest.Sign(shares, digest, signers...)
			starts := map[party.ID]protocol.StartFunc{}
			for _, id := range signers {
				starts[id] = cmp.Sign(cmpConfig(b, shares[id]), signers, digest, nil)
			}
			bareRun(b, starts, d.SessionID())
		}
	})
}

func BenchmarkRefreshECDSA(b *testing.B) {
	shares := ceremonytest.ECDSAShares(b)
	b.Run("engine", func(b *testing.B) {
		for b.Loop() {
			engineRun(b, ceremonytest.Refresh(shares), shares)
		}
	})
	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			starts := map[party.ID]protocol.StartFunc{}
			for id, sh := range shares {
				starts[id] = cmp.Refresh(cmpConfig(b, sh), nil)
			}
			bareRun(b, starts, ceremonytest.Refresh(shares).SessionID())
		}
	})
}

func BenchmarkSignSchnorr(b *testing.B) {
	shares := ceremonytest.SchnorrShares(b)
	signers := []party.ID{"alice", "bob"}
	digest := ceremonytest.Digest("bench")
	b.Run("engine", func(b *testing.B) {
		for b.Loop() {
			engineRun(b, ceremonytest.Sign(shares, digest, signers...), shares)
		}
	})
	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			starts := map[party.ID]protocol.StartFunc{}
			for _, id := range signers {
				starts[id] = frost.SignTaproot(frostConfig(b, shares[id]), signers, digest)
			}
			bareRun(b, starts, ceremonytest.Sign(shares, digest, signers...).SessionID())
		}
	})
}

// cmpConfig and frostConfig give the bare library its own copy of a share,
// as the engine does, so both sides pay for the same copy.
func cmpConfig(b *testing.B, sh *ceremony.Share) *cmp.Config {
	c, err := sh.LibraryConfig()
	if err != nil {
		b.Fatal(err)
	}
	return c.(*cmp.Config)
}

func frostConfig(b *testing.B, sh *ceremony.Share) *frost.TaprootConfig {
	c, err := sh.LibraryConfig()
	if err != nil {
		b.Fatal(err)
	}
	return c.(*frost.TaprootConfig)
}
