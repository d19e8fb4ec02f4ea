package shares

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Destroy cryptographically erases partyID's share of walletID: every file
// of that slot (active and pending epochs, state) is overwritten with zeros
// and removed, and then the store's key-encryption key is replaced. A new
// KEK is generated and stored under a new keyring entry, every remaining
// share and state file is re-sealed under it, and the old entry is
// deleted, so that a copy of the erased files that survived elsewhere (a
// file system journal, old flash blocks, a disk image) no longer opens.
//
// Destroy is crash-safe: it first records its intent in the store, and
// whoever opens the store next finishes an interrupted destruction, so a
// crash leaves the wallet either whole or gone, and every other share
// readable. It does not fail when the store holds no share of walletID
// for partyID: it still replaces the KEK, so it can be repeated.
func (s *Store) Destroy(walletID, partyID string) error {
	sl, err := newSlot(s.dir, walletID, partyID)
	if err != nil {
		return fmt.Errorf("destroy share: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockStore(s.dir, true)
	if err != nil {
		return fmt.Errorf("destroy share of %s (party %s): %w", walletID, partyID, err)
	}
	defer unlock()
	if err := s.destroyLocked(sl); err != nil {
		return fmt.Errorf("destroy share of %s (party %s): %w", walletID, partyID, err)
	}
	return nil
}

func (s *Store) destroyLocked(sl slot) error {
	st, err := s.readKEKState()
	if err == nil && st.unfinished() {
		st, err = s.finishRotation(st) // an earlier one, interrupted
	}
	if err != nil {
		return err
	}
	// Check the current KEK before promising a rotation away from it.
	if err := s.withKEK(st.gen, func(cipher.AEAD) error { return nil }); err != nil {
		return err
	}
	next := kekState{gen: st.gen, next: st.gen + 1, dropWallet: sl.wallet, dropParty: filepath.Base(sl.dir)}
	if err := s.writeKEKState(next); err != nil {
		return err
	}
	_, err = s.finishRotation(next)
	return err
}

// finishRotation carries a rotation recorded in st through to its end,
// from wherever it stopped: erase the slot it drops, make sure the new KEK
// is in the keyring, re-seal every file under it, record the new
// generation, delete the old KEK, record that it is gone. Every step can be
// repeated, so a crash at any point is finished by the next call. It needs
// the store's exclusive lock.
func (s *Store) finishRotation(st kekState) (kekState, error) {
	if st.next != 0 {
		if st.dropWallet != "" {
			drop, _ := slotFromDirNames(s.dir, st.dropWallet, st.dropParty)
			if err := s.eraseSlot(drop); err != nil {
				return st, err
			}
		}
		if err := s.resealAll(st.gen, st.next); err != nil {
			return st, err
		}
		st = kekState{gen: st.next, old: st.gen}
		if err := s.writeKEKState(st); err != nil {
			return st, err
		}
	}
	s.gen.Store(st.gen)
	if st.old == 0 {
		return st, nil
	}
	if err := s.kr.Delete(s.kekNameOf(st.old)); err != nil && !errors.Is(err, ErrNotFound) {
		return st, fmt.Errorf("delete the old key-encryption key: %w", err)
	}
	if err := hook(s.crash, "after-delete-kek"); err != nil {
		return st, err
	}
	st = kekState{gen: st.gen}
	return st, s.writeKEKState(st)
}

// eraseSlot removes the slot's state first (from then on the store holds
// no share there), then overwrites and removes every other file in it,
// and the slot's directories once empty.
func (s *Store) eraseSlot(sl slot) error {
	if err := wipeFile(sl.statePath(), s.crash); err != nil {
		return err
	}
	found, err := s.wipeWhere(sl.dir, func(e fs.DirEntry) bool { return e.Type().IsRegular() })
	if err != nil || !found {
		return err
	}
	if err := os.Remove(sl.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", sl.dir, err)
	}
	os.Remove(filepath.Dir(sl.dir)) // the wallet's directory, if no other party of it is here
	return syncDir(filepath.Join(s.dir, sharesDirName))
}

// resealAll makes sure the keyring holds generation next's KEK (creating
// it if a crash came before it was stored) and re-seals under it every
// state and share file that still opens under generation old's. Files
// already under the new KEK are left alone; so are files that open under
// neither, which were unreadable before.
func (s *Store) resealAll(old, next uint64) error {
	newAEAD, err := s.keyOrCreate(next)
	if err != nil {
		return err
	}
	oldAEAD, err := s.aeadOf(old)
	if err != nil {
		return err
	}
	slots, err := s.slots()
	if err != nil {
		return err
	}
	for _, sl := range slots {
		if err := s.resealSlot(sl, oldAEAD, newAEAD); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) resealSlot(sl slot, oldAEAD, newAEAD cipher.AEAD) error {
	entries, err := os.ReadDir(sl.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name, path := e.Name(), filepath.Join(sl.dir, e.Name())
		var ref sealRef
		if epoch, ok := shareEpoch(name); ok {
			ref = shareRef(sl, epoch)
		} else if name == stateName {
			ref = stateRef(sl)
		} else if strings.HasPrefix(name, tempPrefix) || strings.HasPrefix(name, presigPrefix) && !strings.HasSuffix(name, usedSuffix) {
			// A write a crash interrupted; or a presignature, which is
			// dropped rather than re-sealed: the pool refills.
			if err := wipeFile(path, s.crash); err != nil {
				return err
			}
			continue
		} else {
			continue
		}
		if err := s.resealFile(path, ref, oldAEAD, newAEAD); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) resealFile(path string, ref sealRef, oldAEAD, newAEAD cipher.AEAD) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", ref.subject(), err)
	}
	if pt, err := openSealed(newAEAD, ref, path, data); err == nil {
		clear(pt)
		return nil
	}
	pt, err := openSealed(oldAEAD, ref, path, data)
	if err != nil {
		return nil
	}
	sealed := seal(newAEAD, ref, pt)
	clear(pt)
	return writeFileAtomic(path, sealed, s.hooks)
}

// keyOrCreate returns the AEAD of generation gen's KEK, generating and
// storing the key first if the keyring does not hold it.
func (s *Store) keyOrCreate(gen uint64) (cipher.AEAD, error) {
	aead, err := s.aeadOf(gen)
	if !errors.Is(err, ErrKEKMissing) {
		return aead, err
	}
	kek := make([]byte, kekLen)
	defer clear(kek)
	rand.Read(kek) // never returns an error (crypto/rand)
	if err := s.kr.Set(s.kekNameOf(gen), kek); err != nil {
		return nil, fmt.Errorf("store the new key-encryption key: %w", err)
	}
	if err := hook(s.crash, "after-set-kek"); err != nil {
		return nil, err
	}
	return newAEAD(kek)
}
