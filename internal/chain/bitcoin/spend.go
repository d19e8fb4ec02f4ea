package bitcoin

import (
	"bytes"
	"fmt"
)

// Spend is what a PSBT moves out of the wallet, for approvers and policy.
type Spend struct {
	// Sent is the total of the outputs that do not pay back to the wallet
	// (satoshis); To are their addresses (or script descriptions), in order.
	Sent int64
	To   []string
	// Fee is inputs minus outputs (satoshis).
	Fee int64
}

// Spend sums what the PSBT pays to others than the wallet (walletPub: 33
// bytes for ECDSA, 32 x-only for Schnorr), and its fee.
func (p *PSBT) Spend(net Network, walletPub []byte) (*Spend, error) {
	params, err := net.Params()
	if err != nil {
		return nil, err
	}
	scheme, err := schemeOf(walletPub)
	if err != nil {
		return nil, err
	}
	own, _, err := walletScript(walletPub, scheme)
	if err != nil {
		return nil, err
	}
	prevs, err := p.PrevOuts()
	if err != nil {
		return nil, err
	}
	var in, out int64
	for _, txin := range p.packet.UnsignedTx.TxIn {
		in += prevs[txin.PreviousOutPoint].Value
	}
	s := &Spend{}
	for _, o := range p.packet.UnsignedTx.TxOut {
		out += o.Value
		if bytes.Equal(o.PkScript, own) {
			continue
		}
		s.Sent += o.Value
		s.To = append(s.To, describeScript(o.PkScript, params))
	}
	if s.Fee = in - out; s.Fee < 0 {
		return nil, fmt.Errorf("outputs (%s BTC) exceed inputs (%s BTC): negative fee", FormatBTC(out), FormatBTC(in))
	}
	return s, nil
}
