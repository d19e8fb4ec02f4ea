//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package shares

// lockStore does nothing on systems without flock; the Store's mutex still
// serialises callers within one process.
func lockStore(string, bool) (func(), error) { return func() {}, nil }
