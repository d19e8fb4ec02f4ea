//go:build !linux

package sharestest

import "testing"

// SmallFS needs Linux (a tmpfs mount): the test is skipped elsewhere.
func SmallFS(t testing.TB, size int) (dir string, fill, readOnly func()) {
	t.Helper()
	t.Skip("a small file system for write errors needs Linux")
	return "", nil, nil
}
