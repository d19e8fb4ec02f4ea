package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/paratro/paratro/internal/atomicfile"
	"github.com/paratro/paratro/shares"
)

// FileName is the public identity file in a paratro home.
const FileName = "identity.json"

// keyringName is the keyring entry holding the secret form of the identity
// with fingerprint fp: unique even when several homes share one OS keyring.
func keyringName(fp string) string { return "identity/" + fp }

// ErrNoIdentity means the home has no identity yet.
var ErrNoIdentity = errors.New("no identity in this home")

// Save writes the secret half to kr and the public half to home/identity.json
// (0600, home 0700). It refuses to overwrite an existing identity.
func Save(home string, kr shares.Keyring, id *Identity) error {
	path := filepath.Join(home, FileName)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already holds an identity (%s)", home, path)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(home, 0o700); err != nil {
		return err
	}
	secret := id.Secret()
	defer clear(secret)
	if err := kr.Set(keyringName(id.Fingerprint()), secret); err != nil {
		return fmt.Errorf("store identity key in the keyring (%s): %w", kr.Describe(), err)
	}
	b, err := json.MarshalIndent(id.Public, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// LoadPublic reads home/identity.json.
func LoadPublic(home string) (Public, error) {
	b, err := os.ReadFile(filepath.Join(home, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return Public{}, ErrNoIdentity
	}
	if err != nil {
		return Public{}, err
	}
	var p Public
	if err := json.Unmarshal(b, &p); err != nil {
		return Public{}, fmt.Errorf("%s: %w", filepath.Join(home, FileName), err)
	}
	return p, nil
}

// Load reads the public half from home and the secret half from kr, and
// checks that they belong together.
func Load(home string, kr shares.Keyring) (*Identity, error) {
	pub, err := LoadPublic(home)
	if err != nil {
		return nil, err
	}
	secret, err := kr.Get(keyringName(pub.Fingerprint()))
	if err != nil {
		return nil, fmt.Errorf("identity key of %s not found in the keyring (%s): %w", pub.Name, kr.Describe(), err)
	}
	defer clear(secret)
	id, err := FromSecret(pub.Name, secret)
	if err != nil {
		return nil, err
	}
	if !id.Public.Equal(pub) {
		return nil, fmt.Errorf("the identity key in the keyring (%s) does not match %s", id.Fingerprint(), filepath.Join(home, FileName))
	}
	return id, nil
}
