package ceremony_test

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/txscript"
	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
)

// A Taproot key-path signature is made under the BIP-86 output key Q, which
// btcd computes independently from the wallet's internal key P.
func TestTaprootKeyPathSignsUnderTheBIP86OutputKey(t *testing.T) {
	shares := ceremonytest.SchnorrShares(t)
	internal, err := schnorr.ParsePubKey(shares["alice"].PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	q := schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(internal))
	digest := ceremonytest.Digest("p2tr key path")
	d := ceremonytest.Sign(shares, digest, "bob", "carol")
	d.Taproot = true
	out, _ := ceremonytest.RunAll(ctx, d, shares)
	res := requireOK(t, out)
	for id, r := range res {
		if !bytes.Equal(r.PublicKey, q) {
			t.Fatalf("%s reports public key %x, want the output key %x", id, r.PublicKey, q)
		}
	}
	sig, err := schnorr.ParseSignature(sameSignature(t, res))
	if err != nil {
		t.Fatal(err)
	}
	qKey, _ := schnorr.ParsePubKey(q)
	if !sig.Verify(digest, qKey) {
		t.Fatal("btcd rejects the signature under the output key")
	}
	if sig.Verify(digest, internal) {
		t.Fatal("the signature verifies under the untweaked key")
	}
	// The stored share is untouched.
	if !bytes.Equal(shares["alice"].PublicKey(), schnorr.SerializePubKey(internal)) {
		t.Fatal("tweaking changed the stored share")
	}
}

func TestTaprootIsForSchnorrSigningOnly(t *testing.T) {
	ec := ceremonytest.ECDSAShares(t)
	d := ceremonytest.Sign(ec, ceremonytest.Digest("x"), "alice", "bob")
	d.Taproot = true
	if err := d.Validate(); err == nil {
		t.Fatal("an ecdsa Taproot signature was accepted")
	}
	k := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, party.ID("alice"), "bob", "carol")
	k.Taproot = true
	if err := k.Validate(); err == nil {
		t.Fatal("a Taproot keygen was accepted")
	}
	sd := ceremonytest.Sign(ceremonytest.SchnorrShares(t), ceremonytest.Digest("x"), "alice", "bob")
	sid := sd.SessionID()
	sd.Taproot = true
	if bytes.Equal(sid, sd.SessionID()) {
		t.Fatal("the session ID does not bind the Taproot tweak")
	}
}
