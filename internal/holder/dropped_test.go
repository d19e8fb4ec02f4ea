package holder_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/shares"
)

// TestDroppedMessageLeavesNothingActive is release case 19 at the holder:
// a relay loses, for good, every copy of carol's point-to-point message to
// alice in one round of a key generation or a refresh. Every party fails at
// the deadline with a timeout, not before it and not with a pending share
// kept for later (no party got as far as storing one): alice's names carol
// and the round, bob's and carol's name alice, who never went on; afterwards no store holds a share of the new epoch, active or
// pending: a keygen leaves no share of the wallet at all, a refresh leaves
// epoch 1 the only share, active, and it still signs.
//
// FROST ceremonies run by default; the CMP refresh (Paillier keys, then a
// CMP sign; tens of seconds) with PARATRO_ADVERSARY_ALL=1.
func TestDroppedMessageLeavesNothingActive(t *testing.T) {
	for _, c := range []struct {
		name   string
		kind   ceremony.Kind
		scheme ceremony.Scheme
		// round is a library round in which carol sends alice a
		// point-to-point message.
		round    int
		deadline time.Duration
	}{
		{"FROST keygen", ceremony.KindKeygen, ceremony.SchemeSchnorr, 3, 2 * time.Second},
		{"FROST refresh", ceremony.KindRefresh, ceremony.SchemeSchnorr, 3, 2 * time.Second},
		// The deadline leaves every party time to make its Paillier key
		// on a busy machine: the message must be the only thing missing.
		{"CMP refresh", ceremony.KindRefresh, ceremony.SchemeECDSA, 4, 20 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.scheme == ceremony.SchemeECDSA {
				if testing.Short() || os.Getenv("PARATRO_ADVERSARY_ALL") == "" {
					t.Skip("a CMP refresh and sign (seconds); set PARATRO_ADVERSARY_ALL=1 to run it")
				}
			}
			t.Parallel()
			hs := holders(t)
			var d *ceremony.Descriptor
			wallet := holder.NewWalletID()
			if c.kind == ceremony.KindKeygen {
				d = ceremonytest.Keygen(c.scheme, 2, ceremonytest.FixtureParties...)
				d.WalletID, d.Deadline = wallet, time.Now().Add(c.deadline)
			} else {
				fixture := ceremonytest.SchnorrShares(t)
				if c.scheme == ceremony.SchemeECDSA {
					fixture = ceremonytest.ECDSAShares(t)
				}
				for id, h := range hs {
					if err := h.Import(wallet, 1, fixture[id]); err != nil {
						t.Fatal(err)
					}
				}
				var err error
				if d, err = hs["alice"].Describe(c.kind, wallet, nil, nil, time.Now().Add(c.deadline)); err != nil {
					t.Fatal(err)
				}
			}
			lost := ceremonytest.And(ceremonytest.Session(d.SessionID()), ceremonytest.From("carol"), ceremonytest.To("alice"),
				ceremonytest.Round(c.round), ceremonytest.P2P())
			var dropped atomic.Int64
			began := time.Now()
			errs := run(t, hs, d, ceremonytest.Only(lost, func(party.ID, *ceremony.Message) []*ceremony.Message {
				dropped.Add(1)
				return nil
			}))
			elapsed := time.Since(began)
			t.Logf("every party failed after %s (deadline %s), %d deliveries dropped", elapsed.Round(time.Millisecond), c.deadline, dropped.Load())
			if dropped.Load() == 0 {
				t.Fatal("the message to drop was never sent")
			}
			if elapsed < c.deadline-time.Second/2 {
				t.Fatalf("the parties failed after %s, before the %s deadline", elapsed, c.deadline)
			}
			for id, err := range errs {
				var e *ceremony.Error
				var pe *holder.PendingError
				if !errors.As(err, &e) || !errors.Is(err, ceremony.ErrTimeout) || errors.As(err, &pe) || len(e.Waiting) == 0 {
					t.Fatalf("%s: got %v, want a timeout naming who it waited for, with no share kept pending", id, err)
				}
				t.Logf("%s: %v", id, err)
			}
			want := fmt.Sprintf("round %d/", c.round)
			// Contains, not Equal: a party whose loop was busy when the
			// deadline passed may also name one whose message it had not
			// read yet.
			if e := errs["alice"].(*ceremony.Error); !slices.Contains(e.Waiting, "carol") ||
				!strings.Contains(e.Error(), "waiting for carol") || !strings.Contains(e.Error(), want) {
				t.Fatalf("alice: got %v, want a timeout in %s waiting for carol", e, want)
			}
			// bob and carol got every message of the round and went on;
			// alice, still waiting for carol's, never sends her next one.
			for _, id := range []party.ID{"bob", "carol"} {
				if e := errs[id].(*ceremony.Error); !slices.Contains(e.Waiting, "alice") || !strings.Contains(e.Error(), "alice") {
					t.Fatalf("%s: got %v, want a timeout waiting for alice", id, e)
				}
			}

			wantStates := "1:active"
			if c.kind == ceremony.KindKeygen {
				wantStates = ""
			}
			for id, h := range hs {
				if got := epochs(t, h); got != wantStates {
					t.Fatalf("%s: states %q, want %q", id, got, wantStates)
				}
				if _, err := h.Store.Pending(wallet, string(id)); !errors.Is(err, shares.ErrNotFound) {
					t.Fatalf("%s: a pending share of %s (err %v)", id, wallet, err)
				}
				_, m, err := h.Share(wallet)
				switch {
				case c.kind == ceremony.KindKeygen && !errors.Is(err, shares.ErrNotFound):
					t.Fatalf("%s: an active share of the failed keygen's wallet (err %v)", id, err)
				case c.kind == ceremony.KindRefresh && (err != nil || m.Epoch != 1):
					t.Fatalf("%s: active share epoch %d (err %v), want epoch 1", id, m.Epoch, err)
				}
			}
			if c.kind == ceremony.KindKeygen {
				return
			}
			digest := ceremonytest.Digest("epoch 1 still signs after the lost message")
			sd, err := hs["alice"].Describe(ceremony.KindSign, wallet, []party.ID{"alice", "carol"}, digest, time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if sd.Epoch != 1 {
				t.Fatalf("signing runs on epoch %d", sd.Epoch)
			}
			res := runPair(t, hs["alice"], hs["carol"], sd, "signing on epoch 1 failed")
			_, m, _ := hs["carol"].Share(wallet)
			verify := bitcoin.VerifySchnorr
			if c.scheme == ceremony.SchemeECDSA {
				verify = verifyECDSA
			}
			if err := verify(m.PublicKey, digest, res.Signature); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// verifyECDSA checks an ECDSA signature over digest by the key pub with
// go-ethereum (address recovery), not the threshold library.
func verifyECDSA(pub, digest, sig []byte) error {
	addr, err := ethereum.Address(pub)
	if err != nil {
		return err
	}
	return ethereum.VerifyDigest(addr, digest, sig)
}
