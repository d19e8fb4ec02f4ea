package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/paratro/paratro/internal/atomicfile"
	"github.com/paratro/paratro/internal/identity"
)

// Wallet is the public record of a wallet: what any of its holders, and the
// operator who created it, know about it. It holds no secret.
type Wallet struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Chain        string            `json:"chain"`
	Scheme       string            `json:"scheme"`
	Required     int               `json:"required"`
	Parties      []identity.Public `json:"parties"`
	Epoch        uint64            `json:"epoch"`
	PublicKey    string            `json:"public_key"`
	ConfigDigest string            `json:"config_digest"`
	Address      string            `json:"address,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

var walletIDRE = regexp.MustCompile(`^wal_[a-z2-7]{16}$`)

// ErrNoWallet means no record of the wallet is kept in this home.
var ErrNoWallet = errors.New("unknown wallet")

// SaveWallet writes (or replaces) w's record.
func (h *Home) SaveWallet(w *Wallet) error {
	if !walletIDRE.MatchString(w.ID) {
		return fmt.Errorf("invalid wallet ID %q", w.ID)
	}
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return atomicfile.Write(filepath.Join(h.Dir, "wallets", w.ID+".json"), append(b, '\n'))
}

// Wallet reads a wallet's record by ID, or by name when exactly one wallet
// has that name.
func (h *Home) Wallet(idOrName string) (*Wallet, error) {
	if walletIDRE.MatchString(idOrName) {
		b, err := os.ReadFile(filepath.Join(h.Dir, "wallets", idOrName+".json"))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w %s: this home keeps no record of it", ErrNoWallet, idOrName)
		}
		if err != nil {
			return nil, err
		}
		var w Wallet
		if err := json.Unmarshal(b, &w); err != nil {
			return nil, fmt.Errorf("wallet record %s: %w", idOrName, err)
		}
		return &w, nil
	}
	all, err := h.Wallets()
	if err != nil {
		return nil, err
	}
	var found []*Wallet
	for _, w := range all {
		if w.Name == idOrName {
			found = append(found, w)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w %q: no wallet with that ID or name in this home", ErrNoWallet, idOrName)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%d wallets are named %q: give the wallet ID", len(found), idOrName)
}

// Wallets lists every wallet record, oldest first.
func (h *Home) Wallets() ([]*Wallet, error) {
	entries, err := os.ReadDir(filepath.Join(h.Dir, "wallets"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Wallet
	for _, e := range entries {
		id, ok := cutSuffix(e.Name(), ".json")
		if !ok || !walletIDRE.MatchString(id) {
			continue
		}
		w, err := h.Wallet(id)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) < len(suffix) || s[len(s)-len(suffix):] != suffix {
		return s, false
	}
	return s[:len(s)-len(suffix)], true
}

// RemoveWallet deletes w's record, if this home keeps one (after the
// wallet was destroyed). A record that is not there is not an error.
func (h *Home) RemoveWallet(id string) error {
	if !walletIDRE.MatchString(id) {
		return fmt.Errorf("invalid wallet ID %q", id)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	dir := filepath.Join(h.Dir, "wallets")
	if err := os.Remove(filepath.Join(dir, id+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
