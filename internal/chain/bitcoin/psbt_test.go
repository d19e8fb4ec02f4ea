package bitcoin

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/paratro/paratro/internal/fuzzseed"
)

// ---- helpers ---------------------------------------------------------------

func parseTx(t *testing.T, h string) *wire.MsgTx {
	t.Helper()
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(unhex(t, h))); err != nil {
		t.Fatal(err)
	}
	return &tx
}

// reparse serializes a packet and reads it back through ParsePSBT, as base64
// and as binary, so tests go through the same path as a PSBT file.
func reparse(t *testing.T, pk *psbt.Packet) *PSBT {
	t.Helper()
	var buf bytes.Buffer
	if err := pk.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePSBT(buf.Bytes()); err != nil {
		t.Fatalf("binary: %v", err)
	}
	p, err := ParsePSBT([]byte(base64.StdEncoding.EncodeToString(buf.Bytes()) + "\n"))
	if err != nil {
		t.Fatalf("base64: %v", err)
	}
	return p
}

func mustPrevOuts(t *testing.T, p *PSBT) map[wire.OutPoint]*wire.TxOut {
	t.Helper()
	m, err := p.PrevOuts()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sigRSV signs like CMP's SigEthereum: r||s||v with v in {0,1}.
func sigRSV(t *testing.T, priv *btcec.PrivateKey, digest []byte) []byte {
	t.Helper()
	c := ecdsa.SignCompact(priv, digest, true) // [27+4+v] || r || s
	return append(append([]byte{}, c[1:]...), c[0]-31)
}

// highS returns the same signature with s replaced by n-s (and v flipped).
func highS(t *testing.T, rsv []byte) []byte {
	t.Helper()
	var s btcec.ModNScalar
	s.SetByteSlice(rsv[32:64])
	s.Negate()
	out := bytes.Clone(rsv)
	b := s.Bytes()
	copy(out[32:64], b[:])
	out[64] ^= 1
	return out
}

func fakeOutPoint(i byte) *wire.OutPoint {
	return wire.NewOutPoint(&chainhash.Hash{0xab, i, 0x01}, uint32(i))
}

func mustErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want it to contain %q", err, want)
	}
}

// ---- BIP-143 native P2WPKH (testdata/bip143_native_p2wpkh.json) ------------

type bip143Vector struct {
	UnsignedTx string `json:"unsignedTx"`
	Inputs     []struct {
		Kind            string `json:"kind"`
		ScriptPubKey    string `json:"scriptPubKey"`
		AmountSats      int64  `json:"amountSats"`
		PrivateKey      string `json:"privateKey"`
		PublicKey       string `json:"publicKey"`
		SigHash         string `json:"sigHash"`
		Signature       string `json:"signature"`
		SignedScriptSig string `json:"signedScriptSig"`
	} `json:"inputs"`
	SignedTx string `json:"signedTx"`
}

// The P2PK input (already signed, as published) is carried as a final
// scriptSig, the P2WPKH input is the wallet's: Plan must give the published
// sighash, and signing it (RFC 6979, as the published signature was made)
// and finalizing must give the published signed transaction byte for byte.
func TestBIP143NativeP2WPKH(t *testing.T) {
	var v bip143Vector
	loadJSON(t, "bip143_native_p2wpkh.json", &v)
	pk, err := psbt.NewFromUnsignedTx(parseTx(t, v.UnsignedTx))
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range v.Inputs {
		pk.Inputs[i].WitnessUtxo = wire.NewTxOut(in.AmountSats, unhex(t, in.ScriptPubKey))
	}
	pk.Inputs[0].FinalScriptSig = unhex(t, v.Inputs[0].SignedScriptSig)
	p := reparse(t, pk)

	w := v.Inputs[1]
	pub := unhex(t, w.PublicKey)
	plan, err := p.Plan(pub, "ecdsa", Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 || plan[0].Index != 1 || plan[0].Kind != KindP2WPKH || plan[0].Amount != 600000000 {
		t.Fatalf("plan %+v", plan)
	}
	if got := hex.EncodeToString(plan[0].Digest); got != w.SigHash {
		t.Fatalf("sighash %s, want %s", got, w.SigHash)
	}

	priv, _ := btcec.PrivKeyFromBytes(unhex(t, w.PrivateKey))
	final, raw, txid, err := p.Finalize(map[int][]byte{1: sigRSV(t, priv, plan[0].Digest)}, pub)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(raw); got != v.SignedTx {
		t.Fatalf("signed tx\n got %s\nwant %s", got, v.SignedTx)
	}
	signed := parseTx(t, v.SignedTx)
	if txid != signed.TxHash().String() {
		t.Errorf("txid %s, want %s", txid, signed.TxHash())
	}
	if err := VerifyTx(raw, mustPrevOuts(t, p)); err != nil {
		t.Fatal(err)
	}
	// The finalized PSBT parses and is complete.
	fp, err := ParsePSBT(final)
	if err != nil || !fp.packet.IsComplete() {
		t.Fatalf("final psbt: %v complete=%v", err, err == nil && fp.packet.IsComplete())
	}
	// The published DER signature is what went into the witness.
	if got := hex.EncodeToString(signed.TxIn[1].Witness[0]); got != w.Signature+"01" {
		t.Errorf("witness signature %s", got)
	}
	// The receiver is unchanged: it can be planned again.
	if _, err := p.Plan(pub, "ecdsa", Mainnet); err != nil {
		t.Errorf("plan after finalize: %v", err)
	}
}

// ---- BIP-341 keyPathSpending (testdata/bip341_keypath_spending.json) -------

type bip341Vectors struct {
	KeyPathSpending []struct {
		Given struct {
			RawUnsignedTx string `json:"rawUnsignedTx"`
			UtxosSpent    []struct {
				ScriptPubKey string `json:"scriptPubKey"`
				AmountSats   int64  `json:"amountSats"`
			} `json:"utxosSpent"`
		} `json:"given"`
		Intermediary struct {
			HashAmounts, HashOutputs, HashPrevouts, HashScriptPubkeys, HashSequences string
		} `json:"intermediary"`
		InputSpending []struct {
			Given struct {
				TxinIndex       int     `json:"txinIndex"`
				InternalPrivkey string  `json:"internalPrivkey"`
				MerkleRoot      *string `json:"merkleRoot"`
				HashType        uint32  `json:"hashType"`
			} `json:"given"`
			Intermediary struct {
				InternalPubkey string `json:"internalPubkey"`
				Tweak          string `json:"tweak"`
				TweakedPrivkey string `json:"tweakedPrivkey"`
				SigHash        string `json:"sigHash"`
			} `json:"intermediary"`
		} `json:"inputSpending"`
		Auxiliary struct {
			FullySignedTx string `json:"fullySignedTx"`
		} `json:"auxiliary"`
	} `json:"keyPathSpending"`
}

func loadBIP341(t *testing.T) (v bip341Vectors, tx *wire.MsgTx, prevs map[wire.OutPoint]*wire.TxOut) {
	t.Helper()
	loadJSON(t, "bip341_keypath_spending.json", &v)
	kp := v.KeyPathSpending[0]
	tx = parseTx(t, kp.Given.RawUnsignedTx)
	prevs = map[wire.OutPoint]*wire.TxOut{}
	for i, u := range kp.Given.UtxosSpent {
		prevs[tx.TxIn[i].PreviousOutPoint] = wire.NewTxOut(u.AmountSats, unhex(t, u.ScriptPubKey))
	}
	return v, tx, prevs
}

// The sighash function Plan uses reproduces every published key-path sighash
// and the precomputed BIP-341 hashes. Only input 4 uses SIGHASH_DEFAULT (the
// type Plan signs), but it is committed to a script tree, so Plan would (and
// must) refuse it as not BIP-86; that is why the function is tested directly.
func TestBIP341KeyPathSigHashes(t *testing.T) {
	v, tx, prevs := loadBIP341(t)
	kp := v.KeyPathSpending[0]
	fetcher := txscript.NewMultiPrevOutFetcher(prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for name, pair := range map[string][2]string{
		"hashAmounts":       {hex.EncodeToString(hashes.HashInputAmountsV1[:]), kp.Intermediary.HashAmounts},
		"hashOutputs":       {hex.EncodeToString(hashes.HashOutputsV1[:]), kp.Intermediary.HashOutputs},
		"hashPrevouts":      {hex.EncodeToString(hashes.HashPrevOutsV1[:]), kp.Intermediary.HashPrevouts},
		"hashScriptPubkeys": {hex.EncodeToString(hashes.HashInputScriptsV1[:]), kp.Intermediary.HashScriptPubkeys},
		"hashSequences":     {hex.EncodeToString(hashes.HashSequenceV1[:]), kp.Intermediary.HashSequences},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s %s, want %s", name, pair[0], pair[1])
		}
	}
	defaults := 0
	for _, in := range kp.InputSpending {
		ht := txscript.SigHashType(in.Given.HashType)
		if ht == txscript.SigHashDefault {
			defaults++
		}
		got, err := taprootKeySpendSigHash(tx, hashes, ht, in.Given.TxinIndex, fetcher)
		if err != nil {
			t.Fatalf("input %d: %v", in.Given.TxinIndex, err)
		}
		if hex.EncodeToString(got) != in.Intermediary.SigHash {
			t.Errorf("input %d (hashType %#x): sighash %x, want %s", in.Given.TxinIndex, ht, got, in.Intermediary.SigHash)
		}
		// The published tweaks for inputs without a script tree are BIP-86.
		if in.Given.MerkleRoot == nil {
			_, tweak, err := TaprootOutputKey(unhex(t, in.Intermediary.InternalPubkey))
			if err != nil || hex.EncodeToString(tweak) != in.Intermediary.Tweak {
				t.Errorf("input %d: tweak %x (%v), want %s", in.Given.TxinIndex, tweak, err, in.Intermediary.Tweak)
			}
		}
	}
	if defaults != 1 {
		t.Errorf("want exactly one SIGHASH_DEFAULT vector, got %d", defaults)
	}
	// The published fully signed transaction passes VerifyTx; a flipped bit
	// in any key-path signature does not.
	raw := unhex(t, kp.Auxiliary.FullySignedTx)
	if err := VerifyTx(raw, prevs); err != nil {
		t.Fatalf("published transaction: %v", err)
	}
	signed := parseTx(t, kp.Auxiliary.FullySignedTx)
	signed.TxIn[4].Witness[0][10] ^= 1
	var buf bytes.Buffer
	_ = signed.Serialize(&buf)
	if err := VerifyTx(buf.Bytes(), prevs); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered transaction: %v", err)
	}
}

// bip341PSBT builds a PSBT of the vector transaction in which every input but
// `open` carries its published final scriptSig/witness.
func bip341PSBT(t *testing.T, open int) (*PSBT, *wire.MsgTx) {
	t.Helper()
	v, tx, prevs := loadBIP341(t)
	signed := parseTx(t, v.KeyPathSpending[0].Auxiliary.FullySignedTx)
	pk, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range tx.TxIn {
		pk.Inputs[i].WitnessUtxo = prevs[in.PreviousOutPoint]
		if i == open {
			continue
		}
		if s := signed.TxIn[i].SignatureScript; len(s) > 0 {
			pk.Inputs[i].FinalScriptSig = s
		}
		if w := signed.TxIn[i].Witness; len(w) > 0 {
			var buf bytes.Buffer
			if err := psbt.WriteTxWitness(&buf, w); err != nil {
				t.Fatal(err)
			}
			pk.Inputs[i].FinalScriptWitness = buf.Bytes()
		}
	}
	return reparse(t, pk), tx
}

// Input 0 of the vectors is a key-path output without script tree, i.e. a
// BIP-86 output of internal key d6889c…: Plan recognises it as the wallet's.
// The vector signs it with SIGHASH_SINGLE, which Plan refuses; with the PSBT
// default (SIGHASH_DEFAULT) it is signed with the published tweaked private
// key, and the whole 9-input transaction (8 published signatures of all
// kinds + ours) passes VerifyTx.
func TestBIP341PlanAndFinalizeKeyPath(t *testing.T) {
	v, _, _ := loadBIP341(t)
	in0 := v.KeyPathSpending[0].InputSpending[0]
	if in0.Given.TxinIndex != 0 || in0.Given.MerkleRoot != nil {
		t.Fatal("vector layout changed")
	}
	xonly := unhex(t, in0.Intermediary.InternalPubkey)

	p, _ := bip341PSBT(t, 0)
	p.packet.Inputs[0].SighashType = txscript.SigHashSingle
	p = reparse(t, p.packet)
	_, err := p.Plan(xonly, "schnorr", Mainnet)
	mustErr(t, err, "input 0 asks for sighash type 0x3")

	p, _ = bip341PSBT(t, 0)
	plan, err := p.Plan(xonly, "schnorr", Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 || plan[0].Index != 0 || plan[0].Kind != KindP2TR || plan[0].Amount != 420000000 {
		t.Fatalf("plan %+v", plan)
	}
	tweaked, _ := btcec.PrivKeyFromBytes(unhex(t, in0.Intermediary.TweakedPrivkey))
	sig, err := schnorr.Sign(tweaked, plan[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	_, raw, _, err := p.Finalize(map[int][]byte{0: sig.Serialize()}, xonly)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyTx(raw, mustPrevOuts(t, p)); err != nil {
		t.Fatal(err)
	}

	// Input 4 (SIGHASH_DEFAULT, but with a script tree) is not a BIP-86
	// output of its internal key: Plan names it as someone else's.
	in4 := v.KeyPathSpending[0].InputSpending[3]
	if in4.Given.TxinIndex != 4 {
		t.Fatal("vector layout changed")
	}
	p, _ = bip341PSBT(t, 4)
	_, err = p.Plan(unhex(t, in4.Intermediary.InternalPubkey), "schnorr", Mainnet)
	mustErr(t, err, "input 4 pays to bc1pjxmy65eywgafs5tsunw95ruycpqcqnev6ynxp7jaasylcgtcxczs")
	mustErr(t, err, "not to this wallet")
}

// ---- round trips with keys made here ---------------------------------------

// newSpend builds a 2-input spend from ownScript: 0.01 + 0.005 BTC to an
// outside P2WPKH (0.01 BTC) and change back to ownScript (0.0049 BTC).
func newSpend(t testing.TB, ownScript []byte) *psbt.Packet {
	t.Helper()
	other, _ := btcec.NewPrivateKey()
	otherScript, _ := p2wpkhScript(other.PubKey().SerializeCompressed())
	pk, err := psbt.New(
		[]*wire.OutPoint{fakeOutPoint(1), fakeOutPoint(2)},
		[]*wire.TxOut{wire.NewTxOut(1000000, otherScript), wire.NewTxOut(490000, ownScript)},
		2, 0, []uint32{wire.MaxTxInSequenceNum - 2, wire.MaxTxInSequenceNum - 2},
	)
	if err != nil {
		t.Fatal(err)
	}
	pk.Inputs[0].WitnessUtxo = wire.NewTxOut(1000000, ownScript)
	pk.Inputs[1].WitnessUtxo = wire.NewTxOut(500000, ownScript)
	return pk
}

func TestRoundTripP2WPKH(t *testing.T) {
	priv, _ := btcec.NewPrivateKey()
	pub := priv.PubKey().SerializeCompressed()
	own, _ := p2wpkhScript(pub)
	p := reparse(t, newSpend(t, own))

	// Summary, exact decimal amounts, change recognised.
	addr, _ := P2WPKHAddress(pub, Mainnet)
	sum, err := p.Summary(Mainnet, pub)
	if err != nil {
		t.Fatal(err)
	}
	outAddr := describeScript(p.packet.UnsignedTx.TxOut[0].PkScript, mustParams(t, Mainnet))
	want := fmt.Sprintf("spend 2 inputs (0.015 BTC) to %s (0.01 BTC), change %s (0.0049 BTC); fee 0.0001 BTC", outAddr, addr)
	if first := strings.SplitN(sum, "\n", 2)[0]; first != want {
		t.Fatalf("summary\n got %s\nwant %s", first, want)
	}
	if !strings.Contains(sum, fmt.Sprintf("input 1: %s 0.005 BTC from %s", fakeOutPoint(2), addr)) {
		t.Errorf("summary lacks input 1: %s", sum)
	}

	plan, err := p.Plan(pub, "ecdsa", Mainnet)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 2 {
		t.Fatalf("plan %+v", plan)
	}
	sigs := map[int][]byte{}
	for _, in := range plan {
		if in.Kind != KindP2WPKH || len(in.Digest) != 32 {
			t.Fatalf("plan %+v", in)
		}
		sigs[in.Index] = sigRSV(t, priv, in.Digest)
	}
	final, raw, txid, err := p.Finalize(sigs, pub)
	if err != nil {
		t.Fatal(err)
	}
	prevs := mustPrevOuts(t, p)
	if err := VerifyTx(raw, prevs); err != nil {
		t.Fatal(err)
	}
	tx := parseTx(t, hex.EncodeToString(raw))
	if tx.TxHash().String() != txid || len(tx.TxIn[0].Witness) != 2 || !bytes.Equal(tx.TxIn[0].Witness[1], pub) {
		t.Fatalf("tx %s witness %x", txid, tx.TxIn[0].Witness)
	}
	if fp, err := ParsePSBT(final); err != nil || !fp.packet.IsComplete() {
		t.Fatalf("final psbt: %v", err)
	}

	// Tamper one signature byte in the transaction: the engine refuses it.
	tx.TxIn[1].Witness[0][20] ^= 0x01
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	if err := VerifyTx(buf.Bytes(), prevs); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered tx: %v", err)
	}
	// A tampered signature handed to Finalize is refused there, naming the input.
	bad := map[int][]byte{0: sigs[0], 1: bytes.Clone(sigs[1])}
	bad[1][5] ^= 0x01
	_, _, _, err = p.Finalize(bad, pub)
	mustErr(t, err, "input 1:")
	if !errors.Is(err, ErrBadSignature) {
		t.Errorf("want ErrBadSignature, got %v", err)
	}

	// High S (as CMP may return) is normalised to low S: same transaction.
	hs := map[int][]byte{0: highS(t, sigs[0]), 1: highS(t, sigs[1])}
	_, raw2, _, err := p.Finalize(hs, pub)
	if err != nil {
		t.Fatalf("high-S: %v", err)
	}
	if !bytes.Equal(raw2, raw) {
		t.Fatal("high-S signatures did not normalise to the low-S transaction")
	}
	// And the engine itself would refuse a high-S DER (LOW_S policy flag).
	var r, s btcec.ModNScalar
	r.SetByteSlice(hs[0][:32])
	s.SetByteSlice(hs[0][32:64])
	highDER := derRaw(r, s)
	tx = parseTx(t, hex.EncodeToString(raw))
	tx.TxIn[0].Witness[0] = append(highDER, byte(txscript.SigHashAll))
	buf.Reset()
	_ = tx.Serialize(&buf)
	if err := VerifyTx(buf.Bytes(), prevs); err == nil {
		t.Fatal("engine accepted a high-S signature")
	}

	// Wrong lengths, bad v, missing and extra signatures.
	for name, s := range map[string][]byte{
		"64 bytes": sigs[0][:64],
		"66 bytes": append(bytes.Clone(sigs[0]), 0),
		"empty":    nil,
		"DER":      append(ecdsa.Sign(priv, plan[0].Digest).Serialize(), 1),
	} {
		_, _, _, err := p.Finalize(map[int][]byte{0: s, 1: sigs[1]}, pub)
		mustErr(t, err, "input 0: ECDSA signature must be 65 bytes")
		_ = name
	}
	v27 := bytes.Clone(sigs[0])
	v27[64] = 27
	_, _, _, err = p.Finalize(map[int][]byte{0: v27, 1: sigs[1]}, pub)
	mustErr(t, err, "v=27")
	zero := make([]byte, 65)
	_, _, _, err = p.Finalize(map[int][]byte{0: zero, 1: sigs[1]}, pub)
	mustErr(t, err, "zero or not below the curve order")
	_, _, _, err = p.Finalize(map[int][]byte{0: sigs[0]}, pub)
	mustErr(t, err, "no signature for input 1")
	_, _, _, err = p.Finalize(map[int][]byte{0: sigs[0], 1: sigs[1], 2: sigs[1]}, pub)
	mustErr(t, err, "signatures given for inputs [2]")
	// A signature by another key.
	other, _ := btcec.NewPrivateKey()
	_, _, _, err = p.Finalize(map[int][]byte{0: sigRSV(t, other, plan[0].Digest), 1: sigs[1]}, pub)
	mustErr(t, err, "not by the wallet key")
}

// derRaw DER-encodes (r, s) as given, without btcec's low-S canonicalisation.
func derRaw(r, s btcec.ModNScalar) []byte {
	enc := func(v btcec.ModNScalar) []byte {
		b := v.Bytes()
		x := bytes.TrimLeft(b[:], "\x00")
		if x[0]&0x80 != 0 {
			x = append([]byte{0}, x...)
		}
		return append([]byte{0x02, byte(len(x))}, x...)
	}
	body := append(enc(r), enc(s)...)
	return append([]byte{0x30, byte(len(body))}, body...)
}

func mustParams(t *testing.T, n Network) *chaincfg.Params {
	t.Helper()
	p, err := n.Params()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTripP2TR(t *testing.T) {
	priv, _ := btcec.NewPrivateKey()
	xonly := schnorr.SerializePubKey(priv.PubKey())
	q, tweak, err := TaprootOutputKey(xonly)
	if err != nil {
		t.Fatal(err)
	}
	own, _ := p2trScript(xonly)
	p := reparse(t, newSpend(t, own))

	addr, _ := P2TRAddress(xonly, Testnet)
	sum, err := p.Summary(Testnet, xonly)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum, "change "+addr+" (0.0049 BTC); fee 0.0001 BTC") || !strings.HasPrefix(addr, "tb1p") {
		t.Fatalf("summary: %s", sum)
	}

	plan, err := p.Plan(xonly, "schnorr", Testnet)
	if err != nil {
		t.Fatal(err)
	}
	// The tweaked private key, made from the returned tweak the way the
	// FROST ceremony will use it: d' = (d or n-d, for even Y) + t.
	var d, ts btcec.ModNScalar
	d.Set(&priv.Key)
	if priv.PubKey().SerializeCompressed()[0] == 0x03 {
		d.Negate()
	}
	ts.SetByteSlice(tweak)
	d.Add(&ts)
	tweaked := btcec.PrivKeyFromScalar(&d)
	if !bytes.Equal(schnorr.SerializePubKey(tweaked.PubKey()), q) {
		t.Fatal("d + t is not the output key's private key")
	}
	if ref := txscript.TweakTaprootPrivKey(*priv, nil); !ref.Key.Equals(&tweaked.Key) {
		t.Fatal("tweaked key differs from btcd's TweakTaprootPrivKey")
	}

	sigs := map[int][]byte{}
	for _, in := range plan {
		if in.Kind != KindP2TR {
			t.Fatalf("plan %+v", in)
		}
		s, err := schnorr.Sign(tweaked, in.Digest)
		if err != nil {
			t.Fatal(err)
		}
		sigs[in.Index] = s.Serialize()
	}
	_, raw, _, err := p.Finalize(sigs, xonly)
	if err != nil {
		t.Fatal(err)
	}
	prevs := mustPrevOuts(t, p)
	if err := VerifyTx(raw, prevs); err != nil {
		t.Fatal(err)
	}
	tx := parseTx(t, hex.EncodeToString(raw))
	if len(tx.TxIn[0].Witness) != 1 || len(tx.TxIn[0].Witness[0]) != 64 {
		t.Fatalf("witness %x", tx.TxIn[0].Witness)
	}
	tx.TxIn[0].Witness[0][63] ^= 0x80
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	if err := VerifyTx(buf.Bytes(), prevs); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered tx: %v", err)
	}

	// Signed with the untweaked key (the B13 mistake): refused.
	untweaked := map[int][]byte{}
	for _, in := range plan {
		s, _ := schnorr.Sign(priv, in.Digest)
		untweaked[in.Index] = s.Serialize()
	}
	_, _, _, err = p.Finalize(untweaked, xonly)
	mustErr(t, err, "BIP-86 tweaked key")
	// Wrong length.
	_, _, _, err = p.Finalize(map[int][]byte{0: append(bytes.Clone(sigs[0]), 1), 1: sigs[1]}, xonly)
	mustErr(t, err, "input 0: schnorr signature must be 64 bytes, got 65")

	// An input that asks for SIGHASH_ALL is signed with it (65-byte witness).
	p.packet.Inputs[1].SighashType = txscript.SigHashAll
	p = reparse(t, p.packet)
	plan, err = p.Plan(xonly, "schnorr", Testnet)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range plan {
		s, _ := schnorr.Sign(tweaked, in.Digest)
		sigs[in.Index] = s.Serialize()
	}
	_, raw, _, err = p.Finalize(sigs, xonly)
	if err != nil {
		t.Fatal(err)
	}
	if tx := parseTx(t, hex.EncodeToString(raw)); len(tx.TxIn[1].Witness[0]) != 65 {
		t.Fatalf("SIGHASH_ALL witness %x", tx.TxIn[1].Witness[0])
	}
	if err := VerifyTx(raw, prevs); err != nil {
		t.Fatal(err)
	}
}

// ---- bad input --------------------------------------------------------------

func TestPlanRefusesForeignAndBadInputs(t *testing.T) {
	priv, _ := btcec.NewPrivateKey()
	pub := priv.PubKey().SerializeCompressed()
	own, _ := p2wpkhScript(pub)
	stranger, _ := btcec.NewPrivateKey()
	strangerPub := stranger.PubKey().SerializeCompressed()
	strangerScript, _ := p2wpkhScript(strangerPub)
	strangerAddr, _ := P2WPKHAddress(strangerPub, Mainnet)

	// Input 1 pays to someone else.
	pk := newSpend(t, own)
	pk.Inputs[1].WitnessUtxo = wire.NewTxOut(500000, strangerScript)
	_, err := reparse(t, pk).Plan(pub, "ecdsa", Mainnet)
	mustErr(t, err, "input 1 pays to "+strangerAddr+", not to this wallet")
	// … unless someone else already finalized it.
	pk.Inputs[1].FinalScriptWitness = []byte{0x00}
	plan, err := reparse(t, pk).Plan(pub, "ecdsa", Mainnet)
	if err != nil || len(plan) != 1 || plan[0].Index != 0 {
		t.Fatalf("plan %+v, %v", plan, err)
	}
	// A non-standard foreign script is shown in hex.
	pk = newSpend(t, own)
	pk.Inputs[0].WitnessUtxo = wire.NewTxOut(1000000, []byte{txscript.OP_TRUE})
	_, err = reparse(t, pk).Plan(pub, "ecdsa", Mainnet)
	mustErr(t, err, "input 0 pays to script 51, not to this wallet")
	// The P2TR wallet of the same private key is a different wallet.
	pk = newSpend(t, own)
	_, err = reparse(t, pk).Plan(schnorr.SerializePubKey(priv.PubKey()), "schnorr", Mainnet)
	mustErr(t, err, "input 0 pays to bc1q")

	// Missing witness UTXO.
	pk = newSpend(t, own)
	pk.Inputs[1].WitnessUtxo = nil
	p := reparse(t, pk)
	_, err = p.Plan(pub, "ecdsa", Mainnet)
	mustErr(t, err, "input 1 ("+fakeOutPoint(2).String()+") has no witness UTXO")
	_, err = p.Summary(Mainnet, pub)
	mustErr(t, err, "has no witness UTXO")

	// Non-witness UTXO that contradicts the witness UTXO amount.
	pk = newSpend(t, own)
	prev := wire.NewMsgTx(2)
	prev.AddTxIn(wire.NewTxIn(fakeOutPoint(9), nil, nil))
	prev.AddTxOut(wire.NewTxOut(999, own))
	pk.UnsignedTx.TxIn[0].PreviousOutPoint = wire.OutPoint{Hash: prev.TxHash(), Index: 0}
	pk.Inputs[0].NonWitnessUtxo = prev
	_, err = reparse(t, pk).Plan(pub, "ecdsa", Mainnet)
	mustErr(t, err, "input 0: witness UTXO and non-witness UTXO disagree")

	// Sighash types other than ALL (p2wpkh).
	for _, ht := range []txscript.SigHashType{txscript.SigHashNone, txscript.SigHashSingle, txscript.SigHashAll | txscript.SigHashAnyOneCanPay} {
		pk = newSpend(t, own)
		pk.Inputs[0].SighashType = ht
		_, err = reparse(t, pk).Plan(pub, "ecdsa", Mainnet)
		mustErr(t, err, fmt.Sprintf("input 0 asks for sighash type %#x", uint32(ht)))
	}

	// Negative fee: outputs exceed inputs.
	pk = newSpend(t, own)
	pk.UnsignedTx.TxOut[1].Value = 600000
	_, err = reparse(t, pk).Summary(Mainnet, nil)
	mustErr(t, err, "outputs (0.016 BTC) exceed inputs (0.015 BTC): negative fee")
	// (the Plan digests are still computed; the CLI shows Summary first)

	// Duplicate input.
	pk = newSpend(t, own)
	pk.UnsignedTx.TxIn[1].PreviousOutPoint = pk.UnsignedTx.TxIn[0].PreviousOutPoint
	_, err = reparse(t, pk).Plan(pub, "ecdsa", Mainnet)
	mustErr(t, err, "a second time")

	// Wrong scheme/key combinations and networks.
	p = reparse(t, newSpend(t, own))
	_, err = p.Plan(pub, "schnorr", Mainnet)
	mustErr(t, err, "taproot internal key")
	_, err = p.Plan(pub, "eddsa", Mainnet)
	mustErr(t, err, "unknown signature scheme")
	_, err = p.Plan(pub, "ecdsa", "signet")
	mustErr(t, err, "unknown bitcoin network")
	_, err = p.Summary("", pub)
	mustErr(t, err, "unknown bitcoin network")
	// 32 bytes means a Schnorr (x-only) wallet: these inputs are not its.
	if _, _, _, err = p.Finalize(map[int][]byte{}, pub[1:]); err == nil {
		t.Fatal("finalized with a key of the other scheme")
	}
	_, _, _, err = p.Finalize(map[int][]byte{}, pub[:20])
	mustErr(t, err, "wallet key must be 33 bytes")
	// The same spend shown for testnet uses testnet addresses.
	sum, err := p.Summary(Testnet, pub)
	if err != nil || strings.Contains(sum, "bc1") || !strings.Contains(sum, "tb1q") {
		t.Fatalf("testnet summary: %v\n%s", err, sum)
	}
}

func TestParsePSBTRejects(t *testing.T) {
	priv, _ := btcec.NewPrivateKey()
	own, _ := p2wpkhScript(priv.PubKey().SerializeCompressed())
	var good bytes.Buffer
	if err := newSpend(t, own).Serialize(&good); err != nil {
		t.Fatal(err)
	}
	signedTx, _ := hex.DecodeString("0100000000010000000000")
	for name, b := range map[string][]byte{
		"empty":           nil,
		"text":            []byte("hello, this is not a psbt"),
		"raw tx hex":      []byte("0100000002fff7f7881a8099afa6940d42d1e7f6362bec"),
		"raw tx":          signedTx,
		"base64 garbage":  []byte(base64.StdEncoding.EncodeToString([]byte("not a psbt at all"))),
		"bad base64":      []byte("cHNidP8B!!!"),
		"magic only":      []byte("psbt\xff"),
		"truncated":       good.Bytes()[:good.Len()/2],
		"trailing":        append(bytes.Clone(good.Bytes()), 0x00),
		"too big":         append(bytes.Clone(good.Bytes()), make([]byte, MaxPSBTSize)...),
		"base64 trailing": []byte(base64.StdEncoding.EncodeToString(good.Bytes()) + "AAAA"),
	} {
		if _, err := ParsePSBT(b); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "psbt:") {
			t.Errorf("%s: error without psbt prefix: %v", name, err)
		}
	}
	if _, err := ParsePSBT(good.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePSBT([]byte("  " + base64.StdEncoding.EncodeToString(good.Bytes()) + "\r\n")); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyTxRejects(t *testing.T) {
	var v bip143Vector
	loadJSON(t, "bip143_native_p2wpkh.json", &v)
	raw := unhex(t, v.SignedTx)
	tx := parseTx(t, v.SignedTx)
	prevs := map[wire.OutPoint]*wire.TxOut{}
	for i, in := range v.Inputs {
		prevs[tx.TxIn[i].PreviousOutPoint] = wire.NewTxOut(in.AmountSats, unhex(t, in.ScriptPubKey))
	}
	if err := VerifyTx(raw, prevs); err != nil {
		t.Fatal(err)
	}
	// Wrong amount for the segwit input: BIP-143 commits to it.
	wrong := map[wire.OutPoint]*wire.TxOut{}
	for op, o := range prevs {
		wrong[op] = wire.NewTxOut(o.Value, o.PkScript)
	}
	wrong[tx.TxIn[1].PreviousOutPoint].Value++
	if err := VerifyTx(raw, wrong); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong amount: %v", err)
	}
	delete(wrong, tx.TxIn[0].PreviousOutPoint)
	mustErr(t, VerifyTx(raw, wrong), "input 0 spends")
	mustErr(t, VerifyTx(raw[:len(raw)-1], prevs), "transaction:")
	mustErr(t, VerifyTx(append(bytes.Clone(raw), 0), prevs), "unexpected bytes")
}

func TestFormatBTC(t *testing.T) {
	for sats, want := range map[int64]string{
		0: "0", 1: "0.00000001", 10000: "0.0001", 490000: "0.0049", 1500000: "0.015",
		100000000: "1", 2100000000000000: "21000000", 123456789: "1.23456789", -10000: "-0.0001",
	} {
		if got := FormatBTC(sats); got != want {
			t.Errorf("FormatBTC(%d) = %s, want %s", sats, got, want)
		}
	}
}

func FuzzParsePSBT(f *testing.F) {
	priv, _ := btcec.NewPrivateKey()
	own, _ := p2wpkhScript(priv.PubKey().SerializeCompressed())
	pk := newSpend(f, own)
	var buf bytes.Buffer
	_ = pk.Serialize(&buf)
	fuzzseed.Add(f, buf.Bytes())
	fuzzseed.Add(f, []byte("psbt\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePSBT(b)
		if err != nil {
			return
		}
		xonly := schnorr.SerializePubKey(priv.PubKey())
		_, _ = p.Plan(priv.PubKey().SerializeCompressed(), "ecdsa", Mainnet)
		_, _ = p.Plan(xonly, "schnorr", Mainnet)
		_, _ = p.Summary(Mainnet, nil)
	})
}
