package sharestest

import (
	"io/fs"
	"path/filepath"
	"testing"
)

// CheckPrivateModes fails t unless every directory under root (root
// included) is 0700 and every file 0600, and there are at least atLeast
// entries: what paratro writes must be readable by its owner only.
func CheckPrivateModes(t testing.TB, root string, atLeast int) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", path, fi.Mode().Perm(), want)
		}
		n++
		return nil
	})
	if err != nil || n < atLeast {
		t.Fatalf("walked %d entries under %s: %v", n, root, err)
	}
}
