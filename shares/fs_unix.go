//go:build unix

package shares

import (
	"io/fs"
	"os"
	"syscall"
)

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// checkPrivateDir refuses a directory that group or others can write to, or
// that another user owns.
func checkPrivateDir(dir string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o022 != 0 {
		return errorf(ErrInsecureDir, "%s can be written by other users (mode %04o); fix it with: chmod 700 %s", dir, fi.Mode().Perm(), dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() {
		return errorf(ErrInsecureDir, "%s belongs to another user (uid %d, you are uid %d); use a directory of your own", dir, st.Uid, os.Geteuid())
	}
	return nil
}
