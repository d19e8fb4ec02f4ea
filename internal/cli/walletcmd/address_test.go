package walletcmd_test

import (
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/cli/clitest"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/shares"
)

const passphrase = "correct-horse-battery"

// addressHome makes a home with two wallet records and no share: an
// ECDSA Ethereum wallet (the fixture key) and a Schnorr one.
func addressHome(t *testing.T) (f *cmdutil.Factory, dir, addr string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "ana")
	kr, err := shares.OpenFileKeyring(filepath.Join(dir, "keyring.json"), []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	h, err := home.Init(dir, kr, "ana")
	if err != nil {
		t.Fatal(err)
	}
	pub := ceremonytest.ECDSAShares(t)["alice"].PublicKey()
	addr, err = ethereum.Address(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*home.Wallet{
		{ID: "wal_aaaaaaaaaaaaaaaa", Name: "ops", Chain: "ethereum", Scheme: "ecdsa", Required: 2, Epoch: 1,
			PublicKey: hex.EncodeToString(pub), Address: addr},
		{ID: "wal_bbbbbbbbbbbbbbbb", Name: "taproot", Chain: "bitcoin", Scheme: "schnorr", Required: 2, Epoch: 1,
			PublicKey: hex.EncodeToString(ceremonytest.SchnorrShares(t)["alice"].PublicKey())},
	} {
		if err := h.SaveWallet(w); err != nil {
			t.Fatal(err)
		}
	}
	kr.Close()
	f, _, _ = clitest.NewFactory(t)
	f.Getenv = func(k string) string {
		return map[string]string{"PARATRO_KEYRING": "file", "PARATRO_KEYRING_PASSPHRASE": passphrase}[k]
	}
	return f, dir, addr
}

func TestWalletAddressWithoutIndexShowsTheWalletsOwn(t *testing.T) {
	f, dir, addr := addressHome(t)
	out, _, err := clitest.Run(t, f, "wallet address ops --output json --home "+dir)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Wallet, Address string
		Index           *uint32
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Address != addr || got.Index != nil || got.Wallet != "wal_aaaaaaaaaaaaaaaa" {
		t.Fatalf("got %+v (%v) from %s", got, err, out)
	}
}

func TestWalletAddressErrors(t *testing.T) {
	f, dir, _ := addressHome(t)
	for _, c := range []struct {
		name, args, want, hint string
		usage                  bool
	}{
		{"no such wallet", "wallet address nosuch --index 1", "unknown wallet", "paratro wallet list", false},
		{"a hardened index", "wallet address ops --index 2147483648", "hardened derivation unsupported", "", true},
		{"the largest uint32", "wallet address ops --index 4294967295", "hardened derivation unsupported", "", true},
		{"not a number", "wallet address ops --index seven", `invalid --index "seven"`, "", true},
		{"a negative number", "wallet address ops --index -1", `invalid --index "-1"`, "", true},
		{"a path", "wallet address ops --index m/0/1", `invalid --index "m/0/1"`, "", true},
		{"no share here", "wallet address ops --index 7", "this home holds no share of ops", "holders", false},
		{"a schnorr wallet", "wallet address taproot --index 0", "no chain code (SECURITY.md #15)", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := clitest.Run(t, f, c.args+" --home "+dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if out != "" {
				t.Fatalf("printed %q", out)
			}
			if cmdutil.IsUsageError(err) != c.usage {
				t.Fatalf("usage error %v, want %v: %v", !c.usage, c.usage, err)
			}
			if hints := strings.Join(cmdutil.Hints(err), "; "); !strings.Contains(hints, c.hint) {
				t.Fatalf("hints %q, want one mentioning %q", hints, c.hint)
			}
		})
	}
}

// A Taproot wallet's address is its BIP-86 address, on the network asked
// for; btcd's own code, from the x-only key, agrees.
func TestWalletAddressOfATaprootWalletPerNetwork(t *testing.T) {
	f, dir, _ := addressHome(t)
	internal, err := schnorr.ParsePubKey(ceremonytest.SchnorrShares(t)["alice"].PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	q := schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(internal))
	for _, c := range []struct {
		network string
		params  *chaincfg.Params
	}{{"mainnet", &chaincfg.MainNetParams}, {"testnet", &chaincfg.TestNet3Params}, {"regtest", &chaincfg.RegressionNetParams}} {
		want, err := btcutil.NewAddressTaproot(q, c.params)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := clitest.Run(t, f, "wallet address taproot --network "+c.network+" --output json --home "+dir)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Address, Network string }
		if err := json.Unmarshal([]byte(out), &got); err != nil || got.Address != want.EncodeAddress() || got.Network != c.network {
			t.Fatalf("%s: got %+v (%v), btcd says %s", c.network, got, err, want.EncodeAddress())
		}
	}
	if _, _, err := clitest.Run(t, f, "wallet address taproot --network signet --home "+dir); err == nil || !strings.Contains(err.Error(), "invalid --network") {
		t.Fatalf("signet: %v", err)
	}
}
