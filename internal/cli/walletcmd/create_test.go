package walletcmd_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paratro/paratro/internal/cli/clitest"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares"
)

// countingRelay is a relay that answers every request with 400 and counts
// them: a command that must not reach the relay leaves it at zero.
func countingRelay(t *testing.T) (url string, requests *atomic.Int64) {
	t.Helper()
	requests = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":{"code":"bad_request","message":"counting relay: no requests expected"}}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

// trustParties trusts ben and cid in the home at dir, so that
// "--parties ana,ben,cid" resolves.
func trustParties(t *testing.T, dir string) {
	t.Helper()
	kr, err := shares.OpenFileKeyring(filepath.Join(dir, "keyring.json"), []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Close()
	h, err := home.Open(dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ben", "cid"} {
		id, err := identity.New(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Trust(id.Public); err != nil {
			t.Fatal(err)
		}
	}
}

// tree is every file and directory under dir, by path relative to it, with
// its mode and contents: what a command must leave as it was.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = fi.Mode().String()
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[rel] += " " + string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, v := range after {
		if w, ok := before[p]; !ok {
			t.Errorf("%s was written", p)
		} else if w != v {
			t.Errorf("%s was changed", p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s was removed", p)
		}
	}
}

// Case 1 of SECURITY.md (c): a threshold that cannot make a wallet is a
// usage error (exit 2) naming --threshold, before the home is opened or
// the relay is asked anything.
func TestWalletCreateRefusesBadThresholds(t *testing.T) {
	f, dir, _ := addressHome(t)
	trustParties(t, dir)
	url, requests := countingRelay(t)
	for _, c := range []struct{ name, threshold, want string }{
		{"required above total", "4-of-3", "required must be between 2 and total (3)"},
		{"required zero", "0-of-3", "required must be between 2 and total"},
		{"required negative", "-1-of-3", "got -1"},
		{"required one: every share would be the key", "1-of-3", "required must be at least 2"},
		{"one of one", "1-of-1", "--threshold"},
		{"total above 64", "2-of-65", "total must be between 2 and 64"},
		{"all of 65", "65-of-65", "total must be between 2 and 64"},
		{"a total too large for an int", "2-of-99999999999999999999", "whole numbers"},
		{"words", "two-of-three", "whole numbers"},
		{"a fraction", "2.5-of-3", "whole numbers"},
		{"hex", "0x2-of-3", "whole numbers"},
		{"no separator", "23", "write it as REQUIRED-of-TOTAL"},
		{"only required", "2-of-", "whole numbers"},
		{"empty", "''", "give --threshold"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := tree(t, dir)
			out, _, err := clitest.Run(t, f, "wallet create --name ops --parties ana,ben,cid --threshold "+c.threshold+" --relay "+url+" --home "+dir)
			if code := exitcode.For(err); code != exitcode.Usage {
				t.Fatalf("exit %d (%v), want %d", code, err, exitcode.Usage)
			}
			if !strings.Contains(err.Error(), "--threshold") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want one naming --threshold and saying %q", err, c.want)
			}
			if out != "" {
				t.Errorf("printed %q", out)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("the relay got %d requests", n)
			}
			sameTree(t, before, tree(t, dir))
		})
	}
	t.Run("a threshold without a value", func(t *testing.T) {
		_, _, err := clitest.Run(t, f, "wallet create --name ops --parties ana,ben,cid --relay "+url+" --home "+dir+" --threshold")
		if code := exitcode.For(err); code != exitcode.Usage || !strings.Contains(err.Error(), "threshold") {
			t.Fatalf("exit %d: %v", code, err)
		}
	})
	t.Run("a home that does not exist is not created", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nobody")
		_, _, err := clitest.Run(t, f, "wallet create --name ops --parties ana,ben,cid --threshold 1-of-3 --relay "+url+" --home "+missing)
		if exitcode.For(err) != exitcode.Usage {
			t.Fatalf("got %v", err)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Errorf("%s exists after the refusal: %v", missing, err)
		}
	})
	if n := requests.Load(); n != 0 {
		t.Fatalf("the relay got %d requests", n)
	}
	// The counting relay does see a command that gets that far: a good
	// threshold reaches it (and fails on its 400).
	t.Run("a good threshold reaches the relay", func(t *testing.T) {
		_, _, err := clitest.Run(t, f, "wallet create --name ops --parties ana,ben,cid --threshold 2-of-3 --relay "+url+" --home "+dir)
		if err == nil || exitcode.For(err) == exitcode.Usage || requests.Load() == 0 {
			t.Fatalf("got %v after %d requests; want a relay failure after at least one", err, requests.Load())
		}
	})
}
