//go:build unix && !linux

package hygiene

import "runtime"

// RLIMIT_CORE 0 is all it takes here.
func notDumpable() error { return nil }

// lockMemory does not lock memory outside Linux: whether mlockall exists,
// and how it interacts with the limits and the Go runtime, differs by
// system and is untested.
func lockMemory() (bool, string) {
	return false, "not attempted on " + runtime.GOOS
}
