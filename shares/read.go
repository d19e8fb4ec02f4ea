package shares

import (
	"cmp"
	"crypto/cipher"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Active returns the active share of walletID held by partyID, or an error
// matching ErrNotFound. The caller must Wipe it when done.
func (s *Store) Active(walletID, partyID string) (*Share, error) {
	return s.get(walletID, partyID, StateActive)
}

// Pending returns the pending share of walletID held by partyID, or an
// error matching ErrNotFound. The caller must Wipe it when done.
func (s *Store) Pending(walletID, partyID string) (*Share, error) {
	return s.get(walletID, partyID, StatePending)
}

func (s *Store) get(walletID, partyID string, state State) (*Share, error) {
	sl, err := newSlot(s.dir, walletID, partyID)
	if err != nil {
		return nil, fmt.Errorf("read %s share: %w", state, err)
	}
	var sh *Share
	err = s.view(func(aead cipher.AEAD) error {
		m, err := s.readManifest(aead, sl)
		if err != nil {
			return err
		}
		epoch := m.active
		if state == StatePending {
			epoch = m.pending
		}
		if epoch == 0 {
			return errorf(ErrNotFound, "no %s share for %s (party %s)", state, walletID, partyID)
		}
		sh, err = s.readShare(aead, sl, epoch)
		return err
	})
	return sh, err
}

// List describes every stored share, active and pending, of every wallet
// and party, sorted by wallet, party and epoch. It opens each share to read
// its metadata, and fails if any of them cannot be opened.
func (s *Store) List() ([]Entry, error) {
	var list []Entry
	err := s.view(func(aead cipher.AEAD) error {
		slots, err := s.slots()
		if err != nil {
			return err
		}
		for _, sl := range slots {
			entries, err := s.slotEntries(aead, sl)
			if err != nil {
				return err
			}
			list = append(list, entries...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list shares: %w", err)
	}
	slices.SortFunc(list, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.WalletID, b.WalletID), cmp.Compare(a.PartyID, b.PartyID), cmp.Compare(a.Epoch, b.Epoch))
	})
	return list, nil
}

func (s *Store) slotEntries(aead cipher.AEAD, sl slot) ([]Entry, error) {
	m, err := s.readManifest(aead, sl)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	for _, e := range []struct {
		epoch uint64
		state State
	}{{m.active, StateActive}, {m.pending, StatePending}} {
		if e.epoch == 0 {
			continue
		}
		sh, err := s.readShare(aead, sl, e.epoch)
		if err != nil {
			return nil, err
		}
		sh.Wipe()
		entries = append(entries, Entry{Meta: sh.Meta, State: e.state})
	}
	return entries, nil
}

// slots finds every slot directory under shares/, skipping names the store
// would never have written.
func (s *Store) slots() ([]slot, error) {
	root := filepath.Join(s.dir, sharesDirName)
	wallets, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var slots []slot
	for _, w := range wallets {
		if !w.IsDir() {
			continue
		}
		parties, err := os.ReadDir(filepath.Join(root, w.Name()))
		if err != nil {
			return nil, err
		}
		for _, p := range parties {
			if sl, ok := slotFromDirNames(s.dir, w.Name(), p.Name()); ok && p.IsDir() {
				slots = append(slots, sl)
			}
		}
	}
	return slots, nil
}

// readShare opens one epoch's share file and checks that its contents are
// the share it was asked for. The file is only read.
func (s *Store) readShare(aead cipher.AEAD, sl slot, epoch uint64) (*Share, error) {
	path := sl.sharePath(epoch)
	subject := sl.shareSubject(epoch)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errorf(ErrCorrupt, "%s cannot be opened: %s is missing", subject, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", subject, err)
	}
	return parseShareFile(aead, sl, epoch, path, data)
}

// parseShareFile opens the bytes of a share file and checks that they hold
// the share of sl at epoch. path only names the file in messages.
func parseShareFile(aead cipher.AEAD, sl slot, epoch uint64, path string, data []byte) (*Share, error) {
	subject := sl.shareSubject(epoch)
	pt, err := openSealed(aead, shareRef(sl, epoch), path, data)
	if err != nil {
		return nil, err
	}
	sh, err := decodeShare(pt)
	clear(pt)
	if err != nil {
		return nil, errorf(ErrCorrupt, "%s cannot be opened: its contents are malformed", subject)
	}
	if sh.WalletID != sl.wallet || sh.PartyID != sl.party || sh.Epoch != epoch {
		sh.Wipe()
		return nil, errorf(ErrCorrupt, "%s cannot be opened: its contents belong to another wallet, party or epoch", subject)
	}
	return sh, nil
}
