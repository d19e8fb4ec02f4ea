package chain

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/chain/ethereum"
)

// Ethereum payload formats.
const (
	// FormatEthTx is an unsigned Ethereum transaction (EIP-1559 or legacy
	// EIP-155), hex; its digest is the transaction's signing hash.
	FormatEthTx = "eth-tx"
	// FormatEthMessage is an Ethereum personal message (EIP-191), as text;
	// its digest is keccak256 of the prefixed message.
	FormatEthMessage = "eth-message"
)

type ethereumFamily struct{}

func (ethereumFamily) Name() string      { return "ethereum" }
func (ethereumFamily) Formats() []string { return []string{FormatEthTx, FormatEthMessage} }

func (ethereumFamily) Address(scheme ceremony.Scheme, pub []byte, _ bitcoin.Network) (string, error) {
	if scheme != ceremony.SchemeECDSA {
		return "", fmt.Errorf("no ethereum address for a %s wallet", scheme)
	}
	return ethereum.Address(pub)
}

func (ethereumFamily) Decode(p Payload, w Wallet) (*Signing, error) {
	what := map[string]string{FormatEthTx: "transaction", FormatEthMessage: "message"}[p.Format]
	if w.Chain != "ethereum" || w.Scheme != ceremony.SchemeECDSA {
		return nil, fmt.Errorf("an Ethereum %s cannot be signed by a %s %s wallet", what, w.Chain, w.Scheme)
	}
	if p.Format == FormatEthMessage {
		if !utf8.ValidString(p.Data) {
			return nil, errors.New("the request's message is not UTF-8 text")
		}
		// The whole message, quoted: newlines, invisible and control
		// characters are escaped, never dropped or cut, so the holder sees
		// every character that is signed.
		return &Signing{Digest: ethereum.TextHash([]byte(p.Data)),
			Summary: fmt.Sprintf("Ethereum personal message (EIP-191) %s", strconv.Quote(p.Data))}, nil
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(p.Data, "0x"))
	if err != nil {
		return nil, errors.New("the request's transaction is not hex")
	}
	tx, err := ethereum.DecodeUnsigned(raw)
	if err != nil {
		return nil, fmt.Errorf("the request's transaction: %w", err)
	}
	return &Signing{Digest: tx.Digest, Summary: tx.Summary(),
		Transfer: &Transfer{Asset: "ETH", Amount: tx.Value, Fee: tx.MaxFee, To: []string{tx.To}, DataSize: tx.DataSize}}, nil
}
