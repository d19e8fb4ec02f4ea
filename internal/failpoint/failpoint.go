// Package failpoint lets the end-to-end tests kill a process at an exact
// step of its work, the way a power cut or kill -9 would: a process whose
// PARATRO_FAILPOINT names a point kills itself with SIGKILL when it
// reaches that point. Nothing else happens at a point, and without the
// variable Hit costs one comparison.
package failpoint

import (
	"os"
	"sync"
)

// Env is the variable naming the point to die at.
const Env = "PARATRO_FAILPOINT"

var armed = sync.OnceValue(func() string { return os.Getenv(Env) })

// Hit kills this process at once, without running deferred functions or
// flushing anything, if PARATRO_FAILPOINT is name.
func Hit(name string) {
	if a := armed(); a != "" && a == name {
		os.Stderr.WriteString("failpoint " + name + ": killing this process\n")
		kill()
	}
}
