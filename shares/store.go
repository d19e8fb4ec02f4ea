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
//	<dir>/lock                                       advisory lock between processes
//	<dir>/shares/<wallet>/<hex(party)>/<epoch>.share sealed share of one epoch
//	<dir>/shares/<wallet>/<hex(party)>/state         sealed manifest: active and pending epoch
//
// Its key-encryption key (KEK), 32 random bytes, lives in a Keyring under
// "paratro-share-kek/<store-id>". The store fetches it for each operation and
// zeroes its copy afterwards. Directories are 0700 and files 0600 whatever
// the umask; every file is replaced atomically, so a crash leaves either the
// old state or the new one. A Store is safe for concurrent use, and other
// processes using the same directory are kept out by a lock (on Unix).
type Store struct {
	dir string
	id  string
	kr  Keyring

	mu    sync.RWMutex
	crash func(point string) error // tests only: simulate a crash at point
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

func (s *Store) kekName() string { return kekNamePrefix + s.id }

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

// withKEK runs fn with an AEAD under the store's KEK; the KEK's bytes are
// zeroed before fn runs.
func (s *Store) withKEK(fn func(cipher.AEAD) error) error {
	kek, err := s.kr.Get(s.kekName())
	if errors.Is(err, ErrNotFound) {
		return s.kekMissing()
	}
	if err != nil {
		return fmt.Errorf("read key-encryption key: %w", err)
	}
	aead, err := newAEAD(kek)
	clear(kek)
	if err != nil {
		return s.badKEK()
	}
	return fn(aead)
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

func (s *Store) locked(exclusive bool, fn func(cipher.AEAD) error) error {
	unlock, err := lockStore(s.dir, exclusive)
	if err != nil {
		return err
	}
	defer unlock()
	return s.withKEK(fn)
}
