//go:build linux

package hygiene

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

func notDumpable() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_DUMPABLE 0: %w", err)
	}
	return nil
}

// lockMemory locks all of the process's memory, current and future
// (mlockall MCL_CURRENT|MCL_FUTURE, with MCL_ONFAULT where the kernel has
// it so that pages are locked as they are touched instead of every new
// mapping being filled at once).
//
// It does so only when the locked memory cannot run into RLIMIT_MEMLOCK:
// with CAP_IPC_LOCK (which lifts the limit) or an unlimited limit. Under a
// finite limit it does not try: mlockall MCL_CURRENT fails anyway once the
// process's address space is larger than the limit (a Go process reserves
// far more address space than the default 8 MiB), and should it succeed,
// MCL_FUTURE would make every later mapping past the limit fail, and the
// Go runtime dies when it cannot map heap. A party that might crash in the
// middle of a ceremony is worse than one that might be swapped.
func lockMemory() (bool, string) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		return false, "getrlimit RLIMIT_MEMLOCK: " + err.Error()
	}
	if lim.Cur != unix.RLIM_INFINITY && !hasIPCLock() {
		return false, fmt.Sprintf("RLIMIT_MEMLOCK is %s and no CAP_IPC_LOCK", size(lim.Cur))
	}
	err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT)
	if errors.Is(err, unix.EINVAL) { // a kernel before 4.4 has no MCL_ONFAULT
		err = unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE)
	}
	if err != nil {
		return false, "mlockall: " + err.Error()
	}
	return true, ""
}

// hasIPCLock reports whether CAP_IPC_LOCK is in the effective set.
func hasIPCLock() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[unix.CAP_IPC_LOCK/32].Effective&(1<<(unix.CAP_IPC_LOCK%32)) != 0
}

func size(n uint64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
