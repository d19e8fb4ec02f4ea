// Package control is the relay's wallet API, the control plane of the
// seeds' curl examples: callers with an API key (or a signed request) and a
// role create wallets, list them, rotate their keys, ask for signatures,
// destroy them and ask for share backups, with TOTP where the access table
// of DESIGN.md wants it.
//
// The relay holds no share. Every ceremony the API asks for is a coord
// ceremony initiated by the relay's own identity, which the key holders'
// parties must trust: they approve or reject it like any other request,
// and the control plane records the outcome. Ceremonies that operators
// start from the CLI go through the relay's hooks, so the wallet list
// shows wallets made either way, and destroyed wallets refuse both.
//
// Its state lives in the relay's database, in buckets named control_*.
// Nothing secret is kept or logged: public keys, addresses, signatures and
// names only; TOTP codes and API keys are checked by the relay and never
// reach this package's records, logs or errors.
package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// Defaults of Options.
const (
	DefaultBackupDelay      = 24 * time.Hour
	DefaultDestroyApprovals = 2
	DefaultCeremonyTimeout  = 10 * time.Minute
	DefaultSweepInterval    = 30 * time.Second
)

// Fixed limits.
const (
	// MaxParties is the most parties a wallet made through the API may have:
	// a DKG's messages grow with the square of the parties, and CMP keygen
	// makes a Paillier key per party.
	MaxParties = 16
	// ActionTTL is how long an action waits for its TOTP code.
	ActionTTL = 10 * time.Minute
	// DestroyApprovalTTL is how long an owner's approval to destroy a
	// wallet counts.
	DestroyApprovalTTL = 24 * time.Hour
	// staleGrace is how long after its deadline a ceremony nobody is
	// running any more is marked failed.
	staleGrace = time.Minute
)

// Options configure a control plane. Zero values take their defaults.
type Options struct {
	// Context ends the plane's goroutines (ceremonies it runs, the sweeper);
	// nil: they run until Close.
	Context context.Context
	// BackupDelay is how long a backup export waits, for other owners to
	// cancel it, before it is released.
	BackupDelay time.Duration
	// DestroyApprovals is how many distinct owners must approve destroying
	// a wallet.
	DestroyApprovals int
	// CeremonyTimeout is how long the parties have to approve and run a
	// ceremony the API asks for.
	CeremonyTimeout time.Duration
	// SweepInterval is how often backup exports due are released and
	// abandoned ceremonies marked failed.
	SweepInterval time.Duration
	Logger        *slog.Logger     // nil: discard
	Now           func() time.Time // nil: the relay's clock
}

func (o Options) withDefaults(srv *relay.Server) Options {
	if o.Context == nil {
		o.Context = context.Background()
	}
	if o.BackupDelay <= 0 {
		o.BackupDelay = DefaultBackupDelay
	}
	if o.DestroyApprovals <= 0 {
		o.DestroyApprovals = DefaultDestroyApprovals
	}
	if o.CeremonyTimeout <= 0 {
		o.CeremonyTimeout = DefaultCeremonyTimeout
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = srv.Now
	}
	return o
}

// Plane is the control plane of one relay.
type Plane struct {
	srv   *relay.Server
	st    *relay.Store
	opts  Options
	log   *slog.Logger
	self  *identity.Identity
	local *relay.Client // the relay itself, in process: starts the API's ceremonies

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[string]bool // ceremony ids this process is running
}

// Attach mounts the wallet API on srv, keeping its state in st (the
// server's store), and installs its hooks. Call it before srv serves, e.g.
// from relay.Config.Setup. The plane's goroutines stop when opts.Context
// ends or at Close.
func Attach(srv *relay.Server, st *relay.Store, opts Options) (*Plane, error) {
	if srv.Self() == nil {
		return nil, errors.New("control: the relay has no identity of its own to start ceremonies with (relay.Config.Self; relay serve loads one from its data directory)")
	}
	local, err := srv.LocalClient(srv.Self())
	if err != nil {
		return nil, err
	}
	if err := st.Update(createBuckets); err != nil {
		return nil, fmt.Errorf("control: create buckets: %w", err)
	}
	opts = opts.withDefaults(srv)
	ctx, cancel := context.WithCancel(opts.Context)
	p := &Plane{srv: srv, st: st, opts: opts, log: opts.Logger, self: srv.Self(), local: local,
		ctx: ctx, cancel: cancel, running: map[string]bool{}}
	p.routes()
	srv.SetHooks(p)
	p.wg.Add(1)
	go p.sweep()
	return p, nil
}

// Close stops the plane's goroutines and waits for them. Ceremonies still
// running are left to the parties; their records are settled from the
// parties' outcomes, or marked failed after their deadline.
func (p *Plane) Close() {
	p.cancel()
	p.wg.Wait()
}

// routes mounts the API; the role is the least one each call needs.
func (p *Plane) routes() {
	h := p.srv.Handle
	h("POST /v1/wallets", relay.RoleAdmin, p.createWallet)
	h("GET /v1/wallets", relay.RoleViewer, p.listWallets)
	h("GET /v1/wallets/{id}", relay.RoleViewer, p.getWallet)
	h("POST /v1/wallets/{id}/rotate-keys", relay.RoleAdmin, p.rotateKeys)
	h("POST /v1/wallets/{id}/sign", relay.RoleOperator, p.sign)
	h("GET /v1/wallets/{id}/signatures", relay.RoleViewer, p.listSignatures)
	h("GET /v1/wallets/{id}/signatures/{sig}", relay.RoleViewer, p.getSignature)
	h("POST /v1/wallets/{id}/destroy", relay.RoleOwner, p.destroy)
	h("POST /v1/wallets/{id}/backup-exports", relay.RoleOwner, p.requestBackup)
	h("GET /v1/backup-exports", relay.RoleOwner, p.listBackups)
	h("GET /v1/backup-exports/{id}", relay.RoleOwner, p.getBackup)
	h("DELETE /v1/backup-exports/{id}", relay.RoleOwner, p.cancelBackup)
	h("POST /v1/backup-exports/{id}/complete", relay.RoleOwner, p.completeBackup)
	h("GET /v1/actions/{id}", relay.RoleViewer, p.getAction)
	h("POST /v1/actions/{id}/confirm", relay.RoleViewer, p.confirmAction)
	h("GET /v1/notifications", relay.RoleViewer, p.notifications)
}

// now is the plane's clock, in UTC.
func (p *Plane) now() time.Time { return p.opts.Now().UTC() }

// audit appends e to the relay's audit log.
func (p *Plane) audit(e audit.Entry) { p.srv.Audit(e) }

// sweep releases backup exports that are due and settles abandoned
// ceremonies, every SweepInterval until the plane stops.
func (p *Plane) sweep() {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.SweepInterval)
	defer t.Stop()
	for {
		p.releaseDue()
		p.settleStale()
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// notFound is the error of a wallet that is not there.
func notFound(what string) error {
	return relay.Errorf(http.StatusNotFound, "not_found", "no wallet %q on this relay: GET /v1/wallets lists them", what)
}

// walletError turns a lookup error into its API error.
func walletError(id string, err error) error {
	var amb *ambiguousError
	switch {
	case errors.Is(err, errNotFound):
		return notFound(id)
	case errors.As(err, &amb):
		return relay.Error(http.StatusConflict, "ambiguous_name", amb.Error())
	}
	return err
}
