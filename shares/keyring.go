package shares

import (
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/zalando/go-keyring"
)

// Keyring holds small secrets; the store keeps its key-encryption key in
// one. Implementations must be safe for concurrent use.
type Keyring interface {
	// Get returns a copy of the secret stored under name, or an error
	// matching ErrNotFound.
	Get(name string) ([]byte, error)
	// Set stores secret under name, replacing any previous value.
	Set(name string, secret []byte) error
	// Delete removes name, or returns an error matching ErrNotFound.
	Delete(name string) error
	// Describe names the keyring for people, e.g. "OS keyring (Secret
	// Service)" or "file keyring /path/keyring.json".
	Describe() string
}

// DefaultKeyringTimeout bounds each OS keyring call when NewOSKeyring is
// given no timeout.
const DefaultKeyringTimeout = 5 * time.Second

// NewOSKeyring returns the operating system's keyring (Secret Service on
// Linux and BSD, Keychain on macOS, Credential Manager on Windows) through
// github.com/zalando/go-keyring. Entries are stored under service, with the
// name as user and the secret base64-encoded.
//
// Each call gives up after timeout (DefaultKeyringTimeout if timeout <= 0)
// with an error matching ErrKeyringTimeout; the abandoned call finishes in
// the background. Secrets must stay small: Windows and macOS refuse values
// over about 2.5 KB.
func NewOSKeyring(service string, timeout time.Duration) Keyring {
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &osKeyring{service: service, timeout: timeout, backend: goKeyring{}}
}

// osBackend is the part of go-keyring's API the OS keyring uses; tests
// replace it to simulate a keyring that never answers.
type osBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, pw string) error       { return keyring.Set(service, user, pw) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

type osKeyring struct {
	service string
	timeout time.Duration
	backend osBackend
}

func (k *osKeyring) Get(name string) ([]byte, error) {
	var value string
	err := k.call("read "+name, func() (err error) {
		value, err = k.backend.Get(k.service, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	secret, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: the value is not base64", name, k.Describe())
	}
	return secret, nil
}

func (k *osKeyring) Set(name string, secret []byte) error {
	value := base64.StdEncoding.EncodeToString(secret)
	return k.call("write "+name, func() error { return k.backend.Set(k.service, name, value) })
}

func (k *osKeyring) Delete(name string) error {
	return k.call("delete "+name, func() error { return k.backend.Delete(k.service, name) })
}

func (k *osKeyring) Describe() string {
	switch runtime.GOOS {
	case "darwin":
		return "OS keyring (macOS Keychain)"
	case "windows":
		return "OS keyring (Windows Credential Manager)"
	default:
		return "OS keyring (Secret Service)"
	}
}

// call runs fn on its own goroutine and waits at most k.timeout for it.
// Whatever fn writes is read only after it has returned.
func (k *osKeyring) call(what string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if errors.Is(err, keyring.ErrNotFound) {
			return errorf(ErrNotFound, "%s in %s: not found", what, k.Describe())
		}
		if err != nil {
			return fmt.Errorf("%s in %s: %w", what, k.Describe(), err)
		}
		return nil
	case <-time.After(k.timeout):
		return errorf(ErrKeyringTimeout, "%s in %s: the OS keyring did not answer within %s; on a machine without a keyring service use --keyring file", what, k.Describe(), k.timeout)
	}
}
