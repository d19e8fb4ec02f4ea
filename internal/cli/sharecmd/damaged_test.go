package sharecmd_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paratro/paratro/internal/cli/clitest"
	"github.com/paratro/paratro/internal/cli/exitcode"
)

// fixtureShareFile is where the fixture home keeps alice's share of wallet
// at epoch.
func fixtureShareFile(dir, wallet, epoch string) string {
	return filepath.Join(dir, "shares", "shares", wallet, hex.EncodeToString([]byte("alice")), epoch+".share")
}

// Case 3 of SECURITY.md (c) for share list: one damaged share file makes
// the command fail (exit 1) with an error naming that share and its file,
// print no partial table, and leave the file as it was.
func TestShareListWithADamagedShareFile(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, dir string, b []byte) []byte
		want   string
	}{
		{"a bit flipped", func(_ *testing.T, _ string, b []byte) []byte {
			b = bytes.Clone(b)
			b[len(b)/2] ^= 0x04
			return b
		}, "cannot be opened: authentication failed"},
		{"truncated", func(_ *testing.T, _ string, b []byte) []byte { return b[:20] }, "is truncated or not a paratro share file"},
		{"empty", func(*testing.T, string, []byte) []byte { return nil }, "is truncated or not a paratro share file"},
		{"another format version", func(_ *testing.T, _ string, b []byte) []byte {
			b = bytes.Clone(b)
			b[8] = 9
			return b
		}, "is in format version 9, which this paratro does not read"},
		{"another wallet's share swapped in", func(t *testing.T, dir string, _ []byte) []byte {
			b, err := os.ReadFile(fixtureShareFile(dir, stray, "1"))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, "cannot be opened: authentication failed (the file was changed or belongs to another wallet or party)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, dir := sharesHome(t)
			path := fixtureShareFile(dir, ops, "1")
			original, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			damaged := c.damage(t, dir, original)
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range []string{"share list", "share list --output json"} {
				out, _, err := clitest.Run(t, f, args+" --home "+dir)
				if code := exitcode.For(err); code != exitcode.Failure {
					t.Fatalf("%s: exit %d (%v), want %d", args, code, err, exitcode.Failure)
				}
				msg := err.Error()
				if !strings.Contains(msg, "share for "+ops+" (party alice, epoch 1) cannot be opened") || !strings.Contains(msg, c.want) {
					t.Fatalf("%s: error %q, want one naming the share and saying %q", args, msg, c.want)
				}
				if out != "" {
					t.Errorf("%s printed %q", args, out)
				}
				if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
					t.Errorf("%s changed the damaged file", args)
				}
			}
			if err := os.WriteFile(path, original, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := clitest.Run(t, f, "share list --home "+dir); err != nil {
				t.Fatalf("the file put back: %v", err)
			}
		})
	}
}
