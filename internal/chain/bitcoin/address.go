package bitcoin

import (
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
)

// Network names a Bitcoin network: "mainnet", "testnet" (testnet3) or
// "regtest". Anything else is refused, so a typo never silently means
// mainnet.
type Network string

// The supported networks.
const (
	Mainnet Network = "mainnet"
	Testnet Network = "testnet"
	Regtest Network = "regtest"
)

// Params returns btcd's chain parameters for the network.
func (n Network) Params() (*chaincfg.Params, error) {
	switch n {
	case Mainnet:
		return &chaincfg.MainNetParams, nil
	case Testnet:
		return &chaincfg.TestNet3Params, nil
	case Regtest:
		return &chaincfg.RegressionNetParams, nil
	}
	return nil, fmt.Errorf("unknown bitcoin network %q (want mainnet, testnet or regtest)", string(n))
}

// parseCompressedPub accepts only a 33-byte compressed secp256k1 key: BIP-143
// policy refuses uncompressed keys in P2WPKH.
func parseCompressedPub(pub33 []byte) (*btcec.PublicKey, error) {
	if len(pub33) != btcec.PubKeyBytesLenCompressed || (pub33[0] != 0x02 && pub33[0] != 0x03) {
		return nil, fmt.Errorf("want a 33-byte compressed public key, got %d bytes", len(pub33))
	}
	pub, err := btcec.ParsePubKey(pub33)
	if err != nil {
		return nil, fmt.Errorf("public key: %v", err)
	}
	return pub, nil
}

// p2wpkhScript returns OP_0 <HASH160(pub33)>.
func p2wpkhScript(pub33 []byte) ([]byte, error) {
	if _, err := parseCompressedPub(pub33); err != nil {
		return nil, err
	}
	return txscript.NewScriptBuilder().
		AddOp(txscript.OP_0).
		AddData(btcutil.Hash160(pub33)).
		Script()
}

// P2WPKHAddress returns the bech32 P2WPKH address of a compressed public key
// (the address of an ECDSA wallet).
func P2WPKHAddress(pub33 []byte, net Network) (string, error) {
	params, err := net.Params()
	if err != nil {
		return "", err
	}
	if _, err := parseCompressedPub(pub33); err != nil {
		return "", err
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub33), params)
	if err != nil {
		return "", err
	}
	return addr.EncodeAddress(), nil
}

// TaprootOutputKey applies the BIP-86 key-path tweak (no script tree) to an
// x-only internal key P: t = int(hash_TapTweak(P_x)), Q = lift_x(P) + tG.
// It returns the 32-byte x-only output key Q and the 32-byte tweak t.
//
// A FROST wallet has to sign with the tweaked key Q (the threshold library
// has no TapTweak, SECURITY.md B13): pass t to TaprootConfig.Derive, and
// check that the derived group key's x coordinate equals outputKey.
func TaprootOutputKey(xonly32 []byte) (outputKey []byte, tweak []byte, err error) {
	internal, err := schnorr.ParsePubKey(xonly32) // lift_x: even Y
	if err != nil {
		return nil, nil, fmt.Errorf("taproot internal key: %v", err)
	}
	t := chainhash.TaggedHash(chainhash.TagTapTweak, schnorr.SerializePubKey(internal))
	var ts btcec.ModNScalar
	if overflow := ts.SetByteSlice(t[:]); overflow {
		// Probability about 2^-128; BIP-341 says the key is then unusable.
		return nil, nil, fmt.Errorf("taproot tweak is not below the curve order")
	}
	// Q = P + tG, computed by hand and checked against btcd's own
	// implementation of the same formula.
	var p, tg, q btcec.JacobianPoint
	internal.AsJacobian(&p)
	btcec.ScalarBaseMultNonConst(&ts, &tg)
	btcec.AddNonConst(&p, &tg, &q)
	if (q.X.IsZero() && q.Y.IsZero()) || q.Z.IsZero() {
		return nil, nil, fmt.Errorf("taproot output key is the point at infinity")
	}
	q.ToAffine()
	out := schnorr.SerializePubKey(btcec.NewPublicKey(&q.X, &q.Y))
	ref := schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(internal))
	if string(out) != string(ref) {
		return nil, nil, fmt.Errorf("taproot output key mismatch with btcd (internal error)")
	}
	return out, t[:], nil
}

// p2trScript returns OP_1 <Q> for the BIP-86 output key of xonly32.
func p2trScript(xonly32 []byte) ([]byte, error) {
	q, _, err := TaprootOutputKey(xonly32)
	if err != nil {
		return nil, err
	}
	return txscript.NewScriptBuilder().AddOp(txscript.OP_1).AddData(q).Script()
}

// P2TRAddress returns the bech32m address of the BIP-86 output key of an
// x-only internal key (the address of a Schnorr/FROST wallet).
func P2TRAddress(xonly32 []byte, net Network) (string, error) {
	params, err := net.Params()
	if err != nil {
		return "", err
	}
	q, _, err := TaprootOutputKey(xonly32)
	if err != nil {
		return "", err
	}
	addr, err := btcutil.NewAddressTaproot(q, params)
	if err != nil {
		return "", err
	}
	return addr.EncodeAddress(), nil
}

// walletScript returns the output script a wallet key receives on and the
// input kind: "p2wpkh" for scheme "ecdsa" (33-byte compressed key) and "p2tr"
// for scheme "schnorr" (32-byte x-only BIP-340 key, BIP-86 tweaked).
func walletScript(walletPub []byte, scheme string) (script []byte, kind string, err error) {
	switch scheme {
	case "ecdsa":
		script, err = p2wpkhScript(walletPub)
		return script, KindP2WPKH, err
	case "schnorr":
		script, err = p2trScript(walletPub)
		return script, KindP2TR, err
	}
	return nil, "", fmt.Errorf("unknown signature scheme %q (want ecdsa or schnorr)", scheme)
}

// schemeOf infers the scheme from the key length (33 = ecdsa, 32 = schnorr).
func schemeOf(walletPub []byte) (string, error) {
	switch len(walletPub) {
	case 33:
		return "ecdsa", nil
	case 32:
		return "schnorr", nil
	}
	return "", fmt.Errorf("wallet key must be 33 bytes (ecdsa) or 32 bytes (schnorr x-only), got %d", len(walletPub))
}
