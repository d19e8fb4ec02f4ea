package chain

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
)

// Payload is what a sign request signs, as the initiator sent it: a
// format one chain family knows, its data, and for a PSBT the input and
// the network its addresses are shown for.
type Payload struct {
	Format  string
	Data    string
	Input   *int
	Network string
}

// Wallet is what a family needs to know of the wallet that signs.
type Wallet struct {
	Chain  string
	Scheme ceremony.Scheme
	// PublicKey is the key that signs (a derived child's when the request
	// names one), as this party's own share has it.
	PublicKey []byte
}

// Transfer is what a transaction moves, as the party decoded it.
type Transfer struct {
	Asset    string   // "ETH" or "BTC"
	Amount   *big.Int // smallest unit (wei, sat)
	Fee      *big.Int // the most it can pay in fees, same unit
	To       []string
	DataSize int
}

// Signing is a payload decoded by its family: the digest the ceremony must
// sign, what it is in words, what it moves, and whether it is signed under
// the Taproot output key.
type Signing struct {
	Digest   []byte
	Summary  string
	Transfer *Transfer
	Taproot  bool
	// Kind is a PSBT input's type: "p2wpkh" or "p2tr".
	Kind string
}

// Family is one chain family: the addresses of its wallets, and the
// payloads it decodes into what a ceremony signs. The initiator assembles
// the signed result with the family's own package (ethereum.Tx.Assemble,
// bitcoin.PSBT.Finalize).
type Family interface {
	// Name is the chain's name, as wallets are made for it.
	Name() string
	// Address is a wallet's address on network net (mainnet when empty).
	Address(scheme ceremony.Scheme, pub []byte, net bitcoin.Network) (string, error)
	// Formats are the payload formats the family decodes.
	Formats() []string
	// Decode checks and decodes a payload for wallet w.
	Decode(p Payload, w Wallet) (*Signing, error)
}

var families = []Family{ethereumFamily{}, bitcoinFamily{}}

// Families are the chain families this version knows.
func Families() []Family { return slices.Clone(families) }

// ByName returns the family of a chain.
func ByName(name string) (Family, error) {
	for _, f := range families {
		if f.Name() == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("unknown chain %q: use %s", name, strings.Join(Names(), " or "))
}

// Names are the chains a wallet can be made for.
func Names() []string {
	var out []string
	for _, f := range families {
		out = append(out, f.Name())
	}
	return out
}

// Decode decodes a payload with the family that knows its format.
func Decode(p Payload, w Wallet) (*Signing, error) {
	var known []string
	for _, f := range families {
		if slices.Contains(f.Formats(), p.Format) {
			return f.Decode(p, w)
		}
		known = append(known, f.Formats()...)
	}
	return nil, fmt.Errorf("unknown payload format %q (this version knows %s)", ceremony.Sanitize(p.Format), strings.Join(known, ", "))
}

// Address is a wallet's address for its public key on its chain: EIP-55 for
// Ethereum (33-byte key); for Bitcoin on network net (mainnet when empty),
// P2WPKH for ECDSA wallets (33-byte key) and the BIP-86 Taproot address
// for Schnorr wallets (32-byte x-only key).
func Address(chain string, scheme ceremony.Scheme, pub []byte, net bitcoin.Network) (string, error) {
	f, err := ByName(chain)
	if err != nil {
		return "", err
	}
	return f.Address(scheme, pub, net)
}
