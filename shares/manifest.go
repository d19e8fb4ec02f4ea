package shares

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// manifest is a slot's state file: which epoch is active and which is
// pending (0 for none). Committing or discarding rewrites it atomically;
// share files whose epoch it does not name are leftovers of a crash.
type manifest struct {
	active, pending uint64
}

const manifestLen = 16

func (s *Store) readManifest(aead cipher.AEAD, sl slot) (manifest, error) {
	path := sl.statePath()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return manifest{}, nil
	}
	if err != nil {
		return manifest{}, fmt.Errorf("read %s: %w", sl.stateSubject(), err)
	}
	pt, err := openSealed(aead, stateRef(sl), path, data)
	if err != nil {
		return manifest{}, err
	}
	m := manifest{}
	if len(pt) == manifestLen {
		m = manifest{active: binary.BigEndian.Uint64(pt), pending: binary.BigEndian.Uint64(pt[8:])}
	}
	if m == (manifest{}) || m.pending != 0 && m.pending <= m.active {
		return manifest{}, errorf(ErrCorrupt, "%s cannot be opened: its contents are malformed", sl.stateSubject())
	}
	return m, nil
}

// writeManifest replaces the slot's manifest, or removes it when m names no
// epoch at all.
func (s *Store) writeManifest(aead cipher.AEAD, sl slot, m manifest) error {
	path := sl.statePath()
	if m == (manifest{}) {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := syncDir(sl.dir); err != nil {
			return err
		}
		return hook(s.crash, "after-remove "+stateName)
	}
	pt := binary.BigEndian.AppendUint64(nil, m.active)
	pt = binary.BigEndian.AppendUint64(pt, m.pending)
	return writeFileAtomic(path, seal(aead, stateRef(sl), pt), s.hooks)
}

// removeLeftovers wipes the share files m does not name and any temp files
// of an interrupted write.
func (s *Store) removeLeftovers(sl slot, m manifest) error {
	_, err := s.wipeWhere(sl.dir, func(e fs.DirEntry) bool {
		name := e.Name()
		epoch, isShare := shareEpoch(name)
		return strings.HasPrefix(name, tempPrefix) || isShare && epoch != m.active && epoch != m.pending
	})
	return err
}

// wipeWhere overwrites and removes the files of dir that drop selects. It
// reports whether dir exists.
func (s *Store) wipeWhere(dir string, drop func(fs.DirEntry) bool) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if !drop(e) {
			continue
		}
		if err := wipeFile(filepath.Join(dir, e.Name()), s.crash); err != nil {
			return true, err
		}
	}
	return true, nil
}

// ensureSlotDirs creates shares/, shares/<wallet>/ and the slot directory.
func (s *Store) ensureSlotDirs(sl slot) error {
	for _, dir := range []string{filepath.Join(s.dir, sharesDirName), filepath.Dir(sl.dir), sl.dir} {
		if err := ensureDir(dir); err != nil {
			return err
		}
	}
	return nil
}

// removeEmptySlot removes the slot directory and its wallet directory if
// they are empty. Failures are ignored: a directory that is not empty, or
// cannot be removed, stays and is harmless.
func (s *Store) removeEmptySlot(sl slot) {
	if os.Remove(sl.dir) == nil {
		os.Remove(filepath.Dir(sl.dir))
		syncDir(filepath.Join(s.dir, sharesDirName))
	}
}
