package shares_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/paratro/paratro/shares"
)

var passphrase = []byte("correct horse battery staple")

// TestFileKeyring shares one keyring between its subtests, which run in
// order: each argon2id derivation costs 64 MiB and a fraction of a second.
func TestFileKeyring(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "paratro", "keyring.json")
	kr, err := shares.OpenFileKeyring(path, passphrase)
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Close()
	small, big := randomBytes(32), randomBytes(3000)
	var reopened *shares.FileKeyring // by the first subtest

	t.Run("set values read back, also after reopening", func(t *testing.T) {
		mustSet(t, kr, "small", small)
		mustSet(t, kr, "big", big)
		mustSet(t, kr, "small", small) // overwrite
		reopened, err = shares.OpenFileKeyring(path, passphrase)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string][]byte{"small": small, "big": big} {
			if got, err := reopened.Get(name); err != nil || !bytes.Equal(got, want) {
				t.Errorf("Get(%s) = %d bytes, %v", name, len(got), err)
			}
		}
	})
	t.Run("describe names the file", func(t *testing.T) {
		if got := kr.Describe(); got != "file keyring "+path {
			t.Errorf("Describe = %q", got)
		}
	})
	t.Run("missing names give ErrNotFound", func(t *testing.T) {
		_, err := kr.Get("nope")
		wantErr(t, err, shares.ErrNotFound, "read nope from file keyring "+path+": not found")
		wantErr(t, kr.Delete("nope"), shares.ErrNotFound)
	})
	t.Run("a deleted name is gone", func(t *testing.T) {
		mustSet(t, kr, "temp", []byte("x"))
		if err := kr.Delete("temp"); err != nil {
			t.Fatal(err)
		}
		_, err := kr.Get("temp")
		wantErr(t, err, shares.ErrNotFound)
	})
	t.Run("the file is 0600", func(t *testing.T) {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("stat = %v, %v", fi.Mode(), err)
		}
	})
	t.Run("the file holds neither the secrets nor the derived key nor the passphrase", func(t *testing.T) {
		data := readFile(t, path)
		noSecretIn(t, string(data), big)
		for _, s := range [][]byte{small, passphrase, derivedKey(t, data)} {
			for _, form := range []string{string(s), hex.EncodeToString(s), base64.StdEncoding.EncodeToString(s)} {
				if bytes.Contains(data, []byte(form)) {
					t.Fatalf("keyring file contains %q", form)
				}
			}
		}
	})
	t.Run("a wrong passphrase gives a generic error", func(t *testing.T) {
		_, err := shares.OpenFileKeyring(path, []byte("Correct horse battery staple"))
		wantErr(t, err, shares.ErrWrongPassphrase)
		if err.Error() != "open file keyring "+path+": wrong passphrase" {
			t.Errorf("error = %q", err)
		}
	})
	t.Run("an entry moved to another name fails authentication", func(t *testing.T) {
		saved := readFile(t, path)
		moved := editFile(t, path, t.TempDir(), func(f map[string]any) {
			entries := f["entries"].(map[string]any)
			entries["small"] = entries["big"]
		})
		writeFile(t, path, readFile(t, moved))
		_, err := kr.Get("small")
		writeFile(t, path, saved)
		wantErr(t, err, shares.ErrAuth, "read small from file keyring "+path+": authentication failed (the entry was changed or moved)")
	})
	t.Run("a store keeps its key in the file keyring", func(t *testing.T) {
		s, err := shares.Open(t.TempDir(), kr)
		if err != nil {
			t.Fatal(err)
		}
		sh := testShare(t, "w", "alice", 1)
		putActive(t, s, sh)
		got, err := s.Active("w", "alice")
		if err != nil {
			t.Fatal(err)
		}
		sameShare(t, got, sh)
		kek, err := kr.Get(shares.KEKName(s))
		if err != nil || len(kek) != 32 {
			t.Fatalf("KEK = %d bytes, %v", len(kek), err)
		}
		if bytes.Contains(readFile(t, path), kek) {
			t.Error("the keyring file holds the KEK in clear")
		}
	})
	t.Run("a file replaced behind an open keyring is noticed", func(t *testing.T) {
		saved := readFile(t, path)
		resalted := editFile(t, path, t.TempDir(), func(f map[string]any) {
			f["kdf"].(map[string]any)["salt"] = randomBytes(16)
		})
		writeFile(t, path, readFile(t, resalted))
		_, err := kr.Get("small")
		writeFile(t, path, saved)
		if err == nil || !strings.Contains(err.Error(), "the file was replaced since it was opened; open it again") {
			t.Errorf("Get = %v, want an error saying the file was replaced", err)
		}
		if _, err := kr.Get("small"); err != nil {
			t.Errorf("Get after restoring the file: %v", err)
		}
	})
	t.Run("a closed keyring refuses to work", func(t *testing.T) {
		if _, err := reopened.Get("small"); err != nil {
			t.Fatal(err)
		}
		reopened.Close()
		if _, err := reopened.Get("small"); err == nil || !strings.Contains(err.Error(), "the keyring is closed") {
			t.Errorf("Get after Close = %v", err)
		}
	})
}

func TestFileKeyringRefusesBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "keyring.json")
	k, err := shares.OpenFileKeyring(good, passphrase)
	if err != nil {
		t.Fatal(err)
	}
	k.Close()
	kdf := func(key string, v any) func(map[string]any) {
		return func(f map[string]any) { f["kdf"].(map[string]any)[key] = v }
	}
	tests := []struct {
		name    string
		edit    func(map[string]any)
		kind    error
		message string
	}{
		{"one argon2 pass is refused", kdf("time", 1), shares.ErrWeakKDF,
			"its key derivation parameters (argon2id t=1, m=65536 KiB, p=4, 16-byte salt) are below the minimum (argon2id t=3, m=65536 KiB, p=4, 16-byte salt); refusing to use it"},
		{"8 MiB of memory is refused", kdf("memory_kib", 8192), shares.ErrWeakKDF, "m=8192 KiB"},
		{"one thread is refused", kdf("threads", 1), shares.ErrWeakKDF, "p=1,"},
		{"a short salt is refused", kdf("salt", base64.StdEncoding.EncodeToString([]byte("salt"))), shares.ErrWeakKDF, "4-byte salt"},
		{"another kdf is refused", kdf("name", "pbkdf2"), shares.ErrUnsupportedFormat, `key derivation "pbkdf2" is not supported`},
		{"a huge memory cost is refused before deriving", kdf("memory_kib", 1<<31), shares.ErrCorrupt, "beyond the maximum"},
		{"a future version is refused", func(f map[string]any) { f["version"] = 2 }, shares.ErrUnsupportedFormat, "format version 2 is not supported"},
		{"a missing check value is corrupt", func(f map[string]any) { delete(f, "check") }, shares.ErrCorrupt, "is truncated or not a paratro keyring file"},
		{"a changed check value reads as a wrong passphrase", func(f map[string]any) {
			c, _ := base64.StdEncoding.DecodeString(f["check"].(string))
			c[len(c)-1] ^= 1
			f["check"] = c
		}, shares.ErrWrongPassphrase, "wrong passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := editFile(t, good, t.TempDir(), tt.edit)
			_, err := shares.OpenFileKeyring(path, passphrase)
			wantErr(t, err, tt.kind, "open file keyring "+path+": ", tt.message)
		})
	}
	t.Run("garbage is not a keyring file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k.json")
		writeFile(t, path, []byte("PRTSHARE"))
		_, err := shares.OpenFileKeyring(path, passphrase)
		wantErr(t, err, shares.ErrCorrupt)
	})
	t.Run("an empty passphrase is refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k.json")
		_, err := shares.OpenFileKeyring(path, []byte{})
		if err == nil || err.Error() != "open file keyring "+path+": the passphrase is empty" {
			t.Errorf("error = %v", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a keyring file was created (stat: %v)", err)
		}
	})
}

// editFile copies the keyring file at path into dir, changed by edit.
func editFile(t *testing.T, path, dir string, edit func(map[string]any)) string {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal(readFile(t, path), &f); err != nil {
		t.Fatal(err)
	}
	edit(f)
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "edited.json")
	writeFile(t, out, data)
	return out
}

// derivedKey recomputes the keyring's argon2id key from the parameters in
// its file.
func derivedKey(t *testing.T, data []byte) []byte {
	t.Helper()
	var f struct {
		KDF struct {
			Time      uint32 `json:"time"`
			MemoryKiB uint32 `json:"memory_kib"`
			Threads   uint8  `json:"threads"`
			Salt      []byte `json:"salt"`
		} `json:"kdf"`
	}
	if err := json.Unmarshal(data, &f); err != nil || len(f.KDF.Salt) != 16 {
		t.Fatalf("parse keyring file: %v", err)
	}
	return argon2.IDKey(passphrase, f.KDF.Salt, f.KDF.Time, f.KDF.MemoryKiB, f.KDF.Threads, 32)
}
