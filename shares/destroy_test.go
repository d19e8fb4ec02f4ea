package shares_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
)

// doomedFixture is a store holding the doomed wallet (active epoch 1 and
// pending epoch 2) and a kept wallet with two parties.
type doomedFixture struct {
	s      *shares.Store
	kr     shares.Keyring
	kept   []*shares.Share
	doomed *shares.Share // the active one
	files  map[string][]byte
}

func newDoomedFixture(t *testing.T, kr shares.Keyring) *doomedFixture {
	t.Helper()
	s, err := shares.Open(filepath.Join(t.TempDir(), "data"), kr)
	if err != nil {
		t.Fatal(err)
	}
	f := &doomedFixture{s: s, kr: kr, doomed: testShare(t, "doomed", "alice", 1), files: map[string][]byte{}}
	putActive(t, s, f.doomed)
	if err := s.PutPending(testShare(t, "doomed", "alice", 2)); err != nil {
		t.Fatal(err)
	}
	for _, party := range []string{"alice", "bob"} {
		sh := testShare(t, "kept", party, 1)
		putActive(t, s, sh)
		f.kept = append(f.kept, sh)
	}
	dir := filepath.Join(s.Dir(), "shares", "doomed")
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			f.files[path] = readFile(t, path)
		}
		return err
	})
	if len(f.files) != 3 {
		t.Fatalf("the doomed wallet has %d files, want 3", len(f.files))
	}
	return f
}

// checkKept fails unless the kept wallet's shares open from a fresh Store.
func (f *doomedFixture) checkKept(t *testing.T, s *shares.Store) {
	t.Helper()
	for _, want := range f.kept {
		got, err := s.Active(want.WalletID, want.PartyID)
		if err != nil {
			t.Fatalf("the kept wallet: %v", err)
		}
		sameShare(t, got, want)
	}
}

// checkGone fails unless s holds nothing of the doomed wallet: no share,
// no file or directory named for it, no file that mentions it, and its old
// sealed files, put back, no longer open.
func (f *doomedFixture) checkGone(t *testing.T, s *shares.Store) {
	t.Helper()
	for _, get := range []func(string, string) (*shares.Share, error){s.Active, s.Pending} {
		if _, err := get("doomed", "alice"); !errors.Is(err, shares.ErrNotFound) {
			t.Errorf("after Destroy: %v, want ErrNotFound", err)
		}
	}
	filepath.WalkDir(s.Dir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(d.Name(), "doomed") {
			t.Errorf("%s is still there", path)
		}
		if d.Type().IsRegular() && bytes.Contains(readFile(t, path), []byte("doomed")) {
			t.Errorf("%s mentions the destroyed wallet", path)
		}
		return nil
	})
	for path, data := range f.files {
		os.MkdirAll(filepath.Dir(path), 0o700)
		writeFile(t, path, data)
	}
	defer os.RemoveAll(filepath.Join(s.Dir(), "shares", "doomed"))
	if _, err := s.Active("doomed", "alice"); !errors.Is(err, shares.ErrAuth) {
		t.Errorf("the destroyed wallet's old files, put back: %v, want ErrAuth (sealed under a deleted key)", err)
	}
}

func TestDestroy(t *testing.T) {
	t.Parallel()
	keyrings := map[string]func(t *testing.T) shares.Keyring{
		"memory keyring": func(*testing.T) shares.Keyring { return sharestest.NewMemoryKeyring() },
		"file keyring": func(t *testing.T) shares.Keyring {
			kr, err := shares.OpenFileKeyring(filepath.Join(t.TempDir(), "keyring.json"), []byte("correct horse"))
			if err != nil {
				t.Fatal(err)
			}
			return kr
		},
	}
	for name, newKeyring := range keyrings {
		t.Run("with a "+name+", Destroy erases one wallet and keeps the others", func(t *testing.T) {
			t.Parallel()
			f := newDoomedFixture(t, newKeyring(t))
			oldKEK := shares.KEKName(f.s)
			if err := f.s.Destroy("doomed", "alice"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.kr.Get(oldKEK); !errors.Is(err, shares.ErrNotFound) {
				t.Errorf("the old key-encryption key %s: %v, want ErrNotFound", oldKEK, err)
			}
			if shares.KEKName(f.s) == oldKEK {
				t.Errorf("the KEK's name did not change")
			}
			f.checkKept(t, f.s)
			f.checkGone(t, f.s)
			reopened, err := shares.Open(f.s.Dir(), f.kr)
			if err != nil {
				t.Fatal(err)
			}
			f.checkKept(t, reopened)

			t.Run("a second Destroy of it succeeds and replaces the key again", func(t *testing.T) {
				second := shares.KEKName(reopened)
				if err := reopened.Destroy("doomed", "alice"); err != nil {
					t.Fatal(err)
				}
				if _, err := f.kr.Get(second); !errors.Is(err, shares.ErrNotFound) {
					t.Errorf("the previous KEK %s: %v, want ErrNotFound", second, err)
				}
				f.checkKept(t, reopened)
			})
		})
	}
	t.Run("the memory keyring holds only the new key afterwards", func(t *testing.T) {
		t.Parallel()
		kr := sharestest.NewMemoryKeyring()
		f := newDoomedFixture(t, kr)
		if err := f.s.Destroy("doomed", "alice"); err != nil {
			t.Fatal(err)
		}
		if names := kr.Names(); len(names) != 1 || names[0] != shares.KEKName(f.s) {
			t.Errorf("keyring entries = %v, want only %s", names, shares.KEKName(f.s))
		}
	})
	t.Run("another Store on the same directory follows the new key", func(t *testing.T) {
		t.Parallel()
		f := newDoomedFixture(t, sharestest.NewMemoryKeyring())
		other, err := shares.Open(f.s.Dir(), f.kr)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.Destroy("doomed", "alice"); err != nil {
			t.Fatal(err)
		}
		f.checkKept(t, other)
	})
	t.Run("an invalid wallet id is refused", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		wantErr(t, s.Destroy("../x", "alice"), shares.ErrInvalid)
	})
}

// TestCrashDuringDestroy stops a Destroy at every point where it changes
// something, as a crash would, and checks that the next Open leaves the
// other wallet intact and the destroyed one whole (crash before the
// intent was recorded) or gone, with only the new key in the keyring.
func TestCrashDuringDestroy(t *testing.T) {
	t.Parallel()
	var points []string
	f := newDoomedFixture(t, sharestest.NewMemoryKeyring())
	shares.SetCrashHook(f.s, func(point string) error { points = append(points, point); return nil })
	if err := f.s.Destroy("doomed", "alice"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"before-rename kek-gen", "after-zero state", "after-zero 1.share", "after-zero 2.share",
		"after-set-kek", "before-rename state", "after-rename 1.share", "after-delete-kek"} {
		found := false
		for _, p := range points {
			found = found || p == want
		}
		if !found {
			t.Fatalf("crash points %q lack %q", points, want)
		}
	}
	for i, point := range points {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			kr := sharestest.NewMemoryKeyring()
			f := newDoomedFixture(t, kr)
			n := 0
			shares.SetCrashHook(f.s, func(string) error {
				n++
				if n == i+1 {
					return errCrash
				}
				return nil
			})
			if err := f.s.Destroy("doomed", "alice"); !errors.Is(err, errCrash) {
				t.Fatalf("Destroy returned %v, want the crash at point %d", err, i)
			}
			after, err := shares.Open(f.s.Dir(), kr)
			if err != nil {
				t.Fatalf("Open after the crash: %v", err)
			}
			f.checkKept(t, after)
			if i == 0 {
				got, err := after.Active("doomed", "alice")
				if err != nil {
					t.Fatalf("a crash before the intent was recorded: %v, want the wallet whole", err)
				}
				sameShare(t, got, f.doomed)
				return
			}
			if names := kr.Names(); len(names) != 1 || names[0] != shares.KEKName(after) {
				t.Errorf("keyring entries = %v, want only %s", names, shares.KEKName(after))
			}
			f.checkGone(t, after)
		})
	}
}
