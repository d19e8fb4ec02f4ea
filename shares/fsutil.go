package shares

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// ensureDir creates dir with mode 0700 if it does not exist, whatever the
// umask, and makes its entry durable in the parent. An existing dir is set
// back to 0700 if its mode was changed.
func ensureDir(dir string) error {
	err := os.Mkdir(dir, dirMode)
	if errors.Is(err, fs.ErrExist) {
		return keepPrivate(dir)
	}
	if err == nil {
		err = os.Chmod(dir, dirMode)
	}
	if err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	return syncDir(filepath.Dir(dir))
}

func keepPrivate(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi.Mode().Perm() != dirMode {
		return os.Chmod(dir, dirMode)
	}
	return nil
}

// writeFileAtomic replaces path with data: a 0600 temp file in the same
// directory is written and synced, renamed over path, and the directory is
// synced. Readers see either the old file or the new one. crash, when not
// nil, is called before and after the rename; if it returns an error the
// write stops there and leaves everything on disk as a crash would. It is
// also called before the data is written ("write <name>"), before the temp
// file is synced ("before-sync <name>") and before the directory is synced
// ("before-dir-sync <name>"): an error there is that write or sync failing
// (a full disk, an I/O error, a read-only file system), and the temp file
// is removed as after a real failure (release case 29).
func writeFileAtomic(path string, data []byte, crash func(point string) error) error {
	dir, base := filepath.Split(path)
	tmp, err := writeTemp(dir, data, func(point string) error { return hook(crash, point+" "+base) })
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := hook(crash, "before-rename "+base); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := hook(crash, "before-dir-sync "+base); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return hook(crash, "after-rename "+base)
}

func hook(crash func(string) error, point string) error {
	if crash == nil {
		return nil
	}
	return crash(point)
}

// writeTemp writes data to a new synced 0600 file in dir and returns its
// name. On failure it removes the file. fault is called before the write
// ("write") and the sync ("before-sync"); its error is theirs.
func writeTemp(dir string, data []byte, fault func(point string) error) (name string, err error) {
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(fileMode); err != nil {
		return "", err
	}
	if err := fault("write"); err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	if err := fault("before-sync"); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

// wipeFile overwrites path with zeros, syncs it, removes it and syncs the
// directory. On flash and copy-on-write file systems the old blocks may
// survive the overwrite; the file was sealed, so what survives is
// ciphertext. A missing file is not an error. crash is called as in
// writeFileAtomic, once the zeros are on disk.
func wipeFile(path string, crash func(point string) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("wipe %s: %w", path, err)
	}
	err = overwriteZeros(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err := hook(crash, "after-zero "+filepath.Base(path)); err != nil {
			return err
		}
		err = os.Remove(path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("wipe %s: %w", path, err)
	}
	return nil
}

func overwriteZeros(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	zeros := make([]byte, 4096)
	for left := fi.Size(); left > 0; left -= int64(len(zeros)) {
		n := min(left, int64(len(zeros)))
		if _, err := f.Write(zeros[:n]); err != nil {
			return err
		}
	}
	return f.Sync()
}

// prepareStoreDir creates dir (0700) if needed, refuses it if other users
// can write to it or it belongs to someone else, and takes away read and
// search access from group and others.
func prepareStoreDir(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if err := checkPrivateDir(dir, fi); err != nil {
		return err
	}
	return keepPrivate(dir)
}
