// Package chain is what paratro knows of the chains it signs for, one small
// package per family: ethereum (EIP-55 addresses, EIP-1559 and legacy
// transactions, EIP-191 messages) and bitcoin (P2WPKH and BIP-86 P2TR
// addresses, PSBTs). A signing request names what it signs as a payload
// that every party decodes with these packages itself (coord.Inspect):
// the digest, a human summary, and what moves; the initiator assembles the
// signed result with the same package (ethereum.Tx.Assemble,
// bitcoin.PSBT.Finalize).
package chain

import (
	"fmt"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/chain/ethereum"
)

// Names are the chains a wallet can be made for.
var Names = []string{"ethereum", "bitcoin"}

// Address is a wallet's address for its public key: EIP-55 for Ethereum
// (33-byte key); for Bitcoin on network net (mainnet when empty), P2WPKH
// for ECDSA wallets (33-byte key) and the BIP-86 Taproot address for
// Schnorr wallets (32-byte x-only key).
func Address(chain string, scheme ceremony.Scheme, pub []byte, net bitcoin.Network) (string, error) {
	if net == "" {
		net = bitcoin.Mainnet
	}
	switch {
	case chain == "ethereum" && scheme == ceremony.SchemeECDSA:
		return ethereum.Address(pub)
	case chain == "bitcoin" && scheme == ceremony.SchemeECDSA:
		return bitcoin.P2WPKHAddress(pub, net)
	case chain == "bitcoin" && scheme == ceremony.SchemeSchnorr:
		return bitcoin.P2TRAddress(pub, net)
	}
	return "", fmt.Errorf("no %s address for a %s wallet", chain, scheme)
}
