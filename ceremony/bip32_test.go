package ceremony_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/protocols/cmp"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/ethereum"
)

func index(i uint32) *uint32 { return &i }

// hdChild derives child i of the wallet the share belongs to with btcutil's
// hdkeychain, from the xpub (public key and chain key) alone: an
// implementation independent of the threshold library (SECURITY.md B12).
func hdChild(t *testing.T, sh *ceremony.Share, i uint32) []byte {
	t.Helper()
	lib, err := sh.LibraryConfig()
	if err != nil {
		t.Fatal(err)
	}
	xpub := hdkeychain.NewExtendedKey(chaincfg.MainNetParams.HDPublicKeyID[:], sh.PublicKey(),
		lib.(*cmp.Config).ChainKey, []byte{0, 0, 0, 0}, 0, 0, false)
	child, err := xpub.Derive(i)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := child.ECPubKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub.SerializeCompressed()
}

func TestSigningWithADerivedIndexVerifiesAgainstTheChildAddress(t *testing.T) {
	slowCMP(t)
	shares := ceremonytest.ECDSAShares(t)
	signers := []party.ID{"alice", "carol"}
	for _, i := range []uint32{0, 7} {
		want := hdChild(t, shares["alice"], i)
		for id, sh := range shares {
			got, err := sh.ChildPublicKey(i)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: child %d public key %x (%v), hdkeychain says %x", id, i, got, err, want)
			}
		}
		if bytes.Equal(want, shares["alice"].PublicKey()) {
			t.Fatal("the child key is the wallet key")
		}
		digest := ceremonytest.Digest("pay from child")
		d := ceremonytest.Sign(shares, digest, signers...)
		d.Index = index(i)
		out, _ := ceremonytest.RunAll(ctx, d, shares)
		res := requireOK(t, out)
		for id, r := range res {
			if !bytes.Equal(r.PublicKey, want) {
				t.Fatalf("%s reports public key %x, want the child's %x", id, r.PublicKey, want)
			}
		}
		sig := sameSignature(t, res)
		addr, err := ethereum.Address(want)
		if err != nil {
			t.Fatal(err)
		}
		if err := ethereum.VerifyDigest(addr, digest, sig); err != nil {
			t.Fatalf("child %d: go-ethereum rejects the signature for %s: %v", i, addr, err)
		}
		parent, _ := ethereum.Address(shares["alice"].PublicKey())
		if ethereum.VerifyDigest(parent, digest, sig) == nil {
			t.Fatalf("child %d: the signature verifies against the wallet address", i)
		}
	}
}

func TestDeriveChildGivesAWorkingShareAndLeavesTheParentAlone(t *testing.T) {
	shares := ceremonytest.ECDSAShares(t)
	before, _ := shares["bob"].MarshalBinary()
	child, err := shares["bob"].DeriveChild(3)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(child.PublicKey(), hdChild(t, shares["bob"], 3)) || child.PartyID() != "bob" {
		t.Fatalf("child share: %v", child)
	}
	if after, _ := shares["bob"].MarshalBinary(); !bytes.Equal(before, after) {
		t.Fatal("DeriveChild changed the parent share")
	}
	if bytes.Equal(child.ConfigDigest(), shares["bob"].ConfigDigest()) {
		t.Fatal("the child's configuration digest is the parent's")
	}
}

func TestPartiesGivenDifferentIndexesFailWithinTheDeadline(t *testing.T) {
	shares := ceremonytest.ECDSAShares(t)
	signers := []party.ID{"alice", "bob"}
	alice := ceremonytest.Sign(shares, ceremonytest.Digest("which child?"), signers...)
	alice.Index = index(0)
	alice.Deadline = time.Now().Add(3 * time.Second)
	bob := *alice
	bob.Index = index(1)
	if bytes.Equal(alice.SessionID(), bob.SessionID()) {
		t.Fatal("the index is not bound into the session ID")
	}
	net := ceremony.NewMemoryNetwork(signers...)
	errs := make(chan error, 2)
	began := time.Now()
	for id, d := range map[party.ID]*ceremony.Descriptor{"alice": alice, "bob": &bob} {
		go func() {
			_, err := ceremony.Run(context.Background(), d, ceremony.Config{Self: id, Share: shares[id], Transport: net.Endpoint(id)})
			errs <- err
		}()
	}
	for range signers {
		select {
		case err := <-errs:
			// Each party drops the other's messages (another session), so
			// neither signs anything; the deadline ends both.
			if !errors.Is(err, ceremony.ErrTimeout) {
				t.Fatalf("got %v, want a timeout", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a party with a different index hangs past the deadline")
		}
	}
	if el := time.Since(began); el > 6*time.Second {
		t.Fatalf("took %s", el)
	}
}

func TestDerivationIsRefusedBeforeAnythingRuns(t *testing.T) {
	ecdsa := ceremonytest.ECDSAShares(t)
	schnorr := ceremonytest.SchnorrShares(t)
	cases := []struct {
		name, want string
		shares     map[party.ID]*ceremony.Share
		edit       func(*ceremony.Descriptor)
	}{
		{"a hardened index", "hardened derivation unsupported", ecdsa, func(d *ceremony.Descriptor) { d.Index = index(1 << 31) }},
		{"the largest index", "hardened derivation unsupported", ecdsa, func(d *ceremony.Descriptor) { d.Index = index(^uint32(0)) }},
		{"a schnorr wallet", "no chain code (SECURITY.md #15)", schnorr, func(d *ceremony.Descriptor) { d.Index = index(0) }},
		{"an index with a presignature", "cannot sign for a derived index", ecdsa, func(d *ceremony.Descriptor) { d.Index, d.PresignatureID = index(1), "p1" }},
		{"an index on a refresh", "only sign ceremonies take a derivation index", ecdsa, func(d *ceremony.Descriptor) {
			d.Kind, d.Digest, d.Parties, d.Index = ceremony.KindRefresh, nil, ceremonytest.FixtureParties, index(1)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := ceremonytest.Sign(c.shares, ceremonytest.Digest("x"), "alice", "bob")
			c.edit(d)
			sent := 0
			_, err := ceremony.Run(ctx, d, ceremony.Config{Self: "alice", Share: c.shares["alice"], Transport: countingTransport{sent: &sent}})
			if !errors.Is(err, ceremony.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an invalid-ceremony error containing %q", err, c.want)
			}
			if sent != 0 {
				t.Fatalf("%d messages were sent", sent)
			}
		})
	}
	t.Run("Share refuses too, without panicking", func(t *testing.T) {
		if _, err := ecdsa["alice"].DeriveChild(1 << 31); err == nil || !strings.Contains(err.Error(), "hardened") {
			t.Fatalf("hardened: %v", err)
		}
		if _, err := schnorr["alice"].ChildPublicKey(0); !errors.Is(err, ceremony.ErrSchnorrDerivation) {
			t.Fatalf("schnorr: %v", err)
		}
	})
}
