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

// SetFaultHook makes s call fault before it writes the data of a state,
// share or presignature file ("write 2.share"), before it syncs that file
// ("before-sync 2.share") and before it syncs the directory after the
// rename ("before-dir-sync 2.share"). An error from fault is that write or
// sync failing (ENOSPC, EIO, EROFS): the operation fails with it.
func SetFaultHook(s *Store, fault func(point string) error) { s.fault = fault }

// KEKName returns the keyring entry that holds s's key-encryption key.
func KEKName(s *Store) string { return s.kekName() }

// NewOSKeyringWith returns an OS keyring whose go-keyring calls go to
// backend instead.
func NewOSKeyringWith(backend osBackend, timeout time.Duration) Keyring {
	k := NewOSKeyring("paratro-test", timeout).(*osKeyring)
	k.backend = backend
	return k
}
