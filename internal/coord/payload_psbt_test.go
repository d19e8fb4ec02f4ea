package coord

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
)

// btcKey is a test key as a wallet of scheme would hold it: pub is the
// 33-byte compressed key (ecdsa, P2WPKH) or the 32-byte x-only internal key
// (schnorr, BIP-86 P2TR); script and addr (regtest) are built here with btcd.
type btcKey struct {
	scheme ceremony.Scheme
	pub    []byte
	script []byte
	addr   string
}

func newBtcKey(t *testing.T, scheme ceremony.Scheme) btcKey {
	t.Helper()
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	k := btcKey{scheme: scheme}
	var addr btcutil.Address
	if scheme == ceremony.SchemeSchnorr {
		k.pub = schnorr.SerializePubKey(priv.PubKey())
		q := txscript.ComputeTaprootKeyNoScript(priv.PubKey())
		addr, err = btcutil.NewAddressTaproot(schnorr.SerializePubKey(q), &chaincfg.RegressionNetParams)
	} else {
		k.pub = priv.PubKey().SerializeCompressed()
		addr, err = btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(k.pub), &chaincfg.RegressionNetParams)
	}
	if err != nil {
		t.Fatal(err)
	}
	if k.script, err = txscript.PayToAddrScript(addr); err != nil {
		t.Fatal(err)
	}
	k.addr = addr.EncodeAddress()
	return k
}

// spendPSBT builds a PSBT (base64) spending prev (made-up coins: only their
// scripts and amounts matter) to outs.
func spendPSBT(t *testing.T, prev, outs []*wire.TxOut) string {
	t.Helper()
	tx := wire.NewMsgTx(2)
	for i := range prev {
		h := chainhash.DoubleHashH([]byte{'c', 'o', 'i', 'n', byte(i)})
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
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// sighash is input idx's digest computed here with btcd (BIP-143 SIGHASH_ALL
// for P2WPKH, BIP-341 key path SIGHASH_DEFAULT for P2TR), checked against
// what bitcoin.PSBT.Plan says for the same wallet.
func sighash(t *testing.T, data string, k btcKey, idx int) string {
	t.Helper()
	raw, _ := base64.StdEncoding.DecodeString(data)
	p, err := psbt.NewFromRawBytes(bytes.NewReader(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	for i, in := range p.UnsignedTx.TxIn {
		fetcher.AddPrevOut(in.PreviousOutPoint, p.Inputs[i].WitnessUtxo)
	}
	hashes := txscript.NewTxSigHashes(p.UnsignedTx, fetcher)
	utxo := p.Inputs[idx].WitnessUtxo
	var d []byte
	if k.scheme == ceremony.SchemeSchnorr {
		d, err = txscript.CalcTaprootSignatureHash(hashes, txscript.SigHashDefault, p.UnsignedTx, idx, fetcher)
	} else {
		d, err = txscript.CalcWitnessSigHash(utxo.PkScript, hashes, txscript.SigHashAll, p.UnsignedTx, idx, utxo.Value)
	}
	if err != nil {
		t.Fatal(err)
	}
	pk, err := bitcoin.ParsePSBT([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pk.Plan(k.pub, string(k.scheme), bitcoin.Regtest)
	if err != nil {
		t.Fatal(err)
	}
	j := slices.IndexFunc(plan, func(x bitcoin.InputToSign) bool { return x.Index == idx })
	if j < 0 || !bytes.Equal(plan[j].Digest, d) {
		t.Fatalf("bitcoin.Plan's digest of input %d is not btcd's %x (plan %+v)", idx, d, plan)
	}
	return hex.EncodeToString(d)
}

func psbtReq(k btcKey, data, digest string, input *int) *Request {
	return &Request{Kind: ceremony.KindSign, Chain: "bitcoin", Scheme: k.scheme, Taproot: k.scheme == ceremony.SchemeSchnorr,
		Digest: digest, Payload: &Payload{Format: PayloadBtcPSBT, Data: data, Input: input, Network: "regtest"}}
}

func ptr(i int) *int { return &i }

// twoCoinSpend: two coins of k (60,000 + 45,000 sat) pay 50,000 and 30,000
// sat to two other keys and 24,000 back to k: fee 1,000 sat.
func twoCoinSpend(t *testing.T, k btcKey) (data string, payees []string) {
	t.Helper()
	p1, p2 := newBtcKey(t, ceremony.SchemeECDSA), newBtcKey(t, ceremony.SchemeSchnorr)
	data = spendPSBT(t,
		[]*wire.TxOut{wire.NewTxOut(60_000, k.script), wire.NewTxOut(45_000, k.script)},
		[]*wire.TxOut{wire.NewTxOut(50_000, p1.script), wire.NewTxOut(24_000, k.script), wire.NewTxOut(30_000, p2.script)})
	return data, []string{p1.addr, p2.addr}
}

func checkSpend(t *testing.T, in *Inspection, k btcKey, payees []string, input int) {
	t.Helper()
	for _, want := range []string{"spend 2 inputs (0.00105 BTC)", payees[0] + " (0.0005 BTC)", payees[1] + " (0.0003 BTC)",
		"change " + k.addr + " (0.00024 BTC)", "fee 0.00001 BTC", "(regtest)", "signing input " + string(rune('0'+input)) + " of 2"} {
		if !strings.Contains(in.Summary, want) {
			t.Errorf("summary %q does not say %q", in.Summary, want)
		}
	}
	if !strings.HasPrefix(payees[0], "bcrt1q") || !strings.HasPrefix(payees[1], "bcrt1p") {
		t.Fatalf("test payees %v are not regtest addresses", payees)
	}
	tr := in.Transfer
	if tr == nil {
		t.Fatal("no transfer")
	}
	if tr.Asset != "BTC" || tr.Amount == nil || tr.Amount.Int64() != 80_000 || tr.Fee == nil || tr.Fee.Int64() != 1_000 {
		t.Errorf("transfer %s %v fee %v; want BTC 80000 fee 1000", tr.Asset, tr.Amount, tr.Fee)
	}
	if !slices.Equal(tr.To, payees) {
		t.Errorf("transfer to %q; want %q (change left out)", tr.To, payees)
	}
}

func TestInspectPSBTP2WPKH(t *testing.T) {
	k := newBtcKey(t, ceremony.SchemeECDSA)
	data, payees := twoCoinSpend(t, k)
	for _, i := range []int{0, 1} {
		in, err := Inspect(psbtReq(k, data, sighash(t, data, k, i), ptr(i)), k.pub)
		if err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		checkSpend(t, in, k, payees, i)
	}
	// The digest is hex in any case.
	if _, err := Inspect(psbtReq(k, data, strings.ToUpper(sighash(t, data, k, 0)), ptr(0)), k.pub); err != nil {
		t.Errorf("upper-case digest: %v", err)
	}
}

func TestInspectPSBTP2TR(t *testing.T) {
	k := newBtcKey(t, ceremony.SchemeSchnorr)
	data, payees := twoCoinSpend(t, k)
	req := psbtReq(k, data, sighash(t, data, k, 0), ptr(0))
	in, err := Inspect(req, k.pub)
	if err != nil {
		t.Fatal(err)
	}
	checkSpend(t, in, k, payees, 0)

	// A P2TR input signed under the bare (untweaked) key would not spend it.
	req.Taproot = false
	_, err = Inspect(req, k.pub)
	wantErr(t, err, "input 0 is p2tr, but the request signs under the bare key")
}

func TestInspectPSBTP2WPKHRefusesTaproot(t *testing.T) {
	k := newBtcKey(t, ceremony.SchemeECDSA)
	data, _ := twoCoinSpend(t, k)
	req := psbtReq(k, data, sighash(t, data, k, 0), ptr(0))
	req.Taproot = true
	_, err := Inspect(req, k.pub)
	wantErr(t, err, "input 0 is p2wpkh, but the request signs under the Taproot output key")
}

func TestInspectPSBTRefusesAnotherInputsDigest(t *testing.T) {
	for _, scheme := range []ceremony.Scheme{ceremony.SchemeECDSA, ceremony.SchemeSchnorr} {
		k := newBtcKey(t, scheme)
		data, _ := twoCoinSpend(t, k)
		d0, d1 := sighash(t, data, k, 0), sighash(t, data, k, 1)
		if d0 == d1 {
			t.Fatal("both inputs have the same digest")
		}
		_, err := Inspect(psbtReq(k, data, d1, ptr(0)), k.pub)
		wantErr(t, err, "digest is not the hash of its payload")
	}
}

func TestInspectPSBTRefusesAnInputOfAnotherKey(t *testing.T) {
	for _, scheme := range []ceremony.Scheme{ceremony.SchemeECDSA, ceremony.SchemeSchnorr} {
		k, other := newBtcKey(t, scheme), newBtcKey(t, scheme)
		payee := newBtcKey(t, ceremony.SchemeECDSA)
		data := spendPSBT(t,
			[]*wire.TxOut{wire.NewTxOut(60_000, k.script), wire.NewTxOut(45_000, other.script)},
			[]*wire.TxOut{wire.NewTxOut(100_000, payee.script)})
		// Input 0 is the wallet's: its digest is right, but the PSBT as a
		// whole also spends someone else's coin without saying so.
		raw, _ := base64.StdEncoding.DecodeString(data)
		p, err := psbt.NewFromRawBytes(bytes.NewReader(raw), false)
		if err != nil {
			t.Fatal(err)
		}
		fetcher := txscript.NewMultiPrevOutFetcher(nil)
		for i, in := range p.UnsignedTx.TxIn {
			fetcher.AddPrevOut(in.PreviousOutPoint, p.Inputs[i].WitnessUtxo)
		}
		hashes := txscript.NewTxSigHashes(p.UnsignedTx, fetcher)
		var d []byte
		if scheme == ceremony.SchemeSchnorr {
			d, err = txscript.CalcTaprootSignatureHash(hashes, txscript.SigHashDefault, p.UnsignedTx, 0, fetcher)
		} else {
			d, err = txscript.CalcWitnessSigHash(k.script, hashes, txscript.SigHashAll, p.UnsignedTx, 0, 60_000)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = Inspect(psbtReq(k, data, hex.EncodeToString(d), ptr(0)), k.pub)
		wantErr(t, err, "input 1 pays to "+other.addr+", not to this wallet")
	}
}

func TestInspectPSBTRefusesMalformedRequests(t *testing.T) {
	k := newBtcKey(t, ceremony.SchemeECDSA)
	data, _ := twoCoinSpend(t, k)
	d0 := sighash(t, data, k, 0)

	_, err := Inspect(psbtReq(k, data, d0, nil), k.pub)
	wantErr(t, err, "the request's PSBT names no input to sign")

	_, err = Inspect(psbtReq(k, data, d0, ptr(5)), k.pub)
	wantErr(t, err, "the request's PSBT has no input 5 for this wallet to sign")
	_, err = Inspect(psbtReq(k, data, d0, ptr(-1)), k.pub)
	wantErr(t, err, "has no input -1")

	req := psbtReq(k, data, d0, ptr(0))
	req.Chain = "ethereum"
	_, err = Inspect(req, k.pub)
	wantErr(t, err, "a Bitcoin PSBT cannot be signed by a ethereum wallet")

	_, err = Inspect(psbtReq(k, data, d0, ptr(0)), nil)
	wantErr(t, err, "the wallet's public key is unknown here")

	_, err = Inspect(psbtReq(k, "not base64 at all!", d0, ptr(0)), k.pub)
	wantErr(t, err, "the request's PSBT: psbt: not a PSBT")
	_, err = Inspect(psbtReq(k, base64.StdEncoding.EncodeToString([]byte("psbt\xff\x00garbage")), d0, ptr(0)), k.pub)
	wantErr(t, err, "the request's PSBT: psbt: malformed")

	req = psbtReq(k, data, d0, ptr(0))
	req.Payload.Network = "signet"
	_, err = Inspect(req, k.pub)
	wantErr(t, err, `unknown bitcoin network "signet"`)

	// Outputs worth more than the inputs: a negative fee.
	payee := newBtcKey(t, ceremony.SchemeECDSA)
	neg := spendPSBT(t,
		[]*wire.TxOut{wire.NewTxOut(60_000, k.script), wire.NewTxOut(45_000, k.script)},
		[]*wire.TxOut{wire.NewTxOut(100_000, payee.script), wire.NewTxOut(5_001, k.script)})
	_, err = Inspect(psbtReq(k, neg, sighash(t, neg, k, 0), ptr(0)), k.pub)
	wantErr(t, err, "outputs (0.00105001 BTC) exceed inputs (0.00105 BTC): negative fee")
}

// Without a network the PSBT's addresses are shown for mainnet.
func TestInspectPSBTDefaultsToMainnet(t *testing.T) {
	k := newBtcKey(t, ceremony.SchemeECDSA)
	data, _ := twoCoinSpend(t, k)
	req := psbtReq(k, data, sighash(t, data, k, 0), ptr(0))
	req.Payload.Network = ""
	in, err := Inspect(req, k.pub)
	if err != nil {
		t.Fatal(err)
	}
	main, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(k.pub), &chaincfg.MainNetParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(in.Summary, "change "+main.EncodeAddress()) || !strings.Contains(in.Summary, "(mainnet)") {
		t.Errorf("summary %q does not show mainnet addresses", in.Summary)
	}
}
