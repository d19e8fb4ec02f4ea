//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package shares

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// lockStore takes an advisory lock on <dir>/lock, shared for readers and
// exclusive for writers, so that another paratro process never sees a
// half-done commit. The returned function releases it.
func lockStore(dir string, exclusive bool) (func(), error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	readOnly := false
	if err != nil && !exclusive && (errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission)) {
		// A file system remounted read-only (or a directory made so):
		// readers still read the shares, under a lock taken on a
		// read-only descriptor; every write fails (release case 29).
		f, err = os.Open(path)
		readOnly = true
	}
	if err != nil {
		return nil, fmt.Errorf("lock share store: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if !readOnly {
		err = f.Chmod(fileMode)
	}
	if err == nil {
		err = syscall.Flock(int(f.Fd()), how)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock share store: %w", err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
