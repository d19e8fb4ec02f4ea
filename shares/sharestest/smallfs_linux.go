//go:build linux

package sharestest

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// SmallFS mounts a tmpfs of size bytes for the test and returns a private
// (0700) directory on it, a function that fills the file system until a
// write fails with ENOSPC, and one that remounts it read-only (EROFS):
// real write errors for the share store (SECURITY.md release case 29).
// Mounting needs root (CAP_SYS_ADMIN): otherwise the test is skipped.
func SmallFS(t testing.TB, size int) (dir string, fill, readOnly func()) {
	t.Helper()
	mnt := t.TempDir()
	opts := "size=" + itoa(size) + ",mode=0700"
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, opts); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): needs root", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dir = filepath.Join(mnt, "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	fill = func() {
		t.Helper()
		f, err := os.Create(filepath.Join(mnt, "filler"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		buf := make([]byte, 512)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
		// Small writes may still fit in a partly used page: use them up.
		for _, n := range []int{64, 1} {
			for {
				if _, err := f.Write(buf[:n]); err != nil {
					break
				}
			}
		}
	}
	readOnly = func() {
		t.Helper()
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, opts); err != nil {
			t.Fatalf("remount read-only: %v", err)
		}
	}
	return dir, fill, readOnly
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}
