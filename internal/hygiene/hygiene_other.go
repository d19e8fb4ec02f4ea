//go:build !unix

package hygiene

import "runtime"

// Harden does nothing on this OS; the report says so.
func Harden() (Report, error) {
	return Report{Reason: "not supported on " + runtime.GOOS}, nil
}

// NoCoreDumps does nothing on this OS.
func NoCoreDumps() error { return nil }
