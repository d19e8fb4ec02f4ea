package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares"
)

// partyNames name the demo's key holders, in order.
var partyNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan"}

// demoParty is one key holder of the demo: its own home directory with its
// own identity, its own file keyring (with a random passphrase held only in
// memory) and its own share store, as on a separate machine, and its own
// client of the relay.
type demoParty struct {
	name    string
	home    *home.Home
	keyring *shares.FileKeyring
	client  *relay.Client
}

// fingerprint is the party's ID in ceremonies and on the relay.
func (p *demoParty) fingerprint() string { return p.home.ID.Fingerprint() }

// active returns the epoch and configuration digest (hex) of the party's
// active share of wallet, as a sign or refresh request names them.
func (p *demoParty) active(wallet string) (uint64, string, error) {
	sh, err := p.home.Store.Active(wallet, p.fingerprint())
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", p.name, err)
	}
	defer sh.Wipe()
	return sh.Epoch, hex.EncodeToString(sh.ConfigDigest), nil
}

// network is the demo's relay, on loopback, and one party per holder
// talking to it over HTTP, as "paratro relay serve" and "paratro party
// run" would on separate machines.
type network struct {
	parties []*demoParty
	names   map[string]string // fingerprint → name

	fail        context.CancelCauseFunc // a party stopped: end the step at once
	stopParties context.CancelFunc
	partiesDone sync.WaitGroup
	stopRelay   context.CancelFunc
	relayDone   chan error

	totp      map[string]string // fingerprint → TOTP secret
	rotations int
	lastStep  map[string]int64 // fingerprint → time step of its last code

	mu    sync.Mutex
	shown string               // fingerprint of the party whose progress is shown
	sink  func(ceremony.Event) // where its progress goes
}

// startNetwork gives the first n holders a home under base, where each
// trusts every other, starts the relay (its data under base/relay) and
// runs every holder's party. fail is called with the reason when a party
// stops on its own. Stop ends it all.
func startNetwork(ctx context.Context, base string, n int, fail context.CancelCauseFunc) (out *network, err error) {
	nw := &network{names: map[string]string{}, fail: fail}
	defer func() {
		if err != nil {
			nw.stop()
			out = nil
		}
	}()
	if nw.parties, err = openParties(base, n); err != nil {
		return nw, err
	}
	for _, p := range nw.parties {
		nw.names[p.fingerprint()] = p.name
		for _, o := range nw.parties {
			if _, err := p.home.Trust(o.home.ID.Public); err != nil {
				return nw, fmt.Errorf("%s trusts %s: %w", p.name, o.name, err)
			}
		}
	}
	addr, err := nw.startRelay(filepath.Join(base, "relay"))
	if err != nil {
		return nw, err
	}
	for _, p := range nw.parties {
		if p.client, err = relay.NewClient("http://"+addr, p.home.ID, relay.ClientOptions{}); err != nil {
			return nw, err
		}
		// Registered before anything is asked, so that every request
		// finds every party on the relay's roster.
		if err := p.client.Register(ctx); err != nil {
			return nw, fmt.Errorf("%s: register with the relay: %w", p.name, err)
		}
	}
	if err := nw.admit(ctx, filepath.Join(base, "relay")); err != nil {
		return nw, err
	}
	nw.startParties()
	return nw, nil
}

// admit sets up access control on the demo's relay as its operators
// would: the relay host bootstraps the first holder as owner, who admits
// the others as admins. The first two holders enrol TOTP and take turns
// rotating keys (rotate-keys needs a code; the demo computes the codes an
// authenticator app would show); the last holder, without TOTP, creates
// the wallets. Turns keep any holder from needing two codes in one
// 30-second step, which the relay would refuse as reused.
func (n *network) admit(ctx context.Context, relayDir string) error {
	owner := n.parties[0]
	if err := relay.WriteBootstrap(relayDir, owner.home.ID.Public); err != nil {
		return err
	}
	for {
		info, err := owner.client.Info(ctx)
		if err != nil {
			return err
		}
		if info.HasOwner {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	n.totp = map[string]string{}
	for _, p := range n.parties {
		if p != owner {
			if _, err := owner.client.AddOperator(ctx, p.name, relay.RoleAdmin); err != nil {
				return fmt.Errorf("admit %s: %w", p.name, err)
			}
		}
		if len(n.totp) == n.rotators() {
			continue
		}
		en, err := p.client.MFAEnroll(ctx)
		if err != nil {
			return fmt.Errorf("%s: enrol TOTP: %w", p.name, err)
		}
		// Confirmed with the previous time step's code, so that the
		// current step's code is still unused for the first rotation.
		code, err := totp.GenerateCode(en.Secret, time.Now().Add(-30*time.Second))
		if err != nil {
			return err
		}
		p.client.SetOTP(code)
		if _, err := p.client.MFAConfirm(ctx); err != nil {
			return fmt.Errorf("%s: confirm TOTP: %w", p.name, err)
		}
		n.totp[p.fingerprint()] = en.Secret
	}
	return nil
}

// rotators is how many holders enrol TOTP and rotate keys in turn: one
// per scheme the demo can run, leaving the last holder to create wallets.
func (n *network) rotators() int { return min(2, len(n.parties)-1) }

// rotator returns the holder who asks for the next key rotation, with
// its TOTP code given to its client. Holders take turns, so that no
// holder needs two codes within one 30-second step.
func (n *network) rotator() (*demoParty, error) {
	p := n.parties[n.rotations%n.rotators()]
	n.rotations++
	now := time.Now()
	step := now.Unix() / 30
	if n.lastStep[p.fingerprint()] == step { // its code of this step is used: wait for the next
		time.Sleep(time.Unix((step+1)*30, 0).Sub(now))
		now = time.Now()
	}
	if n.lastStep == nil {
		n.lastStep = map[string]int64{}
	}
	n.lastStep[p.fingerprint()] = now.Unix() / 30
	code, err := totp.GenerateCode(n.totp[p.fingerprint()], now)
	if err != nil {
		return nil, err
	}
	p.client.SetOTP(code)
	return p, nil
}

// startRelay runs the relay on a free loopback port and returns its
// address once it listens.
func (n *network) startRelay(dir string) (string, error) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- relay.Serve(ctx, relay.Config{Listen: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.DiscardHandler)},
			func(addr string) { ready <- addr })
	}()
	select {
	case addr := <-ready:
		n.stopRelay, n.relayDone = cancel, done
		return addr, nil
	case err := <-done:
		cancel()
		return "", fmt.Errorf("start the relay: %w", err)
	}
}

// startParties runs every holder's party, approving every request, until
// stop. Each runs under a context of its own, so that stop can end them
// before the relay they talk to.
func (n *network) startParties() {
	ctx, cancel := context.WithCancel(context.Background())
	n.stopParties = cancel
	for _, p := range n.parties {
		cp := &coord.Party{Home: p.home, Relay: p.client, Decide: approveAll, Events: func(e coord.Event) { n.event(p, e) }}
		n.partiesDone.Add(1)
		go func() {
			defer n.partiesDone.Done()
			if err := cp.Run(ctx); err != nil && ctx.Err() == nil {
				n.fail(fmt.Errorf("%s's party stopped: %w", p.name, err))
			}
		}()
	}
}

// approveAll is the demo holders' policy: they approve every request.
func approveAll(context.Context, *coord.Proposal) (coord.Decision, error) {
	return coord.Decision{Approve: true}, nil
}

// event takes what party p did: its ceremony progress is shown when p is
// the party on show; an error leaves a ceremony without p, so the step
// ends at once rather than at its deadline.
func (n *network) event(p *demoParty, e coord.Event) {
	switch e.What {
	case "progress":
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.sink != nil && n.shown == p.fingerprint() {
			ev := e.Progress
			ev.Waiting = make([]party.ID, len(e.Progress.Waiting))
			for i, id := range e.Progress.Waiting {
				ev.Waiting[i] = party.ID(n.name(string(id)))
			}
			n.sink(ev)
		}
	case "error":
		n.fail(fmt.Errorf("%s: %w", p.name, e.Err))
	}
}

// show sends the progress of p's ceremonies to sink, by holder name; a nil
// sink shows nothing.
func (n *network) show(p *demoParty, sink func(ceremony.Event)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.shown, n.sink = "", sink
	if p != nil {
		n.shown = p.fingerprint()
	}
}

// name is the holder name of fingerprint fp, for people.
func (n *network) name(fp string) string {
	if name, ok := n.names[fp]; ok {
		return name
	}
	return fp
}

// stop ends the parties, waits for them, then shuts the relay down and
// closes the keyrings.
func (n *network) stop() {
	if n.stopParties != nil {
		n.stopParties()
		n.partiesDone.Wait()
	}
	if n.stopRelay != nil {
		n.stopRelay()
		<-n.relayDone // a shutdown error changes nothing: the demo is over
	}
	for _, p := range n.parties {
		if p != nil {
			p.keyring.Close()
		}
	}
}

// publics are the holders' public identities, as requests list them.
func (n *network) publics() []identity.Public {
	out := make([]identity.Public, len(n.parties))
	for i, p := range n.parties {
		out[i] = p.home.ID.Public
	}
	return out
}

// openParties gives each of the first n holders a home under base.
func openParties(base string, n int) ([]*demoParty, error) {
	parties := make([]*demoParty, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range parties {
		wg.Add(1)
		go func() { // key derivation takes a fraction of a second each
			defer wg.Done()
			parties[i], errs[i] = openParty(filepath.Join(base, partyNames[i]), partyNames[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, p := range parties {
			if p != nil {
				p.keyring.Close()
			}
		}
		return nil, err
	}
	return parties, nil
}

func openParty(dir, name string) (*demoParty, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create home of %s: %w", name, err)
	}
	pass := make([]byte, 32)
	if _, err := rand.Read(pass); err != nil {
		return nil, err
	}
	phrase := []byte(hex.EncodeToString(pass))
	clear(pass)
	defer clear(phrase)
	kr, err := shares.OpenFileKeyring(filepath.Join(dir, "keyring.json"), phrase)
	if err != nil {
		return nil, fmt.Errorf("keyring of %s: %w", name, err)
	}
	h, err := home.Init(dir, kr, name)
	if err != nil {
		kr.Close()
		return nil, fmt.Errorf("home of %s: %w", name, err)
	}
	return &demoParty{name: name, home: h, keyring: kr}, nil
}

// namesOf are the parties' names, in order.
func namesOf(parties []*demoParty) []string {
	out := make([]string, len(parties))
	for i, p := range parties {
		out[i] = p.name
	}
	return out
}

// fingerprints are the parties' fingerprints, in order.
func fingerprints(parties []*demoParty) []string {
	out := make([]string, len(parties))
	for i, p := range parties {
		out[i] = p.fingerprint()
	}
	return out
}

// partyIDs are names as the progress reporter lists parties.
func partyIDs(names []string) []party.ID {
	out := make([]party.ID, len(names))
	for i, n := range names {
		out[i] = party.ID(n)
	}
	return out
}
