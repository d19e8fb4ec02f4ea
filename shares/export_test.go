package shares

import "time"

// SetCrashHook makes s call crash before and after every rename or removal
// of a state or share file ("before-rename 2.share", "after-rename state",
// "after-remove state"), and after a file to be removed was overwritten
// with zeros ("after-zero 1.share"); Destroy also calls it after storing
// the new key-encryption key ("after-set-kek") and deleting the old one
// ("after-delete-kek"). When crash returns an error the operation stops
// there, as if the process had died, and returns that error.
func SetCrashHook(s *Store, crash func(point string) error) { s.crash = crash }

// KEKName returns the keyring entry that holds s's key-encryption key.
func KEKName(s *Store) string { return s.kekName() }

// NewOSKeyringWith returns an OS keyring whose go-keyring calls go to
// backend instead.
func NewOSKeyringWith(backend osBackend, timeout time.Duration) Keyring {
	k := NewOSKeyring("paratro-test", timeout).(*osKeyring)
	k.backend = backend
	return k
}
