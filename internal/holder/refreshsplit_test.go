package holder_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/holder"
)

// TestRefreshWithAWithheldFinalBroadcastActivatesNowhere is SECURITY.md
// Appendix B5 (release case 27): in a refresh, carol's message of the
// protocol's last round (CMP refresh round 5, a broadcast; FROST refresh
// round 3) reaches bob but never alice. bob and carol finish the protocol
// with new shares, alice never does. No party activates the new epoch: the
// test signature with the new shares and the confirmation round both need
// alice, so nobody confirms, nothing stays pending, and every party keeps
// epoch 1 active, which still signs.
func TestRefreshWithAWithheldFinalBroadcastActivatesNowhere(t *testing.T) {
	for _, c := range []struct {
		scheme ceremony.Scheme
		final  int
	}{{ceremony.SchemeSchnorr, 3}, {ceremony.SchemeECDSA, 5}} {
		t.Run(string(c.scheme), func(t *testing.T) {
			if c.scheme == ceremony.SchemeECDSA && testing.Short() {
				t.Skip("CMP refresh generates Paillier keys: tens of seconds; runs without -short")
			}
			hs := holders(t)
			fixture := ceremonytest.SchnorrShares(t)
			if c.scheme == ceremony.SchemeECDSA {
				fixture = ceremonytest.ECDSAShares(t)
			}
			for id, h := range hs {
				if err := h.Import("wal_split", 1, fixture[id]); err != nil {
					t.Fatal(err)
				}
			}
			d, err := hs["alice"].Describe(ceremony.KindRefresh, "wal_split", nil, nil, time.Now().Add(10*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			sid, testSID := d.SessionID(), ceremony.TestSessionID(d.SessionID())

			// Once bob and carol both started the test signature (so both
			// hold new shares from the finished protocol), give alice a
			// moment more, then stop everyone, as the deadline would.
			rctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var withheld atomic.Int64
			var mu sync.Mutex
			started := map[party.ID]bool{}
			errs := runCtx(rctx, hs, d, func(to party.ID, m *ceremony.Message) []*ceremony.Message {
				if bytes.Equal(m.SessionID, sid) && m.From == "carol" && m.Type == ceremony.TypeProtocol && m.Round == c.final && to == "alice" {
					withheld.Add(1)
					return nil
				}
				if bytes.Equal(m.SessionID, testSID) {
					mu.Lock()
					started[m.From] = true
					if started["bob"] && started["carol"] {
						time.AfterFunc(time.Second, cancel)
					}
					mu.Unlock()
				}
				return []*ceremony.Message{m}
			})
			if withheld.Load() == 0 {
				t.Fatalf("carol sent alice no round-%d message to withhold", c.final)
			}
			for id, err := range errs {
				if err == nil {
					t.Fatalf("%s completed the refresh", id)
				}
				if got := epochs(t, hs[id]); got != "1:active" {
					t.Fatalf("%s: states %q, want only 1:active (error %v)", id, got, err)
				}
				t.Logf("%s: %v", id, err)
			}
			mu.Lock()
			if !started["bob"] || !started["carol"] {
				t.Logf("bob and carol did not both reach the test signature (%v): the deadline ended the refresh", started)
			}
			mu.Unlock()

			// Signing continues on epoch 1.
			digest := ceremonytest.Digest("after the split refresh")
			sd, err := hs["alice"].Describe(ceremony.KindSign, "wal_split", []party.ID{"alice", "bob"}, digest, time.Now().Add(5*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if sd.Epoch != 1 {
				t.Fatalf("signing runs on epoch %d", sd.Epoch)
			}
			res := runPair(t, hs["alice"], hs["bob"], sd, "signing on epoch 1 failed")
			if c.scheme == ceremony.SchemeSchnorr {
				err = bitcoin.VerifySchnorr(fixture["alice"].PublicKey(), digest, res.Signature)
			} else {
				addr, _ := ethereum.Address(fixture["alice"].PublicKey())
				err = ethereum.VerifyDigest(addr, digest, res.Signature)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// runCtx is run with a context of the test's choosing.
func runCtx(c context.Context, hs map[party.ID]*holder.Holder, d *ceremony.Descriptor, intercept ceremonytest.Intercept) map[party.ID]error {
	net := ceremony.NewMemoryNetwork(d.Parties...)
	net.SetIntercept(intercept)
	var mu sync.Mutex
	errs := map[party.ID]error{}
	var wg sync.WaitGroup
	for _, id := range d.Parties {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := hs[id].Run(c, d, net.Endpoint(id), nil)
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return errs
}
