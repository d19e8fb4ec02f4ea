//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package shares

import (
	"fmt"
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
	if err != nil {
		return nil, fmt.Errorf("lock share store: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err = f.Chmod(fileMode)
	if err == nil {
		err = syscall.Flock(int(f.Fd()), how)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock share store: %w", err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
