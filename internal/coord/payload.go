package coord

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/chain/ethereum"
)

// Payload formats: what a sign request signs when it is more than a bare
// digest.
const (
	// PayloadEthTx is an unsigned Ethereum transaction (EIP-1559 or legacy
	// EIP-155), hex; its digest is the transaction's signing hash.
	PayloadEthTx = "eth-tx"
	// PayloadEthMessage is an Ethereum personal message (EIP-191), as
	// text; its digest is keccak256 of the prefixed message.
	PayloadEthMessage = "eth-message"
	// PayloadBtcPSBT is a Bitcoin PSBT (BIP-174, base64) and the input to
	// sign; its digest is that input's BIP-143 (P2WPKH) or BIP-341 (P2TR
	// key path) sighash.
	PayloadBtcPSBT = "btc-psbt"
)

// maxPayload bounds a payload's data (a transaction with a large contract
// call fits; the relay caps the whole request anyway).
const maxPayload = 128 << 10

// Payload is what a sign request signs, in a form every party decodes for
// itself: it checks that the payload hashes to the request's digest, shows
// its holder what it found, and applies its policy to that, never to the
// initiator's own description.
type Payload struct {
	Format string `json:"format"`
	Data   string `json:"data"`
	// Input is the PSBT input this request signs (btc-psbt).
	Input *int `json:"input,omitempty"`
	// Network names the Bitcoin network the PSBT's addresses are shown
	// for (btc-psbt): mainnet (default), testnet or regtest.
	Network string `json:"network,omitempty"`
}

// Transfer is what a transaction moves, as a party decoded it.
type Transfer struct {
	Asset    string   // "ETH" or "BTC"
	Amount   *big.Int // smallest unit (wei, sat)
	Fee      *big.Int // the most it can pay in fees, same unit
	To       []string
	DataSize int
}

// Inspection is what a party established about a sign request by itself.
type Inspection struct {
	// Summary says in words what is signed; empty when only a digest is
	// known.
	Summary string
	// Transfer is set for a transaction.
	Transfer *Transfer
}

// Inspect decodes a sign request's payload, checks that it is what the
// digest signs, and describes it. walletPub is the wallet's public key as
// this party's share has it (a PSBT's inputs are checked against it). A
// request without a payload gives an empty inspection: only the digest is
// known.
func Inspect(req *Request, walletPub []byte) (*Inspection, error) {
	if req.Kind != ceremony.KindSign || req.Payload == nil {
		return &Inspection{}, nil
	}
	p := req.Payload
	if len(p.Data) > maxPayload {
		return nil, fmt.Errorf("the request's payload is %d bytes; at most %d", len(p.Data), maxPayload)
	}
	var digest []byte
	var in Inspection
	switch p.Format {
	case PayloadEthTx:
		if req.Chain != "ethereum" || req.Scheme != ceremony.SchemeECDSA {
			return nil, fmt.Errorf("an Ethereum transaction cannot be signed by a %s %s wallet", req.Chain, req.Scheme)
		}
		raw, err := hex.DecodeString(strings.TrimPrefix(p.Data, "0x"))
		if err != nil {
			return nil, errors.New("the request's transaction is not hex")
		}
		tx, err := ethereum.DecodeUnsigned(raw)
		if err != nil {
			return nil, fmt.Errorf("the request's transaction: %w", err)
		}
		digest = tx.Digest
		in.Summary = tx.Summary()
		in.Transfer = &Transfer{Asset: "ETH", Amount: tx.Value, Fee: tx.MaxFee, To: []string{tx.To}, DataSize: tx.DataSize}
	case PayloadEthMessage:
		if req.Chain != "ethereum" || req.Scheme != ceremony.SchemeECDSA {
			return nil, fmt.Errorf("an Ethereum message cannot be signed by a %s %s wallet", req.Chain, req.Scheme)
		}
		if !utf8.ValidString(p.Data) {
			return nil, errors.New("the request's message is not UTF-8 text")
		}
		digest = ethereum.TextHash([]byte(p.Data))
		// The whole message, quoted: newlines, invisible and control
		// characters are escaped, never dropped or cut, so the holder sees
		// every character that is signed.
		in.Summary = fmt.Sprintf("Ethereum personal message (EIP-191) %s", strconv.Quote(p.Data))
	case PayloadBtcPSBT:
		var err error
		if digest, err = inspectPSBT(req, walletPub, &in); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown payload format %q (this version knows %s, %s and %s)", ceremony.Sanitize(p.Format), PayloadEthTx, PayloadEthMessage, PayloadBtcPSBT)
	}
	if hex.EncodeToString(digest) != strings.ToLower(req.Digest) {
		return nil, errors.New("the request's digest is not the hash of its payload: what would be signed is not what is shown")
	}
	return &in, nil
}

// inspectPSBT checks a btc-psbt payload: the PSBT's inputs are this
// wallet's (or already final), the requested input's sighash is the digest,
// and a P2TR input is signed under the Taproot output key.
func inspectPSBT(req *Request, walletPub []byte, in *Inspection) ([]byte, error) {
	p := req.Payload
	if req.Chain != "bitcoin" {
		return nil, fmt.Errorf("a Bitcoin PSBT cannot be signed by a %s wallet", req.Chain)
	}
	if p.Input == nil {
		return nil, errors.New("the request's PSBT names no input to sign")
	}
	if len(walletPub) == 0 {
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
	plan, err := pk.Plan(walletPub, string(req.Scheme), net)
	if err != nil {
		return nil, fmt.Errorf("the request's PSBT: %w", err)
	}
	i := slices.IndexFunc(plan, func(x bitcoin.InputToSign) bool { return x.Index == *p.Input })
	if i < 0 {
		return nil, fmt.Errorf("the request's PSBT has no input %d for this wallet to sign", *p.Input)
	}
	if taproot := plan[i].Kind == bitcoin.KindP2TR; taproot != req.Taproot {
		return nil, fmt.Errorf("input %d is %s, but the request signs %s", *p.Input, plan[i].Kind, map[bool]string{true: "under the Taproot output key", false: "under the bare key"}[req.Taproot])
	}
	summary, err := pk.Summary(net, walletPub)
	if err != nil {
		return nil, err
	}
	spend, err := pk.Spend(net, walletPub)
	if err != nil {
		return nil, err
	}
	head, _, _ := strings.Cut(summary, "\n")
	in.Summary = fmt.Sprintf("%s (%s); signing input %d of %d", head, net, *p.Input, len(pk.UnsignedTx().TxIn))
	in.Transfer = &Transfer{Asset: "BTC", Amount: big.NewInt(spend.Sent), Fee: big.NewInt(spend.Fee), To: spend.To}
	return plan[i].Digest, nil
}
