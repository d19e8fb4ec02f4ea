package shares

import (
	"fmt"
	"os"
)

// CheckPrivateDir refuses, with ErrInsecureDir, an existing directory that
// group or others can write to or that another user owns (on Unix;
// elsewhere it only checks that dir is a directory). The store checks its
// own directory this way; callers check the directories that hold what
// the store trusts, such as the home with the identity. A missing dir
// fails with an error matching fs.ErrNotExist.
func CheckPrivateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return checkPrivateDir(dir, fi)
}
