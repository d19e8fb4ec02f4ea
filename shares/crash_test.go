package shares_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paratro/paratro/shares"
)

var errCrash = errors.New("simulated crash")

// epochs reads which epoch is active and which pending (0 for none).
func epochs(t *testing.T, s *shares.Store) (active, pending uint64) {
	t.Helper()
	if sh, err := s.Active("w", "alice"); err == nil {
		active = sh.Epoch
	} else if !errors.Is(err, shares.ErrNotFound) {
		t.Fatalf("Active: %v", err)
	}
	if sh, err := s.Pending("w", "alice"); err == nil {
		pending = sh.Epoch
	} else if !errors.Is(err, shares.ErrNotFound) {
		t.Fatalf("Pending: %v", err)
	}
	return active, pending
}

// slotFiles lists the files in the w/alice slot directory, temp files as
// "tmp".
func slotFiles(t *testing.T, s *shares.Store) []string {
	t.Helper()
	entries, err := os.ReadDir(slotDir(s, "w", "alice"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			name = "tmp"
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// TestCrashDuringUpdates stops each update at each rename as a crash
// would, then checks that a fresh Store sees exactly the old state or the
// new one, and that the next write clears what the crash left behind.
func TestCrashDuringUpdates(t *testing.T) {
	t.Parallel()
	put := func(epoch uint64) func(t *testing.T, s *shares.Store) error {
		return func(t *testing.T, s *shares.Store) error { return s.PutPending(testShare(t, "w", "alice", epoch)) }
	}
	commit := func(s *shares.Store) error { return s.Commit("w", "alice", 2) }
	discard := func(epoch uint64) func(t *testing.T, s *shares.Store) error {
		return func(t *testing.T, s *shares.Store) error { return s.Discard("w", "alice", epoch) }
	}
	tests := []struct {
		name          string
		active        uint64 // before the operation
		pending       uint64
		op            func(t *testing.T, s *shares.Store) error
		point         string
		wantActive    uint64 // as seen after the crash
		wantPending   uint64
		wantLeftovers []string // files besides those the state names
	}{
		{"a crash before the new share is renamed keeps the old state", 1, 0, put(2), "before-rename 2.share", 1, 0, []string{"tmp"}},
		{"a crash after the new share is renamed keeps the old state", 1, 0, put(2), "after-rename 2.share", 1, 0, []string{"2.share"}},
		{"a crash before the manifest names the pending share keeps the old state", 1, 0, put(2), "before-rename state", 1, 0, []string{"2.share", "tmp"}},
		{"a crash after the manifest names the pending share has it pending", 1, 0, put(2), "after-rename state", 1, 2, nil},
		{"a crash while storing a wallet's first share leaves no share", 0, 0, put(1), "after-rename 1.share", 0, 0, []string{"1.share"}},
		{"a crash before a commit's manifest rename keeps epoch 2 pending", 1, 2,
			func(t *testing.T, s *shares.Store) error { return commit(s) }, "before-rename state", 1, 2, []string{"tmp"}},
		{"a crash after a commit's manifest rename has epoch 2 active", 1, 2,
			func(t *testing.T, s *shares.Store) error { return commit(s) }, "after-rename state", 2, 0, []string{"1.share"}},
		{"a crash after epoch 1 was zeroed but not removed has epoch 2 active", 1, 2,
			func(t *testing.T, s *shares.Store) error { return commit(s) }, "after-zero 1.share", 2, 0, []string{"1.share"}},
		{"a crash before a discard's manifest rename keeps epoch 2 pending", 1, 2, discard(2), "before-rename state", 1, 2, []string{"tmp"}},
		{"a crash after a discard's manifest rename has no pending epoch", 1, 2, discard(2), "after-rename state", 1, 0, []string{"2.share"}},
		{"a crash after discarding a wallet's first share leaves no share", 0, 1, discard(1), "after-remove state", 0, 0, []string{"1.share"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, kr := newStore(t)
			for e := uint64(1); e <= tt.active; e++ {
				putActive(t, s, testShare(t, "w", "alice", e))
			}
			if tt.pending != 0 {
				if err := put(tt.pending)(t, s); err != nil {
					t.Fatal(err)
				}
			}
			hit := false
			shares.SetCrashHook(s, func(point string) error {
				if point == tt.point {
					hit = true
					return errCrash
				}
				return nil
			})
			if err := tt.op(t, s); !errors.Is(err, errCrash) || !hit {
				t.Fatalf("operation returned %v (crash point reached: %v)", err, hit)
			}

			after, err := shares.Open(s.Dir(), kr)
			if err != nil {
				t.Fatal(err)
			}
			if a, p := epochs(t, after); a != tt.wantActive || p != tt.wantPending {
				t.Fatalf("after the crash: active %d, pending %d; want %d, %d", a, p, tt.wantActive, tt.wantPending)
			}
			wantFiles := slices.Clone(tt.wantLeftovers)
			for _, e := range []uint64{tt.wantActive, tt.wantPending} {
				if e != 0 {
					wantFiles = append(wantFiles, strconv.FormatUint(e, 10)+".share")
				}
			}
			if tt.wantActive+tt.wantPending != 0 {
				wantFiles = append(wantFiles, "state")
			}
			slices.Sort(wantFiles)
			if got := slotFiles(t, after); !slices.Equal(got, wantFiles) {
				t.Errorf("files after the crash = %v, want %v", got, wantFiles)
			}

			t.Run("the next refresh succeeds and clears the leftovers", func(t *testing.T) {
				if tt.wantPending != 0 {
					if err := after.Discard("w", "alice", tt.wantPending); err != nil {
						t.Fatal(err)
					}
				}
				next := tt.wantActive + 1
				putActive(t, after, testShare(t, "w", "alice", next))
				want := []string{strconv.FormatUint(next, 10) + ".share", "state"}
				if got := slotFiles(t, after); !slices.Equal(got, want) {
					t.Errorf("files = %v, want %v", got, want)
				}
			})
		})
	}
}

// TestLeftoverFiles puts files a crash could leave behind into a slot and
// checks that reads ignore them and the next write removes them.
func TestLeftoverFiles(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	putActive(t, s, testShare(t, "w", "alice", 1))
	putActive(t, s, testShare(t, "w", "alice", 2))
	dir := slotDir(s, "w", "alice")
	writeFile(t, filepath.Join(dir, ".tmp-12345"), []byte("PRTSHARE\x01\x01half a share"))
	writeFile(t, filepath.Join(dir, "7.share"), []byte("PRTSHARE\x01\x01torn"))
	writeFile(t, filepath.Join(dir, "1.share"), readFile(t, sharePath(s, "w", "alice", 2)))
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("not ours"))

	t.Run("reads ignore files the manifest does not name", func(t *testing.T) {
		if a, p := epochs(t, s); a != 2 || p != 0 {
			t.Errorf("active %d, pending %d; want 2, 0", a, p)
		}
		list, err := s.List()
		if err != nil || len(list) != 1 || list[0].Epoch != 2 {
			t.Errorf("List = %v, %v; want only epoch 2", list, err)
		}
	})
	t.Run("the next write removes the leftovers and keeps foreign files", func(t *testing.T) {
		if err := s.PutPending(testShare(t, "w", "alice", 3)); err != nil {
			t.Fatal(err)
		}
		want := []string{"2.share", "3.share", "notes.txt", "state"}
		if got := slotFiles(t, s); !slices.Equal(got, want) {
			t.Errorf("files = %v, want %v", got, want)
		}
	})
}
