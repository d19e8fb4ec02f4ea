//go:build unix

package shares_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
)

// TestModesUnderUmaskZero is not parallel: the umask belongs to the whole
// process.
func TestModesUnderUmaskZero(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })

	root := filepath.Join(t.TempDir(), "new", "data")
	s, err := shares.Open(root, sharestest.NewMemoryKeyring())
	if err != nil {
		t.Fatal(err)
	}
	putActive(t, s, testShare(t, "w", "alice", 1))
	active := testShare(t, "w", "alice", 2)
	putActive(t, s, active)
	if err := s.PutPending(testShare(t, "w", "alice", 3)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2"} {
		if err := s.PutPresignature(testPresig(active, id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkPresignatureUsed("w", "alice", "p1"); err != nil {
		t.Fatal(err)
	}
	krPath := filepath.Join(t.TempDir(), "new-dir", "keyring.json")
	kr, err := shares.OpenFileKeyring(krPath, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Close()
	if err := kr.Set("x", []byte("y")); err != nil {
		t.Fatal(err)
	}

	t.Run("every store directory is 0700 and every file 0600", func(t *testing.T) {
		checkModes(t, filepath.Dir(root), 12)
	})
	t.Run("presignature files and used marks are 0600", func(t *testing.T) {
		slot := slotDir(s, "w", "alice")
		for _, name := range []string{"presig-p1", "presig-p1.used", "presig-p2"} {
			fi, err := os.Stat(filepath.Join(slot, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %04o, want 0600", name, fi.Mode().Perm())
			}
		}
	})
	t.Run("the file keyring is 0600 in a 0700 directory", func(t *testing.T) {
		checkModes(t, filepath.Dir(krPath), 2)
	})
}

// checkModes walks root and expects at least atLeast entries.
func checkModes(t *testing.T, root string, atLeast int) {
	t.Helper()
	sharestest.CheckPrivateModes(t, root, atLeast)
}

func TestLoosenedDirsAreTightened(t *testing.T) {
	t.Parallel()
	s, kr := newStore(t)
	putActive(t, s, testShare(t, "w", "alice", 1))
	loosened := []string{s.Dir(), filepath.Join(s.Dir(), "shares"), filepath.Join(s.Dir(), "shares", "w"), slotDir(s, "w", "alice")}
	for _, dir := range loosened {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("reopening and the next write make every directory 0700 again", func(t *testing.T) {
		s2, err := shares.Open(s.Dir(), kr)
		if err != nil {
			t.Fatal(err)
		}
		if err := s2.PutPending(testShare(t, "w", "alice", 2)); err != nil {
			t.Fatal(err)
		}
		checkModes(t, s.Dir(), 8)
	})
}

func TestInsecureStoreDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mode    fs.FileMode
		uid     int // -1: keep
		message string
	}{
		{"a world-writable directory is refused", 0o777, -1, "can be written by other users (mode 0777); fix it with: chmod 700 "},
		{"a group-writable directory is refused", 0o770, -1, "can be written by other users (mode 0770)"},
		{"a directory of another user is refused", 0o700, 4242, "belongs to another user (uid 4242"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.uid >= 0 {
				if os.Geteuid() != 0 {
					t.Skip("changing a directory's owner needs root")
				}
				if err := os.Chown(dir, tt.uid, -1); err != nil {
					t.Fatal(err)
				}
			}
			_, err := shares.Open(dir, sharestest.NewMemoryKeyring())
			wantErr(t, err, shares.ErrInsecureDir, dir, tt.message)
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("Open wrote into the refused directory: %v", entries)
			}
		})
	}
	t.Run("a directory others can only read is made private", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o755)
		if _, err := shares.Open(dir, sharestest.NewMemoryKeyring()); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
			t.Errorf("mode %04o, want 0700", fi.Mode().Perm())
		}
	})
	t.Run("a file keyring in a world-writable directory is refused", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		os.Chmod(dir, 0o777)
		_, err := shares.OpenFileKeyring(filepath.Join(dir, "keyring.json"), []byte("pw"))
		wantErr(t, err, shares.ErrInsecureDir, "chmod 700 "+dir)
	})
}
