package demo_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/cli/clitest"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/demo"
)

func TestDemoFlags(t *testing.T) {
	t.Run("defaults are both schemes, 2-of-3", func(t *testing.T) {
		f, _, _ := clitest.NewFactory(t)
		var got *demo.DemoOptions
		cmd := demo.NewCmdDemo(f, func(_ context.Context, o *demo.DemoOptions) error { got = o; return nil })
		cmd.SetArgs(nil)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Schemes, []ceremony.Scheme{ceremony.SchemeECDSA, ceremony.SchemeSchnorr}) || got.Required != 2 || got.Total != 3 || got.Dir != "" {
			t.Fatalf("options %+v", got)
		}
	})
	bad := map[string]string{
		"--threshold 1-of-3":  "required must be at least 2",
		"--threshold 4-of-3":  "required must be between 2 and total",
		"--threshold 2-of-10": "at most 9 holders",
		"--threshold two":     "REQUIRED-of-TOTAL",
		"--scheme rsa":        `invalid --scheme "rsa"`,
		"extra":               "takes no arguments",
		"--output yaml":       `must be "table" or "json"`,
	}
	for argv, want := range bad {
		t.Run(argv+" is a usage error", func(t *testing.T) {
			f, stdout, _ := clitest.NewFactory(t)
			_, _, err := clitest.Run(t, f, "demo "+argv)
			if !cmdutil.IsUsageError(err) || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want a usage error containing %q", err, want)
			}
			if stdout.Len() != 0 {
				t.Fatalf("printed %q", stdout)
			}
		})
	}
}

// report mirrors the parts of the JSON a script relies on.
type report struct {
	Wallets []struct {
		ID, Scheme, Chain, Address string
		PublicKey                  string `json:"public_key"`
		Epoch                      int
		Threshold                  struct{ Required, Total int }
		Signatures                 []struct {
			Digest, Signature, Address string
			PublicKey                  string `json:"public_key"`
			Signers                    []string
			Epoch                      int
		}
		Rotation struct {
			FromEpoch       int    `json:"from_epoch"`
			ToEpoch         int    `json:"to_epoch"`
			PublicKeyBefore string `json:"public_key_before"`
			PublicKeyAfter  string `json:"public_key_after"`
			Unchanged       bool
		}
	}
}

func TestDemoJSONCarriesVerifiableSignatures(t *testing.T) {
	f, _, _ := clitest.NewFactory(t)
	dir := filepath.Join(t.TempDir(), "homes")
	stdout, stderr, err := clitest.Run(t, f, "demo --scheme schnorr --output json --dir "+dir)
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, stderr)
	}
	var r report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if len(r.Wallets) != 1 {
		t.Fatalf("%d wallets", len(r.Wallets))
	}
	w := r.Wallets[0]
	if w.Scheme != "schnorr" || w.Epoch != 2 || len(w.Signatures) != 2 || !w.Rotation.Unchanged ||
		w.Rotation.PublicKeyBefore != w.Rotation.PublicKeyAfter || w.Rotation.PublicKeyAfter != w.PublicKey {
		t.Fatalf("wallet %+v", w)
	}
	if slices.Equal(w.Signatures[0].Signers, w.Signatures[1].Signers) || w.Signatures[1].Epoch != 2 {
		t.Fatalf("the second signature must come from another pair after rotation: %+v", w.Signatures)
	}
	for _, s := range w.Signatures {
		if err := bitcoin.VerifySchnorr(unhex(t, s.PublicKey), unhex(t, s.Digest), unhex(t, s.Signature)); err != nil {
			t.Fatalf("signature by %v: %v", s.Signers, err)
		}
	}
	t.Run("signers are shown by name", func(t *testing.T) {
		if !slices.Equal(w.Signatures[0].Signers, []string{"alice", "bob"}) || !slices.Equal(w.Signatures[1].Signers, []string{"bob", "carol"}) {
			t.Fatalf("signers %v and %v", w.Signatures[0].Signers, w.Signatures[1].Signers)
		}
	})
	t.Run("the holders' homes and the relay's data are kept with --dir", func(t *testing.T) {
		for _, name := range []string{"alice", "bob", "carol"} {
			for _, f := range []string{"keyring.json", "identity.json", "trusted.json"} {
				if _, err := os.Stat(filepath.Join(dir, name, f)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "relay", "relay.db")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("stderr in a pipe has step lines and no escapes", func(t *testing.T) {
		if strings.ContainsAny(stderr, "\r\x1b") || !strings.Contains(stderr, "schnorr: rotate keys ok") {
			t.Fatalf("stderr %q", stderr)
		}
	})
}

func TestDemoQuietPrintsOnlyTheTable(t *testing.T) {
	f, _, _ := clitest.NewFactory(t)
	stdout, stderr, err := clitest.Run(t, f, "demo --scheme schnorr --quiet")
	if err != nil {
		t.Fatal(err)
	}
	if stderr != "" {
		t.Fatalf("quiet demo wrote %q to stderr", stderr)
	}
	for _, want := range []string{"SCHEME", "create 2-of-3", "rotate keys", "public key unchanged", "verified by btcec BIP-340"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("table lacks %q:\n%s", want, stdout)
		}
	}
}

func TestDemoECDSAWalletSignsAndKeepsItsAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("CMP key generation and refresh take seconds")
	}
	f, _, _ := clitest.NewFactory(t)
	stdout, stderr, err := clitest.Run(t, f, "demo --scheme ecdsa -o json")
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, stderr)
	}
	var r report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	w := r.Wallets[0]
	if want, _ := ethereum.Address(unhex(t, w.PublicKey)); w.Address != want || w.Chain != "ethereum" {
		t.Fatalf("address %s does not belong to public key %s", w.Address, w.PublicKey)
	}
	for _, s := range w.Signatures {
		if err := ethereum.VerifyDigest(s.Address, unhex(t, s.Digest), unhex(t, s.Signature)); err != nil {
			t.Fatalf("signature by %v: %v", s.Signers, err)
		}
	}
	if !w.Rotation.Unchanged {
		t.Fatal("rotation changed the address")
	}
}

func TestDemoStopsWhenCancelled(t *testing.T) {
	f, _, _ := clitest.NewFactory(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cmd := demo.NewCmdDemo(f, nil)
	cmd.SetArgs([]string{"--scheme", "schnorr"})
	err := cmd.ExecuteContext(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
