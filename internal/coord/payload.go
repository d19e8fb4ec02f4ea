package coord

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain"
)

// Payload formats: what a sign request signs when it is more than a bare
// digest (see internal/chain).
const (
	PayloadEthTx      = chain.FormatEthTx
	PayloadEthMessage = chain.FormatEthMessage
	PayloadBtcPSBT    = chain.FormatBtcPSBT
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
type Transfer = chain.Transfer

// Inspection is what a party established about a sign request by itself.
type Inspection struct {
	// Summary says in words what is signed; empty when only a digest is
	// known.
	Summary string
	// Transfer is set for a transaction.
	Transfer *Transfer
}

// Inspect decodes a sign request's payload with its chain family, checks
// that it is what the digest signs (and, for a PSBT input, that the
// request signs under the right key), and describes it. walletPub is the
// key that signs as this party's share has it (a PSBT's inputs are checked
// against it). A request without a payload gives an empty inspection: only
// the digest is known.
func Inspect(req *Request, walletPub []byte) (*Inspection, error) {
	if req.Kind != ceremony.KindSign || req.Payload == nil {
		return &Inspection{}, nil
	}
	p := req.Payload
	if len(p.Data) > maxPayload {
		return nil, fmt.Errorf("the request's payload is %d bytes; at most %d", len(p.Data), maxPayload)
	}
	s, err := chain.Decode(chain.Payload{Format: p.Format, Data: p.Data, Input: p.Input, Network: p.Network},
		chain.Wallet{Chain: req.Chain, Scheme: req.Scheme, PublicKey: walletPub})
	if err != nil {
		return nil, err
	}
	if s.Taproot != req.Taproot {
		key := map[bool]string{true: "under the Taproot output key", false: "under the bare key"}
		if p.Input == nil || s.Kind == "" {
			return nil, fmt.Errorf("the request signs %s, but its payload is no Taproot input", key[req.Taproot])
		}
		return nil, fmt.Errorf("input %d is %s, but the request signs %s", *p.Input, s.Kind, key[req.Taproot])
	}
	if hex.EncodeToString(s.Digest) != strings.ToLower(req.Digest) {
		return nil, errors.New("the request's digest is not the hash of its payload: what would be signed is not what is shown")
	}
	return &Inspection{Summary: s.Summary, Transfer: s.Transfer}, nil
}
