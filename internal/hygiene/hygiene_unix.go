//go:build unix

package hygiene

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Harden disables core dumps for this process (RLIMIT_CORE 0, soft and
// hard, so that no child can raise it again; on Linux also
// PR_SET_DUMPABLE 0) and, on Linux, locks its memory when it may (see
// lockMemory). Not locking memory is not an error: it is reported. An
// error means core dumps could not be disabled, which lowering a limit
// never should.
func Harden() (Report, error) {
	var r Report
	if err := NoCoreDumps(); err != nil {
		return r, err
	}
	r.CoreDumpsOff = true
	r.MemoryLocked, r.Reason = lockMemory()
	return r, nil
}

// NoCoreDumps disables core dumps for this process and its children:
// RLIMIT_CORE 0, soft and hard, and on Linux PR_SET_DUMPABLE 0. Every
// paratro command calls it as it starts, since most of them read a share,
// a key or a TOTP secret; Harden adds locking memory for the long-running
// ones.
func NoCoreDumps() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("disable core dumps: setrlimit RLIMIT_CORE: %w", err)
	}
	if err := notDumpable(); err != nil {
		return fmt.Errorf("disable core dumps: %w", err)
	}
	return nil
}
