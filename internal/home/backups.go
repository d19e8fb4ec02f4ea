package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/paratro/paratro/internal/atomicfile"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares"
)

// backupsFile records, per wallet, this home's last backup export and
// last backup test. It holds no secret.
const backupsFile = "backups.json"

// BackupRecord is what this home knows of a wallet's share backups.
type BackupRecord struct {
	LastExportAt    *time.Time `json:"last_export_at,omitempty"`
	LastExportEpoch uint64     `json:"last_export_epoch,omitempty"`
	LastTestAt      *time.Time `json:"last_test_at,omitempty"`
	LastTestEpoch   uint64     `json:"last_test_epoch,omitempty"`
	LastTestResult  string     `json:"last_test_result,omitempty"` // ok, stale
}

// BackupRecords returns the records by wallet ID (empty when none).
func (h *Home) BackupRecords() (map[string]BackupRecord, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.readBackups()
}

func (h *Home) readBackups() (map[string]BackupRecord, error) {
	path := filepath.Join(h.Dir, backupsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]BackupRecord{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]BackupRecord{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// NoteBackupExport records that a backup of epoch of walletID was written at.
func (h *Home) NoteBackupExport(walletID string, epoch uint64, at time.Time) error {
	return h.updateBackup(walletID, func(r *BackupRecord) {
		at := at.UTC()
		r.LastExportAt, r.LastExportEpoch = &at, epoch
	})
}

// NoteBackupTest records that a backup of epoch of walletID was tested at,
// with result ("ok" or "stale").
func (h *Home) NoteBackupTest(walletID string, epoch uint64, result string, at time.Time) error {
	return h.updateBackup(walletID, func(r *BackupRecord) {
		at := at.UTC()
		r.LastTestAt, r.LastTestEpoch, r.LastTestResult = &at, epoch, result
	})
}

func (h *Home) updateBackup(walletID string, fn func(*BackupRecord)) error {
	if !walletIDRE.MatchString(walletID) {
		return fmt.Errorf("invalid wallet ID %q", walletID)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	all, err := h.readBackups()
	if err != nil {
		return err
	}
	r := all[walletID]
	fn(&r)
	all[walletID] = r
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(h.Dir, backupsFile), append(b, '\n'))
}

// ErrHoldsShares means the home's identity cannot be replaced: shares are
// bound to it.
var ErrHoldsShares = errors.New("this home holds shares")

// ReplaceIdentity makes id the identity of the home in dir, in place of
// the one it has, and opens it. It refuses while the home holds any share
// (its party ID is the old identity's fingerprint). The old identity's
// private key is removed from kr; its public file is kept as
// identity.<fingerprint>.replaced.json.
func ReplaceIdentity(dir string, kr shares.Keyring, id *identity.Identity) (*Home, error) {
	old, err := Open(dir, kr)
	if err != nil {
		return nil, err
	}
	entries, err := old.Store.List()
	if err != nil {
		return nil, err
	}
	if len(entries) > 0 {
		return nil, fmt.Errorf("%w (%d) bound to its identity %s", ErrHoldsShares, len(entries), old.ID.Label())
	}
	path := filepath.Join(dir, identity.FileName)
	kept := filepath.Join(dir, "identity."+old.ID.Fingerprint()+".replaced.json")
	if err := os.Rename(path, kept); err != nil {
		return nil, err
	}
	if err := identity.Save(dir, kr, id); err != nil {
		if rerr := os.Rename(kept, path); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		return nil, err
	}
	h, err := open(dir, kr, id)
	if err != nil {
		return nil, err
	}
	entry := "identity/" + old.ID.Fingerprint()
	if err := kr.Delete(entry); err != nil && !errors.Is(err, shares.ErrNotFound) {
		return h, &OldKeyKeptError{Entry: entry, Keyring: kr.Describe(), Err: err}
	}
	return h, nil
}

// OldKeyKeptError is ReplaceIdentity's report that the identity was
// replaced but the old private key is still in the keyring: the home is
// usable; the entry should be removed by hand.
type OldKeyKeptError struct {
	Entry, Keyring string
	Err            error
}

func (e *OldKeyKeptError) Error() string {
	return fmt.Sprintf("the identity was replaced, but the old private key is still in %s (entry %s): %v; remove it by hand", e.Keyring, e.Entry, e.Err)
}

func (e *OldKeyKeptError) Unwrap() error { return e.Err }

// InitWith creates a home in dir with the existing identity id (a
// restored one), like Init with a new one.
func InitWith(dir string, kr shares.Keyring, id *identity.Identity) (*Home, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	if err := identity.Save(dir, kr, id); err != nil {
		return nil, err
	}
	return open(dir, kr, id)
}
