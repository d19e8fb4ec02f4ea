package shares

import (
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Get returns the secret stored under name, or an error matching
// ErrNotFound.
func (k *FileKeyring) Get(name string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, aead, err := k.load()
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", name, k.Describe(), err)
	}
	sealed, ok := f.Entries[name]
	if !ok {
		return nil, errorf(ErrNotFound, "read %s from %s: not found", name, k.Describe())
	}
	secret, err := aead.Open(nil, nonceOf(sealed), bodyOf(sealed), entryAAD(name))
	if err != nil {
		return nil, errorf(ErrAuth, "read %s from %s: authentication failed (the entry was changed or moved)", name, k.Describe())
	}
	return secret, nil
}

// Set stores secret under name and rewrites the file atomically.
func (k *FileKeyring) Set(name string, secret []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, aead, err := k.load()
	if err == nil {
		f.Entries[name] = sealEntry(aead, entryAAD(name), secret)
		err = k.write(f)
	}
	if err != nil {
		return fmt.Errorf("write %s to %s: %w", name, k.Describe(), err)
	}
	return nil
}

// Delete removes name and rewrites the file atomically, or returns an error
// matching ErrNotFound.
func (k *FileKeyring) Delete(name string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, _, err := k.load()
	if err != nil {
		return fmt.Errorf("delete %s from %s: %w", name, k.Describe(), err)
	}
	if _, ok := f.Entries[name]; !ok {
		return errorf(ErrNotFound, "delete %s from %s: not found", name, k.Describe())
	}
	delete(f.Entries, name)
	if err := k.write(f); err != nil {
		return fmt.Errorf("delete %s from %s: %w", name, k.Describe(), err)
	}
	return nil
}

// load rereads the file and checks that it is still the one the key was
// derived for. k.mu must be held.
func (k *FileKeyring) load() (*keyringFile, cipher.AEAD, error) {
	if k.key == nil {
		return nil, nil, errors.New("the keyring is closed")
	}
	data, err := os.ReadFile(k.path)
	if err != nil {
		return nil, nil, err
	}
	f, err := parseKeyringFile(k.path, data)
	if err != nil {
		return nil, nil, err
	}
	aead, err := newAEAD(k.key)
	if err != nil {
		return nil, nil, err
	}
	_, err = aead.Open(nil, nonceOf(f.Check), bodyOf(f.Check), f.KDF.checkAAD())
	if !k.sameKDF(f) || err != nil {
		return nil, nil, errors.New("the file was replaced since it was opened; open it again")
	}
	return f, aead, nil
}

// write replaces the file with f. k.mu must be held.
func (k *FileKeyring) write(f *keyringFile) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(k.path, append(data, '\n'), nil)
}
