package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/math/curve"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
	"github.com/taurusgroup/multi-party-sig/protocols/cmp"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
)

// The bare library side: the threshold library's handlers wired directly,
// with none of the engine (no descriptor checks, transcript, envelopes or
// confirmation round). It is ceremony/bench_test.go's bareRun, which the
// `go test -bench` benchmarks use; a main package cannot import a test
// file, so it is repeated here.

// bareRun runs the library alone, wired as well as it can be: every
// party's handler is built concurrently, one goroutine drains its output
// to the other parties as soon as the library produces it, and another
// feeds inbound messages to Accept.
func bareRun(starts map[party.ID]protocol.StartFunc, sid []byte) (memRun, error) {
	cpu0 := selfCPU()
	t0 := time.Now()
	inbox := map[party.ID]chan *protocol.Message{}
	for id := range starts {
		inbox[id] = make(chan *protocol.Message, 1024)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(id party.ID, err error) {
		mu.Lock()
		errs = append(errs, fmt.Errorf("bare library: %s: %w", id, err))
		mu.Unlock()
	}
	for id, start := range starts {
		wg.Go(func() {
			h, err := protocol.NewMultiHandler(start, sid)
			if err != nil {
				fail(id, err)
				return
			}
			done := make(chan struct{})
			go func() {
				for {
					select {
					case msg := <-inbox[id]:
						h.Accept(msg)
					case <-done:
						return
					}
				}
			}()
			for msg := range h.Listen() {
				for to, ch := range inbox {
					if msg.IsFor(to) {
						ch <- msg
					}
				}
			}
			close(done)
			if _, err := h.Result(); err != nil {
				fail(id, err)
			}
		})
	}
	wg.Wait()
	m := memRun{total: time.Since(t0), cpu: selfCPU() - cpu0}
	m.engine = m.total
	return m, errors.Join(errs...)
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
