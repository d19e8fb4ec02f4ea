package shares_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
)

// TestWriteFailuresKeepThePreviousShare makes the data write, the file
// sync and the directory sync fail (a full disk, an I/O error, a file
// system gone read-only) while a new epoch is stored and while it is
// committed: the operation fails with that error, and a fresh Store still
// reads the previous active share intact; the next write succeeds
// (SECURITY.md release case 29).
func TestWriteFailuresKeepThePreviousShare(t *testing.T) {
	t.Parallel()
	type op struct {
		name    string
		pending uint64 // pending before the operation
		run     func(*shares.Store) error
	}
	put := op{"storing epoch 2 as pending", 0, func(s *shares.Store) error { return s.PutPending(testShare(t, "w", "alice", 2)) }}
	commit := op{"committing epoch 2", 2, func(s *shares.Store) error { return s.Commit("w", "alice", 2) }}
	for _, c := range []struct {
		op    op
		point string
		errno syscall.Errno
	}{
		{put, "write 2.share", syscall.ENOSPC},
		{put, "before-sync 2.share", syscall.EIO},
		{put, "before-dir-sync 2.share", syscall.EROFS},
		{put, "write state", syscall.ENOSPC},
		{put, "before-sync state", syscall.ENOSPC},
		{put, "before-dir-sync state", syscall.EIO},
		{commit, "write state", syscall.ENOSPC},
		{commit, "before-sync state", syscall.EROFS},
		{commit, "before-dir-sync state", syscall.EIO},
	} {
		t.Run(fmt.Sprintf("%s: %s at %s", c.op.name, c.errno, c.point), func(t *testing.T) {
			t.Parallel()
			s, kr := newStore(t)
			first := testShare(t, "w", "alice", 1)
			putActive(t, s, first)
			if c.op.pending != 0 {
				if err := s.PutPending(testShare(t, "w", "alice", c.op.pending)); err != nil {
					t.Fatal(err)
				}
			}
			hit := false
			shares.SetFaultHook(s, func(point string) error {
				if point == c.point {
					hit = true
					return c.errno
				}
				return nil
			})
			if err := c.op.run(s); !errors.Is(err, c.errno) || !hit {
				t.Fatalf("got %v (fault point reached: %v), want the operation to fail with %v", err, hit, c.errno)
			}
			shares.SetFaultHook(s, nil)

			after, err := shares.Open(s.Dir(), kr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := after.Active("w", "alice")
			if err != nil {
				t.Fatalf("the previous share after the failure: %v", err)
			}
			switch {
			case got.Epoch == 1:
				sameShare(t, got, first)
			case c.op.name == commit.name && c.point == "before-dir-sync state":
				// The new manifest was renamed in before the directory
				// sync failed: epoch 2 is active (only its durability was
				// in doubt), and it was stored whole.
			default:
				t.Fatalf("epoch %d is active after a failed %s", got.Epoch, c.op.name)
			}
			if c.point != "before-dir-sync 2.share" && c.point != "before-dir-sync state" && slices.Contains(slotFiles(t, after), "tmp") {
				t.Errorf("a failed write left its temp file: %v", slotFiles(t, after))
			}

			// The next write goes through.
			if _, p := epochs(t, after); p != 0 {
				if err := after.Discard("w", "alice", p); err != nil {
					t.Fatal(err)
				}
			}
			a, _ := epochs(t, after)
			putActive(t, after, testShare(t, "w", "alice", a+1))
		})
	}
}

// TestReadOnlyDirectoryKeepsThePreviousShare: the share directory is made
// read-only (as by an operator, or a file system remounted read-only):
// storing a new epoch fails, and the previous share stays readable.
// Root ignores directory permissions, so this runs as another user only;
// TestRealFileSystemFaults covers the read-only case for root.
func TestReadOnlyDirectoryKeepsThePreviousShare(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only directories")
	}
	t.Parallel()
	s, _ := newStore(t)
	first := testShare(t, "w", "alice", 1)
	putActive(t, s, first)
	dir := slotDir(s, "w", "alice")
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if err := s.PutPending(testShare(t, "w", "alice", 2)); err == nil {
		t.Fatal("a share was stored into a read-only directory")
	}
	got, err := s.Active("w", "alice")
	if err != nil {
		t.Fatal(err)
	}
	sameShare(t, got, first)
	if _, err := os.Stat(filepath.Join(dir, "2.share")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("2.share: %v", err)
	}
}

// TestRealFileSystemFaults stores shares on a real, small file system
// (sharestest.SmallFS: root only), fills it, and then remounts it
// read-only: storing the next epoch fails with ENOSPC, then EROFS, and
// the previous share stays intact and readable throughout.
func TestRealFileSystemFaults(t *testing.T) {
	dir, fill, readOnly := sharestest.SmallFS(t, 1<<20)
	kr := sharestest.NewMemoryKeyring()
	s, err := shares.Open(dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	first := testShare(t, "w", "alice", 1)
	putActive(t, s, first)
	check := func(what string) {
		t.Helper()
		after, err := shares.Open(dir, kr)
		if err != nil && !errors.Is(err, syscall.EROFS) {
			t.Fatalf("%s: reopen: %v", what, err)
		}
		if after == nil {
			after = s
		}
		got, err := after.Active("w", "alice")
		if err != nil {
			t.Fatalf("%s: the previous share: %v", what, err)
		}
		sameShare(t, got, first)
		if _, p := epochs(t, after); p != 0 {
			t.Fatalf("%s: epoch %d pending", what, p)
		}
	}
	fill()
	if err := s.PutPending(testShare(t, "w", "alice", 2)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("on a full disk: got %v, want ENOSPC", err)
	}
	check("full disk")
	readOnly()
	if err := s.PutPending(testShare(t, "w", "alice", 2)); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("on a read-only file system: got %v, want EROFS", err)
	}
	check("read-only file system")
}
