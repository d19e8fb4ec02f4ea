// Package failpoint lets the end-to-end tests kill a process at an exact
// step of its work, the way a power cut or kill -9 would: a process whose
// PARATRO_FAILPOINT names a point kills itself with SIGKILL when it
// reaches that point. Nothing else happens at a point, and without the
// variable Hit costs one comparison.
//
// The points, <kind> being the ceremony kind (keygen, refresh, sign,
// presign), in the order a party reaches them (internal/holder):
//
//   - "<kind>:after-send": this party's first protocol message was
//     posted; in a one-round sign with a presignature, its signature
//     share σ_i has left (SECURITY.md (c) case 28);
//   - "<kind>:after-round-<N>": this party's first protocol message of
//     round N of the ceremony's own session was posted (not the test
//     signature's, whose rounds have the same numbers); the others may
//     have some of its round-N messages and none of a later round. N is
//     the threshold library's round number, as in the envelopes: 2-3 in a
//     FROST keygen, refresh or sign; 2-5 in a CMP keygen, refresh or sign;
//     2-7 in a CMP presign; 8 in a one-round sign with a presignature
//     (SECURITY.md (c) case 25);
//   - "<kind>:before-test" (keygen, refresh): the protocol produced this
//     party's new share (after output), the test signature with the new
//     shares has not started; nothing stored;
//   - "<kind>:after-test" (keygen, refresh): the test signature verified
//     and the new share is stored pending (after pending write), not yet
//     confirmed to anybody;
//   - "<kind>:after-confirm" (keygen, refresh): this party's confirmation
//     was posted;
//   - "<kind>:before-commit" (keygen, refresh): every confirmation is in,
//     the new share is still pending;
//   - "<kind>:after-commit" (keygen, refresh): the new share is active,
//     the party has not yet recorded the wallet nor reported its outcome;
//   - "sign:after-mark": a presignature is durably marked used, this
//     party's signature share is not yet computed (case 28);
//   - "presign:after-store": a new presignature is stored, the party has
//     not yet reported the presign's outcome.
//
// PARATRO_FAILPOINT=panic:<point> makes the process panic at the point
// instead (SECURITY.md (c) case 32: an induced panic, its output searched
// for secrets). The panic is not recovered on a ceremony's goroutine:
// party run ends with the Go runtime's exit status 2 and its traceback of
// the panicking goroutine (GOTRACEBACK decides how much more) on stderr,
// as any bug there would; restarted, it gives up the ceremony and tells
// the others, as after a kill. On the goroutine of a command's own work,
// paratro's top-level recover reports it as an internal error instead.
package failpoint

import (
	"os"
	"sync"
)

// panicPrefix before a point's name asks for a panic there, not a kill.
const panicPrefix = "panic:"

// Env is the variable naming the point to die at.
const Env = "PARATRO_FAILPOINT"

var armed = sync.OnceValue(func() string { return os.Getenv(Env) })

// Armed reports whether PARATRO_FAILPOINT names a point at all: callers
// may skip work that only serves failpoints.
func Armed() bool { return armed() != "" }

// Hit kills this process at once, without running deferred functions or
// flushing anything, if PARATRO_FAILPOINT is name, and panics if it is
// "panic:" followed by name.
func Hit(name string) {
	a := armed()
	if a == "" {
		return
	}
	switch {
	case a == name:
		os.Stderr.WriteString("failpoint " + name + ": killing this process\n")
		kill()
	case len(a) == len(panicPrefix)+len(name) && a[:len(panicPrefix)] == panicPrefix && a[len(panicPrefix):] == name:
		panic("failpoint " + name + ": induced panic")
	}
}
