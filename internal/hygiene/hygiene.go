// Package hygiene hardens a process that holds key shares in memory:
// no core dumps (a dump would write every share in the heap to disk) and,
// where the OS allows, memory locked so that it is never swapped out.
package hygiene

// Report says what Harden did.
type Report struct {
	// CoreDumpsOff: RLIMIT_CORE is 0, soft and hard (and on Linux the
	// process is not dumpable: no core, no ptrace by other users, no
	// /proc/PID/mem for them).
	CoreDumpsOff bool
	// MemoryLocked: the process's memory is locked in RAM (mlockall),
	// now and as it grows.
	MemoryLocked bool
	// Reason says why memory is not locked (or why nothing was done on
	// this OS).
	Reason string
}

// String is one short line, e.g. "core dumps off; memory locked" or
// "core dumps off; memory not locked (RLIMIT_MEMLOCK is 8 MiB and no
// CAP_IPC_LOCK)".
func (r Report) String() string {
	s := "core dumps off"
	if !r.CoreDumpsOff {
		s = "core dumps not disabled"
	}
	if r.MemoryLocked {
		return s + "; memory locked"
	}
	if r.Reason != "" {
		return s + "; memory not locked (" + r.Reason + ")"
	}
	return s + "; memory not locked"
}
