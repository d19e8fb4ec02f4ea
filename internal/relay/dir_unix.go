//go:build unix

package relay

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner refuses a data directory that belongs to another user.
func checkOwner(dir string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("relay data directory %s belongs to another user (uid %d)", dir, st.Uid)
	}
	return nil
}
