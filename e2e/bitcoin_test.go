//go:build unix

package e2e_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

type psbtSignJSON struct {
	RawTx      string   `json:"raw_tx"`
	TxID       string   `json:"txid"`
	SignedPSBT string   `json:"signed_psbt"`
	Inputs     []int    `json:"inputs_signed"`
	Signers    []string `json:"signers"`
}

// From 2-of-3 Bitcoin wallets made with wallet create, a P2WPKH spend (CMP
// ECDSA) and a P2TR key-path spend (FROST, BIP-86 tweak) are signed through
// the parties; btcd's script engine, run here on the raw transaction,
// accepts both, and rejects them with one byte of a signature changed.
func TestSignBitcoinPSBTs(t *testing.T) {
	e := setup(t)
	for _, c := range []struct{ name, scheme string }{{"btc-p2wpkh", "ecdsa"}, {"btc-p2tr", "schnorr"}} {
		t.Run(c.scheme, func(t *testing.T) {
			r := e.cmd(e.parties["ben"].home, "wallet", "create", "--name", c.name, "--chain", "bitcoin", "--scheme", c.scheme,
				"--threshold", "2-of-3", "--parties", "ana,ben,vault", "--timeout", "2m", "--output", "json")
			if r.code != 0 {
				t.Fatalf("wallet create: %s", r)
			}
			var w createJSON
			if err := json.Unmarshal([]byte(r.stdout), &w); err != nil {
				t.Fatal(err)
			}
			pub, _ := hex.DecodeString(w.PublicKey)
			script := walletScript(t, c.scheme, pub)
			addr, err := btcutil.DecodeAddress(w.Address, &chaincfg.MainNetParams)
			if err != nil {
				t.Fatalf("wallet create printed address %q: %v", w.Address, err)
			}
			if got, _ := txscript.PayToAddrScript(addr); !bytes.Equal(got, script) {
				t.Fatalf("address %s is not the wallet's %s output script", w.Address, c.scheme)
			}

			// Two coins paid to the wallet (made up: the script engine needs
			// only their outputs), spent to someone else with change back.
			prev := []*wire.TxOut{wire.NewTxOut(60_000, script), wire.NewTxOut(45_000, script)}
			payee, _ := hex.DecodeString("0014" + strings.Repeat("ab", 20))
			file := writePSBT(t, filepath.Join(e.dir, c.name+".psbt"), prev, wire.NewTxOut(80_000, payee), wire.NewTxOut(24_000, script))

			r = e.cmd(e.parties["ben"].home, "wallet", "sign", w.ID, "--psbt", file, "--network", "regtest", "--output", "json")
			if r.code != 0 {
				t.Fatalf("wallet sign --psbt: %s", r)
			}
			if !strings.Contains(r.stderr, "fee 0.00001 BTC") {
				t.Errorf("the request did not say the fee: %s", r.stderr)
			}
			var out psbtSignJSON
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatal(err)
			}
			raw, _ := hex.DecodeString(out.RawTx)
			if len(out.Inputs) != 2 || len(out.Signers) != 2 {
				t.Fatalf("signed inputs %v by %v", out.Inputs, out.Signers)
			}
			if err := runScripts(raw, prev); err != nil {
				t.Fatalf("btcd's script engine rejects the %s spend: %v", c.scheme, err)
			}
			var signed wire.MsgTx
			if err := signed.Deserialize(bytes.NewReader(raw)); err != nil {
				t.Fatal(err)
			}
			if signed.TxHash().String() != out.TxID {
				t.Fatalf("txid %s, the transaction hashes to %s", out.TxID, signed.TxHash())
			}
			// One byte of the first signature changed: the engine says no.
			signed.TxIn[0].Witness[0][5] ^= 1
			var tampered bytes.Buffer
			if err := signed.Serialize(&tampered); err != nil {
				t.Fatal(err)
			}
			if runScripts(tampered.Bytes(), prev) == nil {
				t.Fatal("a tampered signature passes the script engine")
			}
		})
	}
}

// writePSBT writes to path an unsigned PSBT spending made-up coins with
// outputs prev (the script engine needs only those) to outs.
func writePSBT(t *testing.T, path string, prev []*wire.TxOut, outs ...*wire.TxOut) string {
	t.Helper()
	tx := wire.NewMsgTx(2)
	for i := range prev {
		h := chainhash.DoubleHashH([]byte(path + string(rune('a'+i))))
		tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, uint32(i)), nil, nil))
	}
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	p, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range prev {
		p.Inputs[i].WitnessUtxo = o
	}
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// walletScript is the wallet's output script, built here with btcd from the
// public key wallet create printed: P2WPKH, or BIP-86 P2TR.
func walletScript(t *testing.T, scheme string, pub []byte) []byte {
	t.Helper()
	var addr btcutil.Address
	var err error
	if scheme == "schnorr" {
		var k *btcec.PublicKey
		if k, err = schnorr.ParsePubKey(pub); err == nil {
			addr, err = btcutil.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(k)), &chaincfg.MainNetParams)
		}
	} else {
		addr, err = btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub), &chaincfg.MainNetParams)
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runScripts runs btcd's script engine with the standard flags on every
// input of raw, spending prev.
func runScripts(raw []byte, prev []*wire.TxOut) error {
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		return err
	}
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	for i, in := range tx.TxIn {
		fetcher.AddPrevOut(in.PreviousOutPoint, prev[i])
	}
	hashes := txscript.NewTxSigHashes(&tx, fetcher)
	for i := range tx.TxIn {
		vm, err := txscript.NewEngine(prev[i].PkScript, &tx, i, txscript.StandardVerifyFlags, nil, hashes, prev[i].Value, fetcher)
		if err != nil {
			return err
		}
		if err := vm.Execute(); err != nil {
			return err
		}
	}
	return nil
}

// wallet sign --psbt checks the PSBT on the initiator's side before asking
// anyone: a PSBT whose first input pays to another key's script (a Schnorr
// wallet made by wallet create here, spending its own coin and someone
// else's) is refused with exit 2 naming the input, quickly, and without a
// ceremony at the relay or a request at any party; a file that is not a
// PSBT is refused the same way.
func TestSignBitcoinPSBTRefusedBeforeAnyCeremony(t *testing.T) {
	e := setup(t)
	r := e.cmd(e.parties["ben"].home, "wallet", "create", "--name", "btc-refuse", "--chain", "bitcoin", "--scheme", "schnorr",
		"--threshold", "2-of-3", "--parties", "ana,ben,vault", "--timeout", "2m", "--output", "json")
	if r.code != 0 {
		t.Fatalf("wallet create: %s", r)
	}
	var w createJSON
	if err := json.Unmarshal([]byte(r.stdout), &w); err != nil {
		t.Fatal(err)
	}
	pub, _ := hex.DecodeString(w.PublicKey)
	own := walletScript(t, "schnorr", pub)
	otherKey, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	other := walletScript(t, "schnorr", schnorr.SerializePubKey(otherKey.PubKey()))
	otherAddr, err := btcutil.NewAddressTaproot(other[2:], &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}

	// Input 0 is someone else's coin, input 1 the wallet's.
	prev := []*wire.TxOut{wire.NewTxOut(70_000, other), wire.NewTxOut(30_000, own)}
	payee, _ := hex.DecodeString("0014" + strings.Repeat("cd", 20))
	foreign := writePSBT(t, filepath.Join(e.dir, "foreign.psbt"), prev, wire.NewTxOut(99_000, payee))
	notPSBT := filepath.Join(e.dir, "not.psbt")
	if err := os.WriteFile(notPSBT, []byte("cHNidP8 this is not a psbt\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	created := func() int {
		n := 0
		for _, l := range e.relay.logLines() {
			if l["msg"] == "ceremony created" {
				n++
			}
		}
		return n
	}
	ceremoniesBefore := created()
	marks := map[string]int{}
	for _, n := range holders {
		marks[n] = e.parties[n].mark()
	}

	for _, c := range []struct {
		file string
		want []string
	}{
		{foreign, []string{"input 0 pays to " + otherAddr.EncodeAddress(), "not to this wallet"}},
		{notPSBT, []string{"invalid --psbt", "not a PSBT"}},
	} {
		r := e.cmd(e.parties["ben"].home, "wallet", "sign", w.ID, "--psbt", c.file, "--network", "regtest", "--timeout", "1m")
		if r.code != 2 {
			t.Errorf("wallet sign --psbt %s: want exit 2: %s", filepath.Base(c.file), r)
		}
		for _, want := range c.want {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("wallet sign --psbt %s: stderr does not say %q: %s", filepath.Base(c.file), want, r)
			}
		}
		if r.elapsed > 5*time.Second {
			t.Errorf("wallet sign --psbt %s took %s to refuse: did it ask the parties?", filepath.Base(c.file), r.elapsed)
		}
	}

	// Had a request gone out, the relay would have logged its ceremony and
	// the parties would have reported it within a moment.
	time.Sleep(time.Second)
	if n := created() - ceremoniesBefore; n != 0 {
		t.Errorf("the relay created %d ceremonies for refused PSBTs", n)
	}
	for _, n := range holders {
		if ev, ok := e.parties[n].find(marks[n], func(ev event) bool { return ev.Event == "request" || ev.Kind == "sign" }); ok {
			t.Errorf("%s's party saw %s after a refused PSBT", n, ev)
		}
	}
}
