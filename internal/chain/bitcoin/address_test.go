package bitcoin

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
)

// Vectors: testdata/addresses.json (sources in testdata/README.md).
type addressVectors struct {
	BIP86 []struct {
		Path, InternalKey, OutputKey, ScriptPubKey, Address string
	} `json:"bip86"`
	BIP341NoScriptTree []struct {
		InternalPubkey, Tweak, TweakedPubkey, ScriptPubKey string
	} `json:"bip341NoScriptTree"`
	BIP84 []struct {
		Path, Pubkey, Address string
	} `json:"bip84"`
}

func loadJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestBIP86Vectors(t *testing.T) {
	var v addressVectors
	loadJSON(t, "addresses.json", &v)
	if len(v.BIP86) != 3 {
		t.Fatalf("want 3 BIP-86 vectors, got %d", len(v.BIP86))
	}
	for _, tc := range v.BIP86 {
		internal := unhex(t, tc.InternalKey)
		q, tweak, err := TaprootOutputKey(internal)
		if err != nil {
			t.Fatalf("%s: %v", tc.Path, err)
		}
		if hex.EncodeToString(q) != tc.OutputKey {
			t.Errorf("%s: output key %x, want %s", tc.Path, q, tc.OutputKey)
		}
		// The tweak must be what the FROST ceremony needs: P + tG = Q.
		checkTweak(t, internal, tweak, q)
		addr, err := P2TRAddress(internal, Mainnet)
		if err != nil || addr != tc.Address {
			t.Errorf("%s: address %q (%v), want %s", tc.Path, addr, err, tc.Address)
		}
		script, err := p2trScript(internal)
		if err != nil || hex.EncodeToString(script) != tc.ScriptPubKey {
			t.Errorf("%s: script %x (%v), want %s", tc.Path, script, err, tc.ScriptPubKey)
		}
	}
}

// checkTweak verifies lift_x(P) + tG == Q independently of TaprootOutputKey.
func checkTweak(t *testing.T, internal, tweak, q []byte) {
	t.Helper()
	p, err := schnorr.ParsePubKey(internal)
	if err != nil {
		t.Fatal(err)
	}
	var ts btcec.ModNScalar
	if ts.SetByteSlice(tweak) {
		t.Fatal("tweak overflows")
	}
	var pj, tg, sum btcec.JacobianPoint
	p.AsJacobian(&pj)
	btcec.ScalarBaseMultNonConst(&ts, &tg)
	btcec.AddNonConst(&pj, &tg, &sum)
	sum.ToAffine()
	if got := sum.X.Bytes(); !bytes.Equal(got[:], q) {
		t.Errorf("P + tG = %x, want output key %x", got, q)
	}
}

func TestBIP341NoScriptTreeTweak(t *testing.T) {
	var v addressVectors
	loadJSON(t, "addresses.json", &v)
	for _, tc := range v.BIP341NoScriptTree {
		q, tweak, err := TaprootOutputKey(unhex(t, tc.InternalPubkey))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(tweak) != tc.Tweak {
			t.Errorf("tweak %x, want %s", tweak, tc.Tweak)
		}
		if hex.EncodeToString(q) != tc.TweakedPubkey {
			t.Errorf("tweaked key %x, want %s", q, tc.TweakedPubkey)
		}
		script, _ := p2trScript(unhex(t, tc.InternalPubkey))
		if hex.EncodeToString(script) != tc.ScriptPubKey {
			t.Errorf("script %x, want %s", script, tc.ScriptPubKey)
		}
	}
}

func TestBIP84Vectors(t *testing.T) {
	var v addressVectors
	loadJSON(t, "addresses.json", &v)
	if len(v.BIP84) != 3 {
		t.Fatalf("want 3 BIP-84 vectors, got %d", len(v.BIP84))
	}
	for _, tc := range v.BIP84 {
		addr, err := P2WPKHAddress(unhex(t, tc.Pubkey), Mainnet)
		if err != nil || addr != tc.Address {
			t.Errorf("%s: %q (%v), want %s", tc.Path, addr, err, tc.Address)
		}
		// The script Plan matches must be the one the address encodes.
		script, err := p2wpkhScript(unhex(t, tc.Pubkey))
		if err != nil {
			t.Fatal(err)
		}
		a, _ := btcutil.DecodeAddress(tc.Address, &chaincfg.MainNetParams)
		want, _ := txscript.PayToAddrScript(a)
		if !bytes.Equal(script, want) {
			t.Errorf("%s: script %x, want %x", tc.Path, script, want)
		}
	}
}

func TestAddressNetworks(t *testing.T) {
	pub := unhex(t, "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c")
	xonly := unhex(t, "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115")
	for _, tc := range []struct {
		net          Network
		wpkh, tr     string
		params       *chaincfg.Params
		wrongNetwork *chaincfg.Params
	}{
		{Mainnet, "bc1q", "bc1p", &chaincfg.MainNetParams, &chaincfg.TestNet3Params},
		{Testnet, "tb1q", "tb1p", &chaincfg.TestNet3Params, &chaincfg.MainNetParams},
		{Regtest, "bcrt1q", "bcrt1p", &chaincfg.RegressionNetParams, &chaincfg.MainNetParams},
	} {
		w, err := P2WPKHAddress(pub, tc.net)
		if err != nil || !strings.HasPrefix(w, tc.wpkh) {
			t.Errorf("%s p2wpkh: %q %v", tc.net, w, err)
		}
		r, err := P2TRAddress(xonly, tc.net)
		if err != nil || !strings.HasPrefix(r, tc.tr) {
			t.Errorf("%s p2tr: %q %v", tc.net, r, err)
		}
		for _, a := range []string{w, r} {
			dec, err := btcutil.DecodeAddress(a, tc.params)
			if err != nil || !dec.IsForNet(tc.params) {
				t.Errorf("%s: %s does not decode for its own network: %v", tc.net, a, err)
			}
			// An address of one network is not an address of another.
			if dec, err := btcutil.DecodeAddress(a, tc.wrongNetwork); err == nil && dec.IsForNet(tc.wrongNetwork) {
				t.Errorf("%s: %s accepted as a %s address", tc.net, a, tc.wrongNetwork.Name)
			}
		}
	}
	for _, bad := range []Network{"", "main", "signet", "Mainnet", "bitcoin"} {
		if _, err := P2WPKHAddress(pub, bad); err == nil || !strings.Contains(err.Error(), "unknown bitcoin network") {
			t.Errorf("network %q: err %v", bad, err)
		}
		if _, err := P2TRAddress(xonly, bad); err == nil {
			t.Errorf("network %q accepted for p2tr", bad)
		}
	}
}

func TestAddressBadKeys(t *testing.T) {
	priv, _ := btcec.NewPrivateKey()
	uncompressed := priv.PubKey().SerializeUncompressed()
	notOnCurve := bytes.Repeat([]byte{0xff}, 32) // x >= p
	for name, k := range map[string][]byte{
		"empty":        nil,
		"x-only":       schnorr.SerializePubKey(priv.PubKey()),
		"uncompressed": uncompressed,
		"bad prefix":   append([]byte{0x04}, uncompressed[1:33]...),
		"off curve":    append([]byte{0x02}, notOnCurve...),
	} {
		if _, err := P2WPKHAddress(k, Mainnet); err == nil {
			t.Errorf("P2WPKHAddress(%s) accepted", name)
		}
	}
	for name, k := range map[string][]byte{
		"empty":      nil,
		"compressed": priv.PubKey().SerializeCompressed(),
		"off curve":  notOnCurve,
	} {
		if _, err := P2TRAddress(k, Mainnet); err == nil {
			t.Errorf("P2TRAddress(%s) accepted", name)
		}
		if _, _, err := TaprootOutputKey(k); err == nil {
			t.Errorf("TaprootOutputKey(%s) accepted", name)
		}
	}
}
