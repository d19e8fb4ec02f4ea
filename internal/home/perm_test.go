//go:build unix

package home

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
)

// Case 31 of SECURITY.md (c): a home under umask 000 is still private.
// Not parallel: the umask belongs to the whole process.
func TestHomeModesUnderUmaskZero(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })

	dir := filepath.Join(t.TempDir(), "new", "ana")
	h, err := Init(dir, sharestest.NewMemoryKeyring(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	ben, _ := identity.New("ben")
	if _, err := h.Trust(ben.Public); err != nil {
		t.Fatal(err)
	}
	if err := h.SaveWallet(&Wallet{ID: "wal_aaaaaaaaaaaaaaaa", Name: "ops", Chain: "ethereum", Scheme: "ecdsa", Required: 2}); err != nil {
		t.Fatal(err)
	}
	// The home, identity.json, trusted.json, wallets/ and its record,
	// shares/ and the store's files.
	sharestest.CheckPrivateModes(t, dir, 6)
}

// Case 31 of SECURITY.md (c): a home other users can write to, or that
// belongs to another user, is refused when it is opened (every command
// opens it first) and when an identity would be made or restored in it:
// whoever can write there can replace identity.json, trusted.json and the
// wallet records. Nothing in it is changed.
func TestHomeRefusesADirectoryOthersControl(t *testing.T) {
	tests := []struct {
		name    string
		mode    fs.FileMode
		uid     int // -1: keep
		message string
	}{
		{"a world-writable home", 0o777, -1, "can be written by other users (mode 0777); fix it with: chmod 700 "},
		{"a group-writable home", 0o770, -1, "can be written by other users (mode 0770)"},
		{"a home only others can write", 0o702, -1, "can be written by other users (mode 0702)"},
		{"a home of another user", 0o700, 65534, "belongs to another user (uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.uid >= 0 && os.Geteuid() != 0 {
				t.Skip("giving a directory to another user needs root (CI and the dev container run as root)")
			}
			kr := sharestest.NewMemoryKeyring()
			h := initAt(t, kr)
			unsafe := func(dir string) {
				t.Helper()
				if err := os.Chmod(dir, tt.mode); err != nil {
					t.Fatal(err)
				}
				if tt.uid >= 0 {
					if err := os.Chown(dir, tt.uid, -1); err != nil {
						t.Fatal(err)
					}
				}
			}
			unsafe(h.Dir)
			before := snapshot(t, h.Dir)

			_, err := Open(h.Dir, kr)
			wantInsecure(t, err, h.Dir, tt.message)
			_, err = ReplaceIdentity(h.Dir, kr, mustIdentity(t, "ana"))
			wantInsecure(t, err, h.Dir, tt.message)
			if after := snapshot(t, h.Dir); after != before {
				t.Errorf("the refused home changed:\nbefore %s\nafter  %s", before, after)
			}

			// A directory prepared by someone else, with a trusted.json
			// planted in it, is not made a home.
			planted := filepath.Join(t.TempDir(), "planted")
			if err := os.Mkdir(planted, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(planted, "trusted.json"), []byte("[]\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			unsafe(planted)
			_, err = Init(planted, kr, "ana")
			wantInsecure(t, err, planted, tt.message)
			_, err = InitWith(planted, kr, mustIdentity(t, "ana"))
			wantInsecure(t, err, planted, tt.message)
			if _, err := os.Stat(filepath.Join(planted, identity.FileName)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("an identity was written into the refused directory: %v", err)
			}
		})
	}
	t.Run("a home others can only read opens", func(t *testing.T) {
		kr := sharestest.NewMemoryKeyring()
		h := initAt(t, kr)
		if err := os.Chmod(h.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(h.Dir, kr); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a home that does not exist is still reported as having no identity", func(t *testing.T) {
		_, err := Open(filepath.Join(t.TempDir(), "nobody"), sharestest.NewMemoryKeyring())
		if !errors.Is(err, ErrNoIdentity) {
			t.Fatalf("got %v, want ErrNoIdentity", err)
		}
	})
}

func initAt(t *testing.T, kr shares.Keyring) *Home {
	t.Helper()
	h, err := Init(filepath.Join(t.TempDir(), "ana"), kr, "ana")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustIdentity(t *testing.T, name string) *identity.Identity {
	t.Helper()
	id, err := identity.New(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func wantInsecure(t *testing.T, err error, dir, message string) {
	t.Helper()
	if !errors.Is(err, shares.ErrInsecureDir) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), message) {
		t.Fatalf("got %v, want an insecure-directory error naming %s and saying %q", err, dir, message)
	}
}

// snapshot lists every entry under dir with its mode, owner and contents.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b.WriteString(path + " " + fi.Mode().String())
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			b.WriteString(" uid " + strconv.Itoa(int(st.Uid)))
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b.Write(data)
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
