package control

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/relay"
)

// listWallets is GET /v1/wallets[?status=&chain=]: every wallet, made
// through the API or from the CLI, oldest first.
func (p *Plane) listWallets(w http.ResponseWriter, r *http.Request, _ *relay.Principal) error {
	status, chain := r.URL.Query().Get("status"), r.URL.Query().Get("chain")
	var ws []Wallet
	err := p.st.View(func(tx *bolt.Tx) error {
		var err error
		ws, err = all[Wallet](tx, bucketWallets)
		return err
	})
	if err != nil {
		return err
	}
	ws = slices.DeleteFunc(ws, func(x Wallet) bool {
		return (status != "" && x.Status != status) || (chain != "" && x.Chain != chain)
	})
	slices.SortStableFunc(ws, func(a, b Wallet) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	relay.WriteJSON(w, http.StatusOK, map[string]any{"wallets": ws})
	return nil
}

// getWallet is GET /v1/wallets/{id}: by id or exact name.
func (p *Plane) getWallet(w http.ResponseWriter, r *http.Request, _ *relay.Principal) error {
	wal, err := p.wallet(r.PathValue("id"))
	if err != nil {
		return err
	}
	relay.WriteJSON(w, http.StatusOK, wal)
	return nil
}

// wallet finds a wallet by id or exact name, as an API error when absent.
func (p *Plane) wallet(idOrName string) (*Wallet, error) {
	var wal Wallet
	err := p.st.View(func(tx *bolt.Tx) error {
		var err error
		wal, err = findWallet(tx, idOrName)
		return err
	})
	if err != nil {
		return nil, walletError(idOrName, err)
	}
	return &wal, nil
}

// updateWallet changes wallet id with f in one transaction and returns
// the result. f's error aborts the change; a missing wallet is errNotFound.
func (p *Plane) updateWallet(id string, f func(*Wallet) error) (*Wallet, error) {
	var wal Wallet
	err := p.st.Update(func(tx *bolt.Tx) error {
		if err := get(tx, bucketWallets, id, &wal); err != nil {
			return err
		}
		if err := f(&wal); err != nil {
			return err
		}
		wal.UpdatedAt = p.now()
		return put(tx, bucketWallets, id, &wal)
	})
	if err != nil {
		return nil, err
	}
	return &wal, nil
}

// errUnchanged aborts an update that has nothing to change.
var errUnchanged = errors.New("unchanged")

// settle is updateWallet for the plane's own bookkeeping: it reports
// whether f changed the wallet, and logs failures (there is no caller to
// tell).
func (p *Plane) settle(id string, f func(*Wallet) error) (*Wallet, bool) {
	wal, err := p.updateWallet(id, f)
	switch {
	case err == nil:
		return wal, true
	case errors.Is(err, errUnchanged), errors.Is(err, errNotFound):
	default:
		p.log.Error("update wallet", "wallet", id, "err", err)
	}
	return nil, false
}

// usable refuses ceremonies on a wallet that cannot take part in them
// now: destroyed (409 wallet_destroyed), still creating or failed
// (409 not_ready), or rotating its keys (409 busy).
func usable(w *Wallet, what string) error {
	switch w.Status {
	case StatusActive:
		return nil
	case StatusDestroyed:
		return destroyedError(w)
	case StatusRotating:
		id := ""
		if w.Rotation != nil {
			id = " (" + w.Rotation.ID + ")"
		}
		return relay.Errorf(http.StatusConflict, "busy", "wallet %s is rotating its keys%s: %s once its status is active again", w.ID, id, what)
	case StatusCreating:
		return relay.Errorf(http.StatusConflict, "not_ready", "wallet %s is still being created: %s once its status is active", w.ID, what)
	}
	return relay.Errorf(http.StatusConflict, "not_ready", "wallet %s is %s and holds no key: create a new wallet", w.ID, w.Status)
}

func destroyedError(w *Wallet) error {
	return relay.Errorf(http.StatusConflict, "wallet_destroyed", "wallet %s was destroyed by its owners and takes part in no more ceremonies", w.ID)
}
