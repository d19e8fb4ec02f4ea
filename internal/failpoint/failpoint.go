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
package failpoint

import (
	"os"
	"sync"
)

// Env is the variable naming the point to die at.
const Env = "PARATRO_FAILPOINT"

var armed = sync.OnceValue(func() string { return os.Getenv(Env) })

// Armed reports whether PARATRO_FAILPOINT names a point at all: callers
// may skip work that only serves failpoints.
func Armed() bool { return armed() != "" }

// Hit kills this process at once, without running deferred functions or
// flushing anything, if PARATRO_FAILPOINT is name.
func Hit(name string) {
	if a := armed(); a != "" && a == name {
		os.Stderr.WriteString("failpoint " + name + ": killing this process\n")
		kill()
	}
}
