package chain

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
)

// FormatBtcPSBT is a Bitcoin PSBT (BIP-174, base64) and the input to sign;
// its digest is that input's BIP-143 (P2WPKH) or BIP-341 (P2TR key path)
// sighash.
const FormatBtcPSBT = "btc-psbt"

type bitcoinFamily struct{}

func (bitcoinFamily) Name() string      { return "bitcoin" }
func (bitcoinFamily) Formats() []string { return []string{FormatBtcPSBT} }

func (bitcoinFamily) Address(scheme ceremony.Scheme, pub []byte, net bitcoin.Network) (string, error) {
	if net == "" {
		net = bitcoin.Mainnet
	}
	if scheme == ceremony.SchemeSchnorr {
		return bitcoin.P2TRAddress(pub, net)
	}
	return bitcoin.P2WPKHAddress(pub, net)
}

// Decode checks a PSBT payload: the PSBT's inputs are this wallet's (or
// already final) and the named input is one it signs; the digest is that
// input's sighash, and a P2TR input is signed under the Taproot output key.
func (bitcoinFamily) Decode(p Payload, w Wallet) (*Signing, error) {
	if w.Chain != "bitcoin" {
		return nil, fmt.Errorf("a Bitcoin PSBT cannot be signed by a %s wallet", w.Chain)
	}
	if p.Input == nil {
		return nil, errors.New("the request's PSBT names no input to sign")
	}
	if len(w.PublicKey) == 0 {
		return nil, errors.New("the wallet's public key is unknown here: cannot check the PSBT's inputs")
	}
	net := bitcoin.Network(p.Network)
	if net == "" {
		net = bitcoin.Mainnet
	}
	pk, err := bitcoin.ParsePSBT([]byte(p.Data))
	if err != nil {
		return nil, fmt.Errorf("the request's PSBT: %w", err)
	}
	plan, err := pk.Plan(w.PublicKey, string(w.Scheme), net)
	if err != nil {
		return nil, fmt.Errorf("the request's PSBT: %w", err)
	}
	i := slices.IndexFunc(plan, func(x bitcoin.InputToSign) bool { return x.Index == *p.Input })
	if i < 0 {
		return nil, fmt.Errorf("the request's PSBT has no input %d for this wallet to sign", *p.Input)
	}
	summary, err := pk.Summary(net, w.PublicKey)
	if err != nil {
		return nil, err
	}
	spend, err := pk.Spend(net, w.PublicKey)
	if err != nil {
		return nil, err
	}
	head, _, _ := strings.Cut(summary, "\n")
	return &Signing{Digest: plan[i].Digest, Taproot: plan[i].Kind == bitcoin.KindP2TR, Kind: plan[i].Kind,
		Summary:  fmt.Sprintf("%s (%s); signing input %d of %d", head, net, *p.Input, len(pk.UnsignedTx().TxIn)),
		Transfer: &Transfer{Asset: "BTC", Amount: big.NewInt(spend.Sent), Fee: big.NewInt(spend.Fee), To: spend.To}}, nil
}
