package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/shares"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// partyNames name the demo's parties, in order.
var partyNames = []party.ID{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan"}

// demoParty is one key holder of the demo: its own home directory, its own
// file keyring (with a random passphrase held only in memory) and its own
// share store, as on a separate machine.
type demoParty struct {
	holder  *holder.Holder
	keyring *shares.FileKeyring
	home    string
}

// openParties gives each of the first n demo parties a home under base.
func openParties(base string, n int) ([]*demoParty, error) {
	parties := make([]*demoParty, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range parties {
		wg.Add(1)
		go func() { // key derivation takes a fraction of a second each
			defer wg.Done()
			parties[i], errs[i] = openParty(filepath.Join(base, string(partyNames[i])), partyNames[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		closeParties(parties)
		return nil, err
	}
	return parties, nil
}

func openParty(home string, id party.ID) (*demoParty, error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create home of %s: %w", id, err)
	}
	pass := make([]byte, 32)
	if _, err := rand.Read(pass); err != nil {
		return nil, err
	}
	phrase := []byte(hex.EncodeToString(pass))
	defer clear(phrase)
	kr, err := shares.OpenFileKeyring(filepath.Join(home, "keyring.json"), phrase)
	if err != nil {
		return nil, fmt.Errorf("keyring of %s: %w", id, err)
	}
	st, err := shares.Open(filepath.Join(home, "shares"), kr)
	if err != nil {
		kr.Close()
		return nil, fmt.Errorf("share store of %s: %w", id, err)
	}
	return &demoParty{holder: &holder.Holder{ID: id, Store: st}, keyring: kr, home: home}, nil
}

func closeParties(parties []*demoParty) {
	for _, p := range parties {
		if p != nil {
			p.keyring.Close()
		}
	}
}

func ids(parties []*demoParty) []party.ID {
	out := make([]party.ID, len(parties))
	for i, p := range parties {
		out[i] = p.holder.ID
	}
	return out
}

// ceremonyRun runs ceremony d among the given parties over one in-memory
// network, each on its own goroutine as on its own machine. Progress events
// are those of the first party. It returns the first party's result once
// every party succeeded and all produced the same public output.
func ceremonyRun(ctx context.Context, parties []*demoParty, d *ceremony.Descriptor, progress func(ceremony.Event)) (*ceremony.Result, error) {
	net := ceremony.NewMemoryNetwork(d.Parties...)
	results := make([]*ceremony.Result, len(parties))
	errs := make([]error, len(parties))
	var wg sync.WaitGroup
	for i, p := range parties {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var report func(ceremony.Event)
			if i == 0 {
				report = progress
			}
			results[i], errs[i] = p.holder.Run(ctx, d, net.Endpoint(p.holder.ID), report)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", p.holder.ID, errs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, r := range results[1:] {
		if string(r.PublicKey) != string(results[0].PublicKey) || string(r.Signature) != string(results[0].Signature) {
			return nil, fmt.Errorf("%s and %s disagree on the result", parties[0].holder.ID, parties[i+1].holder.ID)
		}
	}
	return results[0], nil
}
