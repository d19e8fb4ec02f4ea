package shares

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// FileKeyring is a Keyring kept in one JSON file and unlocked by a
// passphrase, for machines without an OS keyring. The key that seals its
// entries is derived with argon2id and exists only in memory; each entry is
// sealed with AES-256-GCM and bound to its name. The file is mode 0600 and
// every change replaces it atomically.
//
// A FileKeyring is safe for concurrent use. It rereads the file on every
// call, so changes made by another process are seen, but two processes
// writing at the same moment may lose one of the writes.
type FileKeyring struct {
	path string
	kdf  kdfParams

	mu  sync.Mutex
	key []byte // nil after Close
}

// keyringFile is the file's JSON form. Byte slices are base64.
type keyringFile struct {
	Version int               `json:"version"`
	KDF     kdfParams         `json:"kdf"`
	Check   []byte            `json:"check"`
	Entries map[string][]byte `json:"entries"`
}

const (
	fileKeyringVersion = 1
	entryAADPrefix     = "paratro/keyring/v1\x00"
	checkAADPrefix     = "paratro/keyring/v1/check\x00"
)

// OpenFileKeyring opens the file keyring at path with passphrase, creating
// the file (and a 0700 parent directory) if it does not exist. A wrong
// passphrase gives an error matching ErrWrongPassphrase; a file whose
// key-derivation parameters are below the minimum is refused with
// ErrWeakKDF. The caller keeps ownership of passphrase. Deriving the key
// takes a noticeable fraction of a second and 64 MiB of memory.
func OpenFileKeyring(path string, passphrase []byte) (*FileKeyring, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("open file keyring %s: the passphrase is empty", path)
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open file keyring: %w", err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createFileKeyring(path, passphrase)
	}
	if err != nil {
		return nil, fmt.Errorf("open file keyring: %w", err)
	}
	k, err := unlockFileKeyring(path, data, passphrase)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, fileMode); err != nil {
		k.Close()
		return nil, fmt.Errorf("open file keyring: %w", err)
	}
	return k, nil
}

func createFileKeyring(path string, passphrase []byte) (*FileKeyring, error) {
	if err := preparePrivateParent(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("create file keyring %s: %w", path, err)
	}
	k := &FileKeyring{path: path, kdf: newKDFParams()}
	k.key = k.kdf.derive(passphrase)
	aead, err := newAEAD(k.key)
	if err != nil {
		k.Close()
		return nil, fmt.Errorf("create file keyring %s: %w", path, err)
	}
	f := &keyringFile{Version: fileKeyringVersion, KDF: k.kdf, Entries: map[string][]byte{}}
	f.Check = sealEntry(aead, k.kdf.checkAAD(), nil)
	if err := k.write(f); err != nil {
		k.Close()
		return nil, fmt.Errorf("create file keyring %s: %w", path, err)
	}
	return k, nil
}

// unlockFileKeyring checks an existing file's format and parameters, derives
// the key and verifies the check value.
func unlockFileKeyring(path string, data, passphrase []byte) (*FileKeyring, error) {
	f, err := parseKeyringFile(path, data)
	if err != nil {
		return nil, err
	}
	if err := f.KDF.check(); err != nil {
		return nil, fmt.Errorf("open file keyring %s: %w", path, err)
	}
	k := &FileKeyring{path: path, kdf: f.KDF, key: f.KDF.derive(passphrase)}
	aead, err := newAEAD(k.key)
	if err == nil {
		_, err = aead.Open(nil, nonceOf(f.Check), bodyOf(f.Check), k.kdf.checkAAD())
	}
	if err != nil {
		k.Close()
		return nil, fmt.Errorf("open file keyring %s: %w", path, ErrWrongPassphrase)
	}
	return k, nil
}

func parseKeyringFile(path string, data []byte) (*keyringFile, error) {
	var f keyringFile
	if err := json.Unmarshal(data, &f); err != nil || len(f.Check) < nonceLen+tagLen {
		return nil, errorf(ErrCorrupt, "open file keyring %s: it is truncated or not a paratro keyring file", path)
	}
	if f.Version != fileKeyringVersion {
		return nil, errorf(ErrUnsupportedFormat, "open file keyring %s: format version %d is not supported (this paratro reads version %d)", path, f.Version, fileKeyringVersion)
	}
	if f.Entries == nil {
		f.Entries = map[string][]byte{}
	}
	return &f, nil
}

// preparePrivateParent creates dir with mode 0700 if it is missing, and
// otherwise refuses it if other users can write to it.
func preparePrivateParent(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return err
		}
		return os.Chmod(dir, dirMode)
	}
	if err != nil {
		return err
	}
	return checkPrivateDir(dir, fi)
}

// Close zeroes the derived key. Later calls fail.
func (k *FileKeyring) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.key)
	k.key = nil
}

// Describe returns "file keyring <path>".
func (k *FileKeyring) Describe() string { return "file keyring " + k.path }

// sealEntry returns nonce || ciphertext of pt under aad.
func sealEntry(aead cipher.AEAD, aad, pt []byte) []byte {
	out := make([]byte, nonceLen, nonceLen+len(pt)+tagLen)
	rand.Read(out) // never returns an error (crypto/rand)
	return aead.Seal(out, out, pt, aad)
}

func nonceOf(sealed []byte) []byte {
	return sealed[:min(nonceLen, len(sealed))]
}

func bodyOf(sealed []byte) []byte {
	return sealed[min(nonceLen, len(sealed)):]
}

func entryAAD(name string) []byte { return []byte(entryAADPrefix + name) }

// sameKDF reports whether the file on disk still uses the parameters and
// salt the key was derived with.
func (k *FileKeyring) sameKDF(f *keyringFile) bool {
	a, b := k.kdf, f.KDF
	return a.Name == b.Name && a.Time == b.Time && a.MemoryKiB == b.MemoryKiB &&
		a.Threads == b.Threads && bytes.Equal(a.Salt, b.Salt)
}
