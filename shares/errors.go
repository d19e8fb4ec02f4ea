package shares

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the package returns that belongs to one of
// these classes matches it with [errors.Is]; the message itself names the
// wallet, party, epoch or path concerned and never contains secret bytes.
var (
	// ErrNotFound reports that a keyring entry, or an active or pending
	// share, does not exist.
	ErrNotFound = errors.New("not found")

	// ErrWrongPassphrase reports that a file keyring could not be unlocked.
	// It deliberately says nothing about why.
	ErrWrongPassphrase = errors.New("wrong passphrase")

	// ErrAuth reports that a sealed file failed authentication: it was
	// changed, belongs to another wallet or party, or was sealed under
	// another key-encryption key.
	ErrAuth = errors.New("authentication failed (the file was changed or belongs to another wallet or party)")

	// ErrCorrupt reports a file that is truncated, empty, not in a paratro
	// format, or inconsistent with the rest of the store.
	ErrCorrupt = errors.New("truncated or not a paratro share file")

	// ErrUnsupportedFormat reports a sealed file written in a format version
	// this build cannot read.
	ErrUnsupportedFormat = errors.New("unsupported format version")

	// ErrKEKMissing reports that the keyring no longer holds the
	// key-encryption key of a store that has sealed files.
	ErrKEKMissing = errors.New("key-encryption key missing from keyring")

	// ErrInsecureDir reports a store directory that other users could
	// write to, or that belongs to another user.
	ErrInsecureDir = errors.New("insecure directory")

	// ErrPending reports that a wallet party already has a pending epoch,
	// which must be committed or discarded first.
	ErrPending = errors.New("another epoch is pending")

	// ErrInvalid reports a wallet ID, party ID, epoch or share that does
	// not meet the store's rules.
	ErrInvalid = errors.New("invalid argument")

	// ErrWeakKDF reports a file keyring whose key-derivation parameters
	// are below the minimum this package accepts.
	ErrWeakKDF = errors.New("key derivation parameters below the minimum")

	// ErrKeyringTimeout reports that the OS keyring did not answer in time.
	ErrKeyringTimeout = errors.New("keyring did not answer")
)

// kindError is an error with a complete, self-contained message that still
// matches one of the sentinels above with errors.Is.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// errorf returns an error whose message is the formatted text and which
// matches kind.
func errorf(kind error, format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kind: kind}
}
