// Package home is one operator's paratro home directory: the public half of
// the identity (identity.json), the identities this operator trusts
// (trusted.json, checked by fingerprint out of band), the sealed share store
// (shares/), public wallet records (wallets/) and the party's journal of
// ceremonies in flight (journal/). Private keys live in the keyring.
package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/paratro/paratro/internal/atomicfile"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares"
)

// Home is an opened paratro home.
type Home struct {
	Dir     string
	Keyring shares.Keyring
	ID      *identity.Identity
	Store   *shares.Store

	mu sync.Mutex
}

// Init creates the identity name in dir. It refuses a home that has one
// (identity.Save checks), and an existing dir that is not private
// (checkDir).
func Init(dir string, kr shares.Keyring, name string) (*Home, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	id, err := identity.New(name)
	if err != nil {
		return nil, err
	}
	if err := identity.Save(dir, kr, id); err != nil {
		return nil, err
	}
	return open(dir, kr, id)
}

// ErrNoIdentity means the home was never initialised.
var ErrNoIdentity = identity.ErrNoIdentity

// Open opens an initialised home: the identity (its private half from kr)
// and the share store. It refuses a home that is not private (checkDir).
func Open(dir string, kr shares.Keyring) (*Home, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	id, err := identity.Load(dir, kr)
	if err != nil {
		return nil, err
	}
	return open(dir, kr, id)
}

// checkDir refuses a home that other users can write to or that another
// user owns (shares.ErrInsecureDir): whoever can write there can replace
// identity.json, trusted.json and the wallet records, and so choose whom
// this operator trusts. A home that does not exist yet passes.
func checkDir(dir string) error {
	err := shares.CheckPrivateDir(dir)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("paratro home: %w", err)
}

func open(dir string, kr shares.Keyring, id *identity.Identity) (*Home, error) {
	st, err := shares.Open(filepath.Join(dir, "shares"), kr)
	if err != nil {
		return nil, err
	}
	return &Home{Dir: dir, Keyring: kr, ID: id, Store: st}, nil
}

// Trusted returns the identities this operator trusts, itself first.
func (h *Home) Trusted() ([]identity.Public, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	list, err := h.readTrusted()
	if err != nil {
		return nil, err
	}
	return append([]identity.Public{h.ID.Public}, list...), nil
}

func (h *Home) readTrusted() ([]identity.Public, error) {
	b, err := os.ReadFile(filepath.Join(h.Dir, "trusted.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []identity.Public
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(h.Dir, "trusted.json"), err)
	}
	return list, nil
}

// ErrConflict means an identity with the same name but other keys is
// already trusted.
var ErrConflict = errors.New("conflicting identity")

// Trust adds p to the trusted identities. Adding the same identity again
// is a no-op (added is false); another identity under a trusted name, or
// this operator's own name, is refused.
func (h *Home) Trust(p identity.Public) (added bool, err error) {
	if err := p.Validate(); err != nil {
		return false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if p.Name == h.ID.Name || p.Fingerprint() == h.ID.Fingerprint() {
		if p.Equal(h.ID.Public) {
			return false, nil
		}
		return false, fmt.Errorf("%w: %s is this home's own name or key", ErrConflict, p.Label())
	}
	list, err := h.readTrusted()
	if err != nil {
		return false, err
	}
	for _, q := range list {
		switch {
		case q.Equal(p):
			return false, nil
		case q.Name == p.Name || q.Fingerprint() == p.Fingerprint():
			return false, fmt.Errorf("%w: %s is already trusted as %s", ErrConflict, p.Label(), q.Label())
		}
	}
	list = append(list, p)
	slices.SortFunc(list, func(a, b identity.Public) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return false, err
	}
	return true, atomicfile.Write(filepath.Join(h.Dir, "trusted.json"), append(b, '\n'))
}

// Resolve finds a trusted identity by name, fingerprint or party ID.
func (h *Home) Resolve(nameOrFP string) (identity.Public, error) {
	list, err := h.Trusted()
	if err != nil {
		return identity.Public{}, err
	}
	if p, ok := identity.Find(list, nameOrFP); ok {
		return p, nil
	}
	for _, p := range list {
		if p.Name == nameOrFP {
			return p, nil
		}
	}
	return identity.Public{}, fmt.Errorf("%q is not a trusted identity in %s", nameOrFP, h.Dir)
}
