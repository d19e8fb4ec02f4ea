package walletcmd_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paratro/paratro/internal/cli/clitest"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/cli/walletcmd"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/shares"
)

const someDigest = "5c2f9d0e1a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3ce1"

// Case 2 of SECURITY.md (c): wallet sign with a hardened index, in any
// form, or an index that is not one, is a usage error (exit 2) before the
// relay is asked anything; a long value is not echoed whole.
func TestWalletSignRefusesHardenedAndMalformedIndexes(t *testing.T) {
	f, dir, _ := addressHome(t)
	url, requests := countingRelay(t)
	const hardened, invalid = "hardened derivation unsupported", "give a whole number from 0 to 2147483647"
	for _, c := range []struct{ name, index, want string }{
		{"2^31", "2147483648", hardened},
		{"the largest uint32", "4294967295", hardened},
		{"2^32", "4294967296", hardened},
		{"a number past uint64", "18446744073709551616", hardened},
		{"ten thousand digits", strings.Repeat("9", 10000), hardened},
		{"an apostrophe", `"44'"`, hardened},
		{"an h", "0h", hardened},
		{"an H", "7H", hardened},
		{"a BIP-44 path", `"m/44'/60'/0'/0/0"`, hardened},
		{"a path hardened only at the end", "m/0/1h", hardened},
		{"an unhardened path", "m/0/1", invalid},
		{"negative", "-1", invalid},
		{"empty", "''", invalid},
		{"a blank", "' 7'", invalid},
		{"a sign", "+7", invalid},
		{"hex", "0x10", invalid},
		{"a fraction", "1.5", invalid},
		{"an apostrophe alone", "\"'\"", invalid},
		{"ten thousand letters", strings.Repeat("x", 10000), invalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := tree(t, dir)
			out, _, err := clitest.Run(t, f, "wallet sign ops --digest "+someDigest+" --index "+c.index+" --relay "+url+" --home "+dir)
			if code := exitcode.For(err); code != exitcode.Usage {
				t.Fatalf("exit %d (%v), want %d", code, err, exitcode.Usage)
			}
			if msg := err.Error(); !strings.Contains(msg, "invalid --index") || !strings.Contains(msg, c.want) || len(msg) > 200 {
				t.Fatalf("error %.300q (%d bytes), want a short one saying %q", msg, len(msg), c.want)
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
	t.Run("a schnorr wallet cannot derive", func(t *testing.T) {
		_, _, err := clitest.Run(t, f, "wallet sign taproot --digest "+someDigest+" --index 0 --relay "+url+" --home "+dir)
		if exitcode.For(err) != exitcode.Usage || !strings.Contains(err.Error(), "--index") || requests.Load() != 0 {
			t.Fatalf("got %v after %d relay requests", err, requests.Load())
		}
	})
	// Regression: childKey used to hide shares.ErrNotFound, so that wallet
	// sign --index failed on a home without a share instead of letting the
	// signers derive the child key.
	t.Run("an unhardened index gets as far as the relay from a home without a share", func(t *testing.T) {
		_, _, err := clitest.Run(t, f, "wallet sign ops --digest "+someDigest+" --index 2147483647 --relay "+url+" --home "+dir)
		if err == nil || exitcode.For(err) == exitcode.Usage || requests.Load() == 0 {
			t.Fatalf("got %v after %d requests; want a relay failure after at least one", err, requests.Load())
		}
	})
}

func TestParseIndex(t *testing.T) {
	for in, want := range map[string]uint32{"0": 0, "7": 7, "2147483647": 2147483647, "007": 7} {
		if got, err := walletcmd.ParseIndex(in); err != nil || got != want {
			t.Errorf("ParseIndex(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"2147483648", "1'", "m/44'/0'", "abc", ""} {
		if _, err := walletcmd.ParseIndex(in); !cmdutil.IsUsageError(err) {
			t.Errorf("ParseIndex(%q): %v, want a usage error", in, err)
		}
	}
}

// damagedShareHome is addressHome with a share of ops for the home's own
// identity whose file is then damaged (a bit flipped in its ciphertext).
// It returns the share file and its damaged bytes.
func damagedShareHome(t *testing.T) (f *cmdutil.Factory, dir, path string, damaged []byte) {
	t.Helper()
	f, dir, _ = addressHome(t)
	kr, err := shares.OpenFileKeyring(filepath.Join(dir, "keyring.json"), []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Close()
	h, err := home.Open(dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	fp := h.ID.Fingerprint()
	w, err := h.Wallet("ops")
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := hex.DecodeString(w.PublicKey)
	sh := &shares.Share{Meta: shares.Meta{WalletID: w.ID, PartyID: fp, Epoch: 1, Scheme: shares.SchemeECDSA, Required: 2,
		Parties: []string{fp, "bob", "carol"}, PublicKey: pub, ConfigDigest: make([]byte, 32)}, Secret: []byte("a share")}
	if err := h.Store.PutPending(sh); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.Commit(w.ID, fp, 1); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "shares", "shares", w.ID, hex.EncodeToString([]byte(fp)), "1.share")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f, dir, path, b
}

// Case 3 of SECURITY.md (c) for the commands that open this home's own
// share: a damaged share file fails them (exit 1) naming the share, before
// anything is asked of the relay, and the file is left as it was.
func TestWalletCommandsWithADamagedShareFile(t *testing.T) {
	f, dir, path, damaged := damagedShareHome(t)
	url, requests := countingRelay(t)
	for _, args := range []string{
		"wallet address ops --index 7",
		"wallet sign ops --index 7 --digest " + someDigest,
	} {
		t.Run(args, func(t *testing.T) {
			out, _, err := clitest.Run(t, f, args+" --relay "+url+" --home "+dir)
			if code := exitcode.For(err); code != exitcode.Failure {
				t.Fatalf("exit %d (%v), want %d", code, err, exitcode.Failure)
			}
			if msg := err.Error(); !strings.Contains(msg, "share for wal_aaaaaaaaaaaaaaaa (party ") || !strings.Contains(msg, "epoch 1) cannot be opened: authentication failed") {
				t.Fatalf("error %q, want one naming the share", msg)
			}
			if out != "" {
				t.Errorf("printed %q", out)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("the relay got %d requests", n)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
				t.Error("the damaged file was changed")
			}
		})
	}
}
