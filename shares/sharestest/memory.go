// Package sharestest provides test doubles for package shares.
package sharestest

import (
	"fmt"
	"sync"

	"github.com/paratro/paratro/shares"
)

// MemoryKeyring is a shares.Keyring kept in memory. It copies secrets in and
// out, is safe for concurrent use, and shares nothing with other instances,
// so parallel tests can each have their own. Use it instead of go-keyring's
// process-wide MockInit.
type MemoryKeyring struct {
	mu      sync.Mutex
	secrets map[string][]byte
}

var _ shares.Keyring = (*MemoryKeyring)(nil)

// NewMemoryKeyring returns an empty MemoryKeyring.
func NewMemoryKeyring() *MemoryKeyring {
	return &MemoryKeyring{secrets: map[string][]byte{}}
}

// Get returns a copy of the secret stored under name, or an error matching
// shares.ErrNotFound.
func (k *MemoryKeyring) Get(name string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	secret, ok := k.secrets[name]
	if !ok {
		return nil, fmt.Errorf("read %s from memory keyring: %w", name, shares.ErrNotFound)
	}
	return append([]byte(nil), secret...), nil
}

// Set stores a copy of secret under name.
func (k *MemoryKeyring) Set(name string, secret []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.secrets[name] = append([]byte(nil), secret...)
	return nil
}

// Delete removes name, or returns an error matching shares.ErrNotFound.
func (k *MemoryKeyring) Delete(name string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.secrets[name]; !ok {
		return fmt.Errorf("delete %s from memory keyring: %w", name, shares.ErrNotFound)
	}
	clear(k.secrets[name])
	delete(k.secrets, name)
	return nil
}

// Describe returns "memory keyring".
func (k *MemoryKeyring) Describe() string { return "memory keyring" }

// Names returns the names of the stored secrets, in no particular order.
func (k *MemoryKeyring) Names() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	names := make([]string, 0, len(k.secrets))
	for name := range k.secrets {
		names = append(names, name)
	}
	return names
}
