package holder_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

var ctx = context.Background()

// holders gives each fixture party its own store.
func holders(t *testing.T) map[party.ID]*holder.Holder {
	t.Helper()
	hs := map[party.ID]*holder.Holder{}
	for _, id := range ceremonytest.FixtureParties {
		kr := sharestest.NewMemoryKeyring()
		st, err := shares.Open(t.TempDir(), kr)
		if err != nil {
			t.Fatal(err)
		}
		keyrings.Store(st, kr)
		hs[id] = &holder.Holder{ID: id, Store: st}
	}
	return hs
}

// keyrings remembers each holder store's keyring, to reopen the store as
// a restarted party would.
var keyrings sync.Map // *shares.Store -> shares.Keyring

func keyringOf(t *testing.T, h *holder.Holder) shares.Keyring {
	t.Helper()
	kr, ok := keyrings.Load(h.Store)
	if !ok {
		t.Fatal("no keyring recorded for the store")
	}
	return kr.(shares.Keyring)
}

// run runs d with the given holders over one network, each with its own
// optional intercept on the network.
func run(t *testing.T, hs map[party.ID]*holder.Holder, d *ceremony.Descriptor, intercept ceremonytest.Intercept) map[party.ID]error {
	t.Helper()
	net := ceremony.NewMemoryNetwork(d.Parties...)
	if intercept != nil {
		net.SetIntercept(intercept)
	}
	type out struct {
		id  party.ID
		err error
	}
	ch := make(chan out)
	for _, id := range d.Parties {
		go func() {
			_, err := hs[id].Run(ctx, d, net.Endpoint(id), nil)
			ch <- out{id, err}
		}()
	}
	errs := map[party.ID]error{}
	for range d.Parties {
		o := <-ch
		errs[o.id] = o.err
	}
	return errs
}

func requireNoErrors(t *testing.T, errs map[party.ID]error) {
	t.Helper()
	for id, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
}

// epochs lists the stored share states of one holder: "1:active" ...
func epochs(t *testing.T, h *holder.Holder) string {
	t.Helper()
	list, err := h.Store.List()
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, e := range list {
		s = append(s, fmt.Sprintf("%d:%s", e.Epoch, e.State))
	}
	return strings.Join(s, " ")
}

func TestKeygenStoresConfirmedSharesAsEpochOne(t *testing.T) {
	hs := holders(t)
	d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, ceremonytest.FixtureParties...)
	d.WalletID = holder.NewWalletID()
	requireNoErrors(t, run(t, hs, d, nil))
	var pub []byte
	for id, h := range hs {
		sh, m, err := h.Share(d.WalletID)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if pub == nil {
			pub = m.PublicKey
		}
		if m.Epoch != 1 || !bytes.Equal(sh.PublicKey(), pub) || epochs(t, h) != "1:active" {
			t.Fatalf("%s holds epoch %d, states %q", id, m.Epoch, epochs(t, h))
		}
	}
}

func TestRefreshCommitsOnlyWhenEveryoneConfirmed(t *testing.T) {
	setup := func(t *testing.T) (map[party.ID]*holder.Holder, string) {
		hs := holders(t)
		d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, ceremonytest.FixtureParties...)
		d.WalletID = holder.NewWalletID()
		requireNoErrors(t, run(t, hs, d, nil))
		return hs, d.WalletID
	}
	describe := func(t *testing.T, h *holder.Holder, wallet string, kind ceremony.Kind, signers []party.ID, digest []byte, within time.Duration) *ceremony.Descriptor {
		d, err := h.Describe(kind, wallet, signers, digest, time.Now().Add(within))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Run("a completed refresh makes epoch 2 active and removes epoch 1", func(t *testing.T) {
		hs, wallet := setup(t)
		requireNoErrors(t, run(t, hs, describe(t, hs["alice"], wallet, ceremony.KindRefresh, nil, nil, time.Minute), nil))
		for id, h := range hs {
			if got := epochs(t, h); got != "2:active" {
				t.Fatalf("%s: states %q, want only 2:active", id, got)
			}
		}
	})
	t.Run("a refresh that aborts before confirming leaves everyone on epoch 1 alone", func(t *testing.T) {
		hs, wallet := setup(t)
		d := describe(t, hs["alice"], wallet, ceremony.KindRefresh, nil, nil, time.Minute)
		errs := run(t, hs, d, func(to party.ID, m *ceremony.Message) []*ceremony.Message {
			if m.From == "carol" && m.Type == ceremony.TypeConfirm {
				m.Type, m.Payload = ceremony.TypeAbort, []byte(`{"reason":"vault lost power"}`)
			}
			return []*ceremony.Message{m}
		})
		for _, id := range []party.ID{"alice", "bob"} {
			if !errors.Is(errs[id], ceremony.ErrAborted) {
				t.Fatalf("%s: got %v, want aborted by carol", id, errs[id])
			}
			if got := epochs(t, hs[id]); got != "1:active" {
				t.Fatalf("%s: states %q, want 1:active", id, got)
			}
		}
	})
	t.Run("when carol's confirmation is lost, the others keep epoch 2 pending beside epoch 1 and still sign", func(t *testing.T) {
		hs, wallet := setup(t)
		d := describe(t, hs["alice"], wallet, ceremony.KindRefresh, nil, nil, 2*time.Second)
		errs := run(t, hs, d, ceremonytest.Drop("carol", ceremony.TypeConfirm))
		for _, id := range []party.ID{"alice", "bob"} {
			var pe *holder.PendingError
			if !errors.As(errs[id], &pe) || !strings.Contains(errs[id].Error(), "carol") {
				t.Fatalf("%s: got %v, want a timeout naming carol with the share kept pending", id, errs[id])
			}
			if got := epochs(t, hs[id]); got != "1:active 2:pending" {
				t.Fatalf("%s: states %q, want 1:active 2:pending", id, got)
			}
		}
		// carol saw every confirmation, so she switched: exactly the split
		// that keeping epoch 2 pending lets the others resolve later.
		if got := epochs(t, hs["carol"]); got != "2:active" {
			t.Fatalf("carol: states %q, want 2:active", got)
		}
		digest := ceremonytest.Digest("still works")
		sd := describe(t, hs["alice"], wallet, ceremony.KindSign, []party.ID{"alice", "bob"}, digest, time.Minute)
		if sd.Epoch != 1 {
			t.Fatalf("signing runs on epoch %d", sd.Epoch)
		}
		res := runPair(t, hs["alice"], hs["bob"], sd, "signing on epoch 1 failed")
		_, m, _ := hs["alice"].Share(wallet)
		if err := bitcoin.VerifySchnorr(m.PublicKey, digest, res.Signature); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSignUsesTheStoredShareAndVerifies(t *testing.T) {
	hs := holders(t)
	fixture := ceremonytest.SchnorrShares(t)
	for id, h := range hs {
		if err := h.Import("wal_fixture", 1, fixture[id]); err != nil {
			t.Fatal(err)
		}
	}
	digest := ceremonytest.Digest("stored share signs")
	d, err := hs["bob"].Describe(ceremony.KindSign, "wal_fixture", []party.ID{"bob", "carol"}, digest, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	res := runPair(t, hs["bob"], hs["carol"], d, "sign failed")
	if err := bitcoin.VerifySchnorr(fixture["bob"].PublicKey(), digest, res.Signature); err != nil {
		t.Fatal(err)
	}
	t.Run("a share stored under another party's name is refused", func(t *testing.T) {
		impostor := &holder.Holder{ID: "alice", Store: hs["alice"].Store}
		if err := impostor.Import("wal_swapped", 1, fixture["bob"]); err != nil {
			t.Fatal(err)
		}
		if _, _, err := impostor.Share("wal_swapped"); err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("got %v, want a mismatch error", err)
		}
	})
	t.Run("a ceremony on another epoch is refused before it starts", func(t *testing.T) {
		stale := *d
		stale.Epoch = 7
		net := ceremony.NewMemoryNetwork(d.Parties...)
		if _, err := hs["bob"].Run(ctx, &stale, net.Endpoint("bob"), nil); err == nil || !strings.Contains(err.Error(), "share epoch mismatch") {
			t.Fatalf("got %v", err)
		}
	})
}

// runPair runs ceremony d at holders a and b (b on a goroutine) over a
// fresh in-memory network and returns a's result; it fails t with what if
// either party fails.
func runPair(t *testing.T, a, b *holder.Holder, d *ceremony.Descriptor, what string) *ceremony.Result {
	t.Helper()
	net := ceremony.NewMemoryNetwork(d.Parties...)
	done := make(chan error, 1)
	go func() { _, err := b.Run(ctx, d, net.Endpoint(b.ID), nil); done <- err }()
	res, err := a.Run(ctx, d, net.Endpoint(a.ID), nil)
	if berr := <-done; err != nil || berr != nil {
		t.Fatalf("%s: %s: %v; %s: %v", what, a.ID, err, b.ID, berr)
	}
	return res
}
