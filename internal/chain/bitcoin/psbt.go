package bitcoin

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Input kinds a wallet signs.
const (
	KindP2WPKH = "p2wpkh" // BIP-143 sighash, ECDSA (CMP) signature
	KindP2TR   = "p2tr"   // BIP-341 key-path sighash, BIP-340 (FROST) signature
)

// MaxPSBTSize is the largest PSBT ParsePSBT accepts, counted on the bytes as
// given (base64 or binary).
const MaxPSBTSize = 1 << 20

// PSBT is a BIP-174 partially signed transaction (btcutil/psbt.Packet) that a
// threshold wallet signs. All methods leave the packet unchanged.
type PSBT struct {
	packet *psbt.Packet
}

// InputToSign is one input the wallet must sign: Digest (32 bytes) is what
// the ceremony signs. Amount is the spent output's value in satoshis.
type InputToSign struct {
	Index  int
	Kind   string // KindP2WPKH or KindP2TR
	Digest []byte
	Amount int64
}

// ParsePSBT reads a PSBT in binary form (starting with "psbt\xff") or base64
// (surrounding white space allowed). Input over MaxPSBTSize is refused, as is
// anything after the PSBT.
func ParsePSBT(b []byte) (p *PSBT, err error) {
	if len(b) > MaxPSBTSize {
		return nil, fmt.Errorf("psbt: %d bytes is over the %d-byte limit", len(b), MaxPSBTSize)
	}
	raw := b
	if !bytes.HasPrefix(b, []byte("psbt\xff")) {
		raw, err = base64.StdEncoding.Strict().DecodeString(string(bytes.TrimSpace(b)))
		if err != nil || !bytes.HasPrefix(raw, []byte("psbt\xff")) {
			return nil, errors.New("psbt: not a PSBT (neither binary nor base64 starting with psbt\\xff)")
		}
	}
	// The parser reads untrusted bytes; turn a library panic into an error.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("psbt: malformed: %v", r)
		}
	}()
	r := bytes.NewReader(raw)
	packet, err := psbt.NewFromRawBytes(r, false)
	if err != nil {
		return nil, fmt.Errorf("psbt: malformed: %w", err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("psbt: %d unexpected bytes after the PSBT", r.Len())
	}
	if len(packet.Inputs) != len(packet.UnsignedTx.TxIn) || len(packet.Outputs) != len(packet.UnsignedTx.TxOut) {
		return nil, errors.New("psbt: malformed: input/output sections do not match the transaction")
	}
	return &PSBT{packet: packet}, nil
}

// Serialize returns the binary PSBT.
func (p *PSBT) Serialize() ([]byte, error) {
	var buf bytes.Buffer
	if err := p.packet.Serialize(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnsignedTx returns a copy of the transaction being signed.
func (p *PSBT) UnsignedTx() *wire.MsgTx { return p.packet.UnsignedTx.Copy() }

// PrevOuts returns the outputs the transaction spends, from the inputs'
// witness UTXOs, for VerifyTx. Every input needs one.
func (p *PSBT) PrevOuts() (map[wire.OutPoint]*wire.TxOut, error) {
	tx := p.packet.UnsignedTx
	if len(tx.TxIn) == 0 || len(tx.TxOut) == 0 {
		return nil, errors.New("psbt: the transaction has no inputs or no outputs")
	}
	prevs := make(map[wire.OutPoint]*wire.TxOut, len(tx.TxIn))
	var total int64
	for i, in := range p.packet.Inputs {
		op := tx.TxIn[i].PreviousOutPoint
		if _, dup := prevs[op]; dup {
			return nil, fmt.Errorf("input %d spends %s a second time", i, op)
		}
		utxo := in.WitnessUtxo
		if utxo == nil {
			return nil, fmt.Errorf("input %d (%s) has no witness UTXO (the spent output's script and amount)", i, op)
		}
		if utxo.Value < 0 || utxo.Value > btcutil.MaxSatoshi {
			return nil, fmt.Errorf("input %d: amount %d sat is out of range", i, utxo.Value)
		}
		// If the full previous transaction is there too, it must agree:
		// a lying witness UTXO amount is the classic segwit v0 fee attack.
		if prev := in.NonWitnessUtxo; prev != nil {
			if prev.TxHash() != op.Hash || int(op.Index) >= len(prev.TxOut) {
				return nil, fmt.Errorf("input %d: the non-witness UTXO is not the transaction %s spends", i, op)
			}
			o := prev.TxOut[op.Index]
			if o.Value != utxo.Value || !bytes.Equal(o.PkScript, utxo.PkScript) {
				return nil, fmt.Errorf("input %d: witness UTXO and non-witness UTXO disagree", i)
			}
		}
		total += utxo.Value
		if total > btcutil.MaxSatoshi {
			return nil, errors.New("psbt: inputs add up to more than 21 million BTC")
		}
		prevs[op] = wire.NewTxOut(utxo.Value, bytes.Clone(utxo.PkScript))
	}
	var out int64
	for i, o := range tx.TxOut {
		if o.Value < 0 || o.Value > btcutil.MaxSatoshi {
			return nil, fmt.Errorf("output %d: amount %d sat is out of range", i, o.Value)
		}
		out += o.Value
		if out > btcutil.MaxSatoshi {
			return nil, errors.New("psbt: outputs add up to more than 21 million BTC")
		}
	}
	return prevs, nil
}

// planned is an InputToSign plus the sighash type it was computed with.
type planned struct {
	InputToSign
	hashType txscript.SigHashType
}

func isFinal(in *psbt.PInput) bool {
	return in.FinalScriptSig != nil || in.FinalScriptWitness != nil
}

// Plan returns the digests this wallet has to sign. walletPub is the 33-byte
// compressed key for scheme "ecdsa" (the wallet receives on P2WPKH) or the
// 32-byte x-only internal key for scheme "schnorr" (BIP-86 P2TR).
//
// Every input needs a witness UTXO. Every input without a final
// scriptSig/witness must pay to this wallet's script; anything else is an
// error naming the input. Digests are computed by btcd's txscript:
// CalcWitnessSigHash (BIP-143, SIGHASH_ALL) for P2WPKH and
// CalcTaprootSignatureHash (BIP-341 key path, SIGHASH_DEFAULT) for P2TR, with
// all inputs' witness UTXOs as prevouts. An input asking for another sighash
// type is refused (SIGHASH_ALL is also accepted for P2TR).
//
// A P2WPKH digest commits only to its own input's amount (BIP-143), so the
// amounts of inputs finalized by others are as trustworthy as whoever made the
// PSBT; BIP-341 digests commit to every input's amount and script.
func (p *PSBT) Plan(walletPub []byte, scheme string, net Network) ([]InputToSign, error) {
	params, err := net.Params()
	if err != nil {
		return nil, err
	}
	plan, err := p.plan(walletPub, scheme, params)
	if err != nil {
		return nil, err
	}
	out := make([]InputToSign, len(plan))
	for i := range plan {
		out[i] = plan[i].InputToSign
	}
	return out, nil
}

func (p *PSBT) plan(walletPub []byte, scheme string, params *chaincfg.Params) ([]planned, error) {
	own, kind, err := walletScript(walletPub, scheme)
	if err != nil {
		return nil, err
	}
	prevs, err := p.PrevOuts()
	if err != nil {
		return nil, err
	}
	tx := p.packet.UnsignedTx
	fetcher := txscript.NewMultiPrevOutFetcher(prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)

	var plan []planned
	for i := range p.packet.Inputs {
		in := &p.packet.Inputs[i]
		if isFinal(in) {
			continue
		}
		utxo := in.WitnessUtxo
		if !bytes.Equal(utxo.PkScript, own) {
			return nil, fmt.Errorf("input %d pays to %s, not to this wallet", i, describeScript(utxo.PkScript, params))
		}
		var digest []byte
		var ht txscript.SigHashType
		switch kind {
		case KindP2WPKH:
			if in.SighashType != 0 && in.SighashType != txscript.SigHashAll {
				return nil, fmt.Errorf("input %d asks for sighash type %#x; only SIGHASH_ALL is signed for p2wpkh", i, uint32(in.SighashType))
			}
			if in.RedeemScript != nil || in.WitnessScript != nil {
				return nil, fmt.Errorf("input %d: a p2wpkh input must not carry a redeem or witness script", i)
			}
			ht = txscript.SigHashAll
			digest, err = witnessV0SigHash(tx, hashes, i, utxo.PkScript, utxo.Value)
		case KindP2TR:
			if in.SighashType != txscript.SigHashDefault && in.SighashType != txscript.SigHashAll {
				return nil, fmt.Errorf("input %d asks for sighash type %#x; only SIGHASH_DEFAULT or SIGHASH_ALL is signed for p2tr", i, uint32(in.SighashType))
			}
			if len(in.TaprootInternalKey) != 0 && !bytes.Equal(in.TaprootInternalKey, walletPub) {
				return nil, fmt.Errorf("input %d names taproot internal key %x, not this wallet's", i, in.TaprootInternalKey)
			}
			if len(in.TaprootMerkleRoot) != 0 {
				return nil, fmt.Errorf("input %d has a taproot script tree; this wallet only spends BIP-86 key-path outputs", i)
			}
			ht = in.SighashType
			digest, err = taprootKeySpendSigHash(tx, hashes, ht, i, fetcher)
		}
		if err != nil {
			return nil, fmt.Errorf("input %d: sighash: %v", i, err)
		}
		plan = append(plan, planned{
			InputToSign: InputToSign{Index: i, Kind: kind, Digest: digest, Amount: utxo.Value},
			hashType:    ht,
		})
	}
	if len(plan) == 0 {
		return nil, errors.New("psbt: every input is already finalized; nothing for this wallet to sign")
	}
	return plan, nil
}

// witnessV0SigHash is the BIP-143 digest of a P2WPKH input (SIGHASH_ALL).
func witnessV0SigHash(tx *wire.MsgTx, hashes *txscript.TxSigHashes, idx int, pkScript []byte, amount int64) ([]byte, error) {
	return txscript.CalcWitnessSigHash(pkScript, hashes, txscript.SigHashAll, tx, idx, amount)
}

// taprootKeySpendSigHash is the BIP-341 key-path digest of input idx.
func taprootKeySpendSigHash(tx *wire.MsgTx, hashes *txscript.TxSigHashes, ht txscript.SigHashType, idx int, fetcher txscript.PrevOutputFetcher) ([]byte, error) {
	return txscript.CalcTaprootSignatureHash(hashes, ht, tx, idx, fetcher)
}

// describeScript shows a script as an address of params' network when it is
// a standard single-address type, as "OP_RETURN <hex>" for data outputs, and
// as "script <hex>" otherwise.
func describeScript(script []byte, params *chaincfg.Params) string {
	class := txscript.GetScriptClass(script)
	switch class {
	case txscript.PubKeyHashTy, txscript.ScriptHashTy, txscript.WitnessV0PubKeyHashTy,
		txscript.WitnessV0ScriptHashTy, txscript.WitnessV1TaprootTy:
		if params == nil {
			break
		}
		if _, addrs, _, err := txscript.ExtractPkScriptAddrs(script, params); err == nil && len(addrs) == 1 {
			return addrs[0].EncodeAddress()
		}
	case txscript.NullDataTy:
		return fmt.Sprintf("OP_RETURN %x", script)
	}
	return fmt.Sprintf("script %x", script)
}

// FormatBTC writes satoshis as an exact decimal number of BTC without
// trailing zeros: 1500000 -> "0.015", 100000000 -> "1".
func FormatBTC(sats int64) string {
	neg := sats < 0
	u := uint64(sats)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u/1e8, 10)
	if frac := u % 1e8; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%08d", frac), "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Summary describes the transaction for approvers: what it spends, where the
// money goes (addresses of net; outputs to walletPub's script are labelled
// "change" when walletPub is given) and the fee, all in exact BTC. A fee
// below zero (outputs worth more than the inputs) is an error. Example:
//
//	spend 2 inputs (0.015 BTC) to bc1q… (0.01 BTC), change bc1q… (0.0049 BTC); fee 0.0001 BTC
//	  input 0: <txid>:1 0.01 BTC from bc1q…
//	  input 1: <txid>:0 0.005 BTC from bc1q…
func (p *PSBT) Summary(net Network, walletPub []byte) (string, error) {
	params, err := net.Params()
	if err != nil {
		return "", err
	}
	var own []byte
	if walletPub != nil {
		scheme, err := schemeOf(walletPub)
		if err != nil {
			return "", err
		}
		if own, _, err = walletScript(walletPub, scheme); err != nil {
			return "", err
		}
	}
	prevs, err := p.PrevOuts()
	if err != nil {
		return "", err
	}
	tx := p.packet.UnsignedTx
	var in, out int64
	var inputs []string
	for i, txin := range tx.TxIn {
		prev := prevs[txin.PreviousOutPoint]
		in += prev.Value
		inputs = append(inputs, fmt.Sprintf("  input %d: %s %s BTC from %s",
			i, txin.PreviousOutPoint, FormatBTC(prev.Value), describeScript(prev.PkScript, params)))
	}
	var outputs []string
	for _, o := range tx.TxOut {
		out += o.Value
		label := ""
		if own != nil && bytes.Equal(o.PkScript, own) {
			label = "change "
		}
		outputs = append(outputs, fmt.Sprintf("%s%s (%s BTC)", label, describeScript(o.PkScript, params), FormatBTC(o.Value)))
	}
	fee := in - out
	if fee < 0 {
		return "", fmt.Errorf("outputs (%s BTC) exceed inputs (%s BTC): negative fee", FormatBTC(out), FormatBTC(in))
	}
	plural := "s"
	if len(tx.TxIn) == 1 {
		plural = ""
	}
	head := fmt.Sprintf("spend %d input%s (%s BTC) to %s; fee %s BTC",
		len(tx.TxIn), plural, FormatBTC(in), strings.Join(outputs, ", "), FormatBTC(fee))
	return head + "\n" + strings.Join(inputs, "\n"), nil
}

// Finalize puts the ceremony's signatures into the PSBT (keyed by input index,
// one for every input Plan returned) and returns the finalized PSBT (binary),
// the raw signed transaction and its txid. walletPub is the key given to Plan
// (33 bytes: ecdsa, 32 bytes: schnorr).
//
//   - p2wpkh: a 65-byte r||s||v signature (v 0 or 1, as multi-party-sig's
//     SigEthereum returns; v is not needed and not used). A high S is
//     normalised to n-S (low S is standardness policy, BIP-146/LOW_S in
//     txscript.StandardVerifyFlags), then DER-encoded with SIGHASH_ALL;
//     witness [sig, pub33].
//   - p2tr: a 64-byte BIP-340 signature by the BIP-86 tweaked output key;
//     witness [sig] (sighash byte appended only if the input asked for
//     SIGHASH_ALL).
//
// Each signature is checked against its digest and key before use, and the
// finished transaction is run through VerifyTx. The receiver is not changed.
func (p *PSBT) Finalize(sigs map[int][]byte, walletPub []byte) (finalPSBT []byte, rawTx []byte, txid string, err error) {
	scheme, err := schemeOf(walletPub)
	if err != nil {
		return nil, nil, "", err
	}
	plan, err := p.plan(walletPub, scheme, nil)
	if err != nil {
		return nil, nil, "", err
	}
	want := make(map[int]bool, len(plan))
	for _, pl := range plan {
		want[pl.Index] = true
	}
	var extra []int
	for i := range sigs {
		if !want[i] {
			extra = append(extra, i)
		}
	}
	if len(extra) > 0 {
		sort.Ints(extra)
		return nil, nil, "", fmt.Errorf("signatures given for inputs %v, which this wallet does not sign", extra)
	}
	prevs, err := p.PrevOuts()
	if err != nil {
		return nil, nil, "", err
	}

	// Work on a deep copy so that a failure leaves p as it was.
	ser, err := p.Serialize()
	if err != nil {
		return nil, nil, "", err
	}
	cp, err := psbt.NewFromRawBytes(bytes.NewReader(ser), false)
	if err != nil {
		return nil, nil, "", err
	}

	for _, pl := range plan {
		sig, ok := sigs[pl.Index]
		if !ok {
			return nil, nil, "", fmt.Errorf("no signature for input %d", pl.Index)
		}
		in := &cp.Inputs[pl.Index]
		switch pl.Kind {
		case KindP2WPKH:
			der, err := ecdsaToDER(sig, pl.Digest, walletPub)
			if err != nil {
				return nil, nil, "", fmt.Errorf("input %d: %w", pl.Index, err)
			}
			in.PartialSigs = []*psbt.PartialSig{{
				PubKey:    bytes.Clone(walletPub),
				Signature: append(der, byte(txscript.SigHashAll)),
			}}
		case KindP2TR:
			if err := checkSchnorr(sig, pl.Digest, walletPub); err != nil {
				return nil, nil, "", fmt.Errorf("input %d: %w", pl.Index, err)
			}
			s := bytes.Clone(sig)
			if pl.hashType != txscript.SigHashDefault {
				s = append(s, byte(pl.hashType))
			}
			in.TaprootKeySpendSig = s
		}
		if err := psbt.Finalize(cp, pl.Index); err != nil {
			return nil, nil, "", fmt.Errorf("input %d: finalize: %v", pl.Index, err)
		}
	}
	if !cp.IsComplete() {
		return nil, nil, "", errors.New("psbt: not every input is finalized")
	}
	tx, err := psbt.Extract(cp)
	if err != nil {
		return nil, nil, "", fmt.Errorf("psbt: extract: %v", err)
	}
	var raw bytes.Buffer
	if err := tx.Serialize(&raw); err != nil {
		return nil, nil, "", err
	}
	if err := VerifyTx(raw.Bytes(), prevs); err != nil {
		return nil, nil, "", err
	}
	var fin bytes.Buffer
	if err := cp.Serialize(&fin); err != nil {
		return nil, nil, "", err
	}
	return fin.Bytes(), raw.Bytes(), tx.TxHash().String(), nil
}

// ecdsaToDER turns a 65-byte r||s||v signature into a low-S DER signature
// (without sighash byte) after checking it against digest and pub33.
func ecdsaToDER(sig, digest, pub33 []byte) ([]byte, error) {
	if len(sig) != 65 {
		return nil, fmt.Errorf("ECDSA signature must be 65 bytes r||s||v, got %d", len(sig))
	}
	if sig[64] > 1 {
		return nil, fmt.Errorf("ECDSA signature recovery byte v=%d, want 0 or 1", sig[64])
	}
	var r, s btcec.ModNScalar
	if r.SetByteSlice(sig[:32]) || r.IsZero() || s.SetByteSlice(sig[32:64]) || s.IsZero() {
		return nil, errors.New("ECDSA signature r or s is zero or not below the curve order")
	}
	if s.IsOverHalfOrder() {
		s.Negate() // (r, n-s) is the same signature; policy wants low S
	}
	pub, err := parseCompressedPub(pub33)
	if err != nil {
		return nil, err
	}
	es := ecdsa.NewSignature(&r, &s)
	if !es.Verify(digest, pub) {
		return nil, fmt.Errorf("%w: ECDSA signature is not by the wallet key over this input's digest", ErrBadSignature)
	}
	return es.Serialize(), nil
}

// checkSchnorr checks a 64-byte BIP-340 signature by the BIP-86 output key of
// xonly32 over digest.
func checkSchnorr(sig, digest, xonly32 []byte) error {
	if len(sig) != schnorr.SignatureSize {
		return fmt.Errorf("schnorr signature must be %d bytes, got %d", schnorr.SignatureSize, len(sig))
	}
	q, _, err := TaprootOutputKey(xonly32)
	if err != nil {
		return err
	}
	if err := VerifySchnorr(q, digest, sig); err != nil {
		return fmt.Errorf("%w (signer must use the BIP-86 tweaked key)", err)
	}
	return nil
}

// VerifyTx runs btcd's script engine with txscript.StandardVerifyFlags on
// every input of the serialized transaction rawTx, against the outputs it
// spends. Any failure wraps ErrBadSignature.
func VerifyTx(rawTx []byte, prevOuts map[wire.OutPoint]*wire.TxOut) error {
	var tx wire.MsgTx
	r := bytes.NewReader(rawTx)
	if err := tx.Deserialize(r); err != nil {
		return fmt.Errorf("transaction: %v", err)
	}
	if r.Len() != 0 {
		return fmt.Errorf("transaction: %d unexpected bytes after it", r.Len())
	}
	if len(tx.TxIn) == 0 {
		return errors.New("transaction has no inputs")
	}
	spent := make(map[wire.OutPoint]*wire.TxOut, len(tx.TxIn))
	for i, in := range tx.TxIn {
		prev, ok := prevOuts[in.PreviousOutPoint]
		if !ok || prev == nil {
			return fmt.Errorf("input %d spends %s, whose output is not known", i, in.PreviousOutPoint)
		}
		spent[in.PreviousOutPoint] = prev
	}
	fetcher := txscript.NewMultiPrevOutFetcher(spent)
	hashes := txscript.NewTxSigHashes(&tx, fetcher)
	for i, in := range tx.TxIn {
		prev := spent[in.PreviousOutPoint]
		vm, err := txscript.NewEngine(prev.PkScript, &tx, i, txscript.StandardVerifyFlags, nil, hashes, prev.Value, fetcher)
		if err != nil {
			return fmt.Errorf("%w: input %d: %v", ErrBadSignature, i, err)
		}
		if err := vm.Execute(); err != nil {
			return fmt.Errorf("%w: input %d: %v", ErrBadSignature, i, err)
		}
	}
	return nil
}
