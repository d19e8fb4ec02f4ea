// Package chain is what paratro knows of the chains it signs for: one small
// package per family (ethereum: EIP-55 addresses, EIP-1559 and legacy
// transactions, EIP-191 messages; bitcoin: P2WPKH and BIP-86 P2TR
// addresses, PSBTs) behind one interface, Family: a wallet's address, and
// the decoding of a signing request's payload into the digest to sign, a
// human summary and what it moves. Every party decodes a request's payload
// itself with it (coord.Inspect); the initiator assembles the signed result
// with the family's own package.
package chain
