package shares

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// PutPending seals sh and stores it as the pending epoch of its wallet and
// party; the active share, if any, stays in use until Commit. The epoch must
// be 1 for a wallet's first share and above the active epoch otherwise. It
// fails with ErrPending while another epoch is pending. The store does not
// keep sh; the caller still owns and wipes it.
func (s *Store) PutPending(sh *Share) error { return s.putPending(sh, false) }

// PutRestored is PutPending for a share restored from a backup into a store
// that holds no share of its wallet: its epoch may be any, not only 1 (the
// wallet was rotated before the backup was made). Commit makes it active.
func (s *Store) PutRestored(sh *Share) error { return s.putPending(sh, true) }

func (s *Store) putPending(sh *Share, restored bool) error {
	if sh == nil {
		return errorf(ErrInvalid, "store pending share: no share given")
	}
	sl, err := newSlot(s.dir, sh.WalletID, sh.PartyID)
	if err == nil {
		err = validateShare(sh)
	}
	if err != nil {
		return fmt.Errorf("store pending share: %w", err)
	}
	return s.update(func(aead cipher.AEAD) error {
		m, err := s.readManifest(aead, sl)
		switch {
		case err != nil:
		case restored && (m.active != 0 || m.pending != 0):
			err = errorf(ErrInvalid, "a share of this wallet is already stored (epoch %d); a backup is restored only where there is none", max(m.active, m.pending))
		case restored && sh.Epoch == 0:
			err = errorf(ErrInvalid, "epoch 0 is not a share epoch")
		case !restored:
			err = checkNewEpoch(m, sh.Epoch)
		}
		if err == nil && restored {
			// Presignatures are never restored, and none made before
			// survives a restore (SECURITY.md B10).
			_, err = s.dropPresigs(sl)
		}
		if err == nil {
			err = s.writePending(aead, sl, m, sh)
		}
		if err != nil {
			return fmt.Errorf("store pending %s: %w", sl.shareSubject(sh.Epoch), err)
		}
		return nil
	})
}

func checkNewEpoch(m manifest, epoch uint64) error {
	switch {
	case m.pending != 0:
		return errorf(ErrPending, "epoch %d is already pending; commit or discard it first", m.pending)
	case m.active == 0 && epoch != 1:
		return errorf(ErrInvalid, "the first share of a wallet must be epoch 1, not %d", epoch)
	case m.active != 0 && epoch <= m.active:
		return errorf(ErrInvalid, "epoch %d is not after the active epoch %d", epoch, m.active)
	}
	return nil
}

func (s *Store) writePending(aead cipher.AEAD, sl slot, m manifest, sh *Share) error {
	if err := s.ensureSlotDirs(sl); err != nil {
		return err
	}
	if err := s.removeLeftovers(sl, m); err != nil {
		return err
	}
	path := sl.sharePath(sh.Epoch)
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s already exists; refusing to overwrite it", path)
	}
	pt := encodeShare(sh)
	data := seal(aead, shareRef(sl, sh.Epoch), pt)
	clear(pt)
	if err := writeFileAtomic(path, data, s.hooks); err != nil {
		return err
	}
	return s.writeManifest(aead, sl, manifest{active: m.active, pending: sh.Epoch})
}

// Commit makes the pending epoch the active one. It first checks that the
// pending share opens, then rewrites the state manifest, then overwrites the
// old active share with zeros and removes it, and drops the old epoch's
// presignatures. If the process dies midway,
// the store holds either the old state or the new one.
func (s *Store) Commit(walletID, partyID string, epoch uint64) error {
	return s.settle("commit", walletID, partyID, epoch, func(aead cipher.AEAD, sl slot, m manifest) error {
		sh, err := s.readShare(aead, sl, epoch)
		if err != nil {
			return err
		}
		sh.Wipe()
		if err := s.switchTo(aead, sl, manifest{active: epoch}); err != nil {
			return err
		}
		// The presignatures of the old epoch are never used after it
		// (SECURITY.md B10); those that a crash leaves here are refused by
		// their epoch, and dropped at the next commit.
		_, err = s.dropPresigs(sl)
		return err
	})
}

// Discard drops the pending epoch and wipes its file; the active share stays
// as it was.
func (s *Store) Discard(walletID, partyID string, epoch uint64) error {
	return s.settle("discard", walletID, partyID, epoch, func(aead cipher.AEAD, sl slot, m manifest) error {
		return s.switchTo(aead, sl, manifest{active: m.active})
	})
}

// settle runs fn for Commit and Discard once it has checked that epoch is
// the pending one.
func (s *Store) settle(verb, walletID, partyID string, epoch uint64, fn func(cipher.AEAD, slot, manifest) error) error {
	sl, err := newSlot(s.dir, walletID, partyID)
	if err != nil {
		return fmt.Errorf("%s share: %w", verb, err)
	}
	return s.update(func(aead cipher.AEAD) error {
		m, err := s.readManifest(aead, sl)
		switch {
		case err != nil:
		case m.pending == 0:
			err = errorf(ErrNotFound, "no epoch is pending")
		case m.pending != epoch:
			err = errorf(ErrPending, "epoch %d is pending, not %d", m.pending, epoch)
		default:
			err = fn(aead, sl, m)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", verb, sl.shareSubject(epoch), err)
		}
		return nil
	})
}

// switchTo writes the new manifest, then wipes every file it no longer names.
func (s *Store) switchTo(aead cipher.AEAD, sl slot, m manifest) error {
	if err := s.writeManifest(aead, sl, m); err != nil {
		return err
	}
	if err := s.removeLeftovers(sl, m); err != nil {
		return err
	}
	if m == (manifest{}) {
		s.removeEmptySlot(sl)
	}
	return nil
}
