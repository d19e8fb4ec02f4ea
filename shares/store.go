package shares

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	sharesDirName = "shares"
	storeIDName   = "store-id"
	lockName      = "lock"
	storeIDLen    = 16
	kekNamePrefix = "paratro-share-kek/"
)

// Store keeps sealed shares in a directory:
//
//	<dir>/store-id                                   random ID naming the store's key in the keyring
//	<dir>/kek-gen                                    which generation of that key is in use (after a Destroy)
//	<dir>/lock                                       advisory lock between processes
//	<dir>/shares/<wallet>/<hex(party)>/<epoch>.share sealed share of one epoch
//	<dir>/shares/<wallet>/<hex(party)>/state         sealed manifest: active and pending epoch
//
// Its key-encryption key (KEK), 32 random bytes, lives in a Keyring under
// "paratro-share-kek/<store-id>" (generation n > 1, after n-1 calls of
// Destroy: "paratro-share-kek/<store-id>/<n>"). The store fetches it for each operation and
// zeroes its copy afterwards. Directories are 0700 and files 0600 whatever
// the umask; every file is replaced atomically, so a crash leaves either the
// old state or the new one. A Store is safe for concurrent use, and other
// processes using the same directory are kept out by a lock (on Unix).
type Store struct {
	dir string
	id  string
	kr  Keyring
	gen atomic.Uint64 // the KEK generation last read from kek-gen

	mu    sync.RWMutex
	crash func(point string) error // tests only: simulate a crash at point
	fault func(point string) error // tests only: make a write or sync fail at point
}

// hooks is what a file write calls at each point (writeFileAtomic): the
// I/O fault points ("write …", "before-sync …", "before-dir-sync …") go
// to the fault hook, the others to the crash hook. Both are nil outside
// tests.
func (s *Store) hooks(point string) error {
	if s.crash == nil && s.fault == nil {
		return nil
	}
	for _, p := range []string{"write ", "before-sync ", "before-dir-sync "} {
		if strings.HasPrefix(point, p) {
			return hook(s.fault, point)
		}
	}
	return hook(s.crash, point)
}

// Open opens the share store in dir, creating the directory and the store's
// key-encryption key on first use. It refuses, with ErrInsecureDir, a
// directory that other users can write to or that another user owns. If dir
// holds sealed files but kr no longer holds their key, Open fails with
// ErrKEKMissing.
func Open(dir string, kr Keyring) (*Store, error) {
	if kr == nil {
		return nil, errors.New("open share store: no keyring given")
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		err = prepareStoreDir(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("open share store: %w", err)
	}
	s := &Store{dir: abs, kr: kr}
	unlock, err := lockStore(abs, true)
	if err != nil {
		return nil, fmt.Errorf("open share store %s: %w", abs, err)
	}
	defer unlock()
	if s.id, err = s.loadOrCreateID(); err != nil {
		return nil, fmt.Errorf("open share store %s: %w", abs, err)
	}
	if err := s.loadKEKState(); err != nil {
		return nil, fmt.Errorf("open share store %s: %w", abs, err)
	}
	if err := s.ensureKEK(); err != nil {
		return nil, fmt.Errorf("open share store %s: %w", abs, err)
	}
	return s, nil
}

// Dir returns the store's directory as an absolute path.
func (s *Store) Dir() string { return s.dir }

func (s *Store) loadOrCreateID() (string, error) {
	path := filepath.Join(s.dir, storeIDName)
	data, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(data))
		if b, err := hex.DecodeString(id); err != nil || len(b) != storeIDLen {
			return "", errorf(ErrCorrupt, "%s is not a paratro store id", path)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	has, err := s.hasSealedFiles()
	if err != nil {
		return "", err
	}
	if has {
		return "", errorf(ErrKEKMissing, "%s is missing, so the key of the shares in %s cannot be found", path, s.dir)
	}
	b := make([]byte, storeIDLen)
	rand.Read(b) // never returns an error (crypto/rand)
	id := hex.EncodeToString(b)
	return id, writeFileAtomic(path, []byte(id+"\n"), nil)
}

// ensureKEK checks that the keyring holds the store's KEK, and creates it
// if the store has no sealed files yet.
func (s *Store) ensureKEK() error {
	kek, err := s.kr.Get(s.kekName())
	if err == nil {
		defer clear(kek)
		if len(kek) != kekLen {
			return s.badKEK()
		}
		return nil
	}
	if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("read key-encryption key: %w", err)
	}
	has, err := s.hasSealedFiles()
	if err != nil {
		return err
	}
	if has {
		return s.kekMissing()
	}
	kek = make([]byte, kekLen)
	defer clear(kek)
	rand.Read(kek) // never returns an error (crypto/rand)
	if err := s.kr.Set(s.kekName(), kek); err != nil {
		return fmt.Errorf("store key-encryption key: %w", err)
	}
	return nil
}

func (s *Store) kekName() string { return s.kekNameOf(s.gen.Load()) }

// KeyringEntry is the name of the keyring entry that holds the store's
// key-encryption key now (Destroy replaces it with a new one), for
// diagnostics and tests; the key itself never leaves the package.
func (s *Store) KeyringEntry() string { return s.kekName() }

// loadKEKState reads which KEK generation is in use, finishing a rotation
// (Destroy) that a crash interrupted. It needs the exclusive lock.
func (s *Store) loadKEKState() error {
	st, err := s.readKEKState()
	if err == nil && st.unfinished() {
		st, err = s.finishRotation(st)
	}
	if err != nil {
		return fmt.Errorf("finish an interrupted share destruction: %w", err)
	}
	s.gen.Store(st.gen)
	return nil
}

func (s *Store) kekMissing() error {
	return errorf(ErrKEKMissing, "%s no longer holds the key for the share store %s (entry %s), so its shares cannot be opened",
		s.kr.Describe(), s.dir, s.kekName())
}

func (s *Store) badKEK() error {
	return errorf(ErrCorrupt, "%s entry %s is not a %d-byte key", s.kr.Describe(), s.kekName(), kekLen)
}

// hasSealedFiles reports whether anything is stored under shares/.
func (s *Store) hasSealedFiles() (bool, error) {
	found := false
	err := filepath.WalkDir(filepath.Join(s.dir, sharesDirName), func(_ string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipAll
		}
		if err == nil && d.Type().IsRegular() {
			found = true
			return fs.SkipAll
		}
		return err
	})
	return found, err
}

// withKEK runs fn with an AEAD under the store's KEK of generation gen.
func (s *Store) withKEK(gen uint64, fn func(cipher.AEAD) error) error {
	aead, err := s.aeadOf(gen)
	if err != nil {
		return err
	}
	return fn(aead)
}

// aeadOf returns AES-256-GCM under the KEK of generation gen; the KEK's
// bytes are zeroed before it returns. A KEK the keyring lacks is
// ErrKEKMissing.
func (s *Store) aeadOf(gen uint64) (cipher.AEAD, error) {
	name := s.kekNameOf(gen)
	kek, err := s.kr.Get(name)
	if errors.Is(err, ErrNotFound) {
		return nil, errorf(ErrKEKMissing, "%s no longer holds the key for the share store %s (entry %s), so its shares cannot be opened",
			s.kr.Describe(), s.dir, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read key-encryption key: %w", err)
	}
	aead, err := newAEAD(kek)
	clear(kek)
	if err != nil {
		return nil, errorf(ErrCorrupt, "%s entry %s is not a %d-byte key", s.kr.Describe(), name, kekLen)
	}
	return aead, nil
}

// view runs fn under a shared lock, update under an exclusive one.
func (s *Store) view(fn func(cipher.AEAD) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.locked(false, fn)
}

func (s *Store) update(fn func(cipher.AEAD) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.locked(true, fn)
}

// locked runs fn under the store's file lock with the KEK generation in
// use, which another process's Destroy may have changed. A destruction
// that a crash interrupted is finished first, under an exclusive lock.
func (s *Store) locked(exclusive bool, fn func(cipher.AEAD) error) error {
	unlock, err := lockStore(s.dir, exclusive)
	if err != nil {
		return err
	}
	defer func() { unlock() }()
	st, err := s.readKEKState()
	if err == nil && st.unfinished() && !exclusive {
		unlock()
		if unlock, err = lockStore(s.dir, true); err != nil {
			unlock = func() {}
			return err
		}
		st, err = s.readKEKState()
	}
	if err == nil && st.unfinished() {
		st, err = s.finishRotation(st)
	}
	if err != nil {
		return err
	}
	s.gen.Store(st.gen)
	return s.withKEK(st.gen, fn)
}
