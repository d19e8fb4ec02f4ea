package ceremony_test

import (
	"bytes"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
)

// presign runs a presign ceremony among signers of the fixture wallet and
// returns each signer's presignature.
func presign(t *testing.T, shares map[party.ID]*ceremony.Share, signers ...party.ID) map[party.ID]*ceremony.Presignature {
	t.Helper()
	pd := ceremonytest.Sign(shares, nil, signers...)
	pd.Kind, pd.Digest = ceremony.KindPresign, nil
	out, _ := ceremonytest.RunAll(ctx, pd, shares)
	pre := map[party.ID]*ceremony.Presignature{}
	for id, r := range requireOK(t, out) {
		pre[id] = r.Presignature
	}
	return pre
}

// signOnline signs digest with a presignature through the engine, with a
// "mark used" that records nothing: the guard switched off.
func signOnline(t *testing.T, shares map[party.ID]*ceremony.Share, pre map[party.ID]*ceremony.Presignature, digest []byte, signers ...party.ID) []byte {
	t.Helper()
	d := ceremonytest.Sign(shares, digest, signers...)
	d.PresignatureID = "reused"
	out := ceremonytest.Run(ctx, d, ceremony.NewMemoryNetwork(signers...), signers, func(id party.ID, c *ceremony.Config) {
		c.Share, c.Presignature = shares[id], pre[id]
		c.MarkPresignatureUsed = func() error { return nil }
	})
	return sameSignature(t, requireOK(t, out))
}

func TestPresignatureSurvivesStorage(t *testing.T) {
	slowCMP(t)
	shares := ceremonytest.ECDSAShares(t)
	signers := []party.ID{"alice", "bob"}
	pre := presign(t, shares, signers...)
	stored := map[party.ID]*ceremony.Presignature{}
	for id, ps := range pre {
		b, err := ceremony.MarshalPresignature(ps)
		if err != nil {
			t.Fatal(err)
		}
		if stored[id], err = ceremony.UnmarshalPresignature(b); err != nil {
			t.Fatal(err)
		}
		if got := stored[id].SignerIDs(); !slices2Equal(got, signers) {
			t.Fatalf("signers after a round trip: %v", got)
		}
		// Any change to the bytes is refused, never half-read.
		for _, cut := range []int{0, 1, len(b) / 2, len(b) - 1} {
			if _, err := ceremony.UnmarshalPresignature(b[:cut]); !errors.Is(err, ceremony.ErrPresignatureFormat) {
				t.Fatalf("truncated to %d bytes: %v", cut, err)
			}
		}
	}
	digest := ceremonytest.Digest("stored presignature")
	sig := signOnline(t, shares, stored, digest, signers...)
	verify(t, ceremony.SchemeECDSA, shares["alice"].PublicKey(), digest, sig)
}

// TestPresignatureReuseRecoversTheKey is SECURITY.md appendix B4: one
// presignature used for two digests gives two signatures with the same r,
// and anyone who sees them (they are public: on chain) solves for the
// nonce k and then for the private key x. This is why every party marks a
// presignature used, durably, before it computes its signature share, and
// refuses a second use (shares.Store.MarkPresignatureUsed, and the tests
// of internal/holder and internal/coord).
func TestPresignatureReuseRecoversTheKey(t *testing.T) {
	slowCMP(t)
	shares := ceremonytest.ECDSAShares(t)
	signers := []party.ID{"alice", "carol"}
	pre := presign(t, shares, signers...)
	m1, m2 := ceremonytest.Digest("pay ana 1 ETH"), ceremonytest.Digest("pay mallory 100 ETH")
	sig1 := signOnline(t, shares, pre, m1, signers...)
	sig2 := signOnline(t, shares, pre, m2, signers...)
	pub := shares["alice"].PublicKey()
	verify(t, ceremony.SchemeECDSA, pub, m1, sig1)
	verify(t, ceremony.SchemeECDSA, pub, m2, sig2)
	if !bytes.Equal(sig1[:32], sig2[:32]) {
		t.Fatal("two signatures from one presignature should share r")
	}

	// From here on only public values: the two signatures and digests.
	n := crypto.S256().Params().N
	r := new(big.Int).SetBytes(sig1[:32])
	e1, e2 := new(big.Int).SetBytes(m1), new(big.Int).SetBytes(m2)
	s1 := new(big.Int).SetBytes(sig1[32:64])
	// Signatures are normalised to low s, so s2 is ±(k⁻¹(m2+rx)).
	for _, neg := range []bool{false, true} {
		s2 := new(big.Int).SetBytes(sig2[32:64])
		if neg {
			s2.Sub(n, s2)
		}
		for _, neg1 := range []bool{false, true} {
			s1 := new(big.Int).Set(s1)
			if neg1 {
				s1.Sub(n, s1)
			}
			// k = (m1 - m2) / (s1 - s2);  x = (s1·k - m1) / r
			ds := new(big.Int).Mod(new(big.Int).Sub(s1, s2), n)
			if ds.Sign() == 0 {
				continue
			}
			k := new(big.Int).Mul(new(big.Int).Sub(e1, e2), new(big.Int).ModInverse(ds, n))
			k.Mod(k, n)
			x := new(big.Int).Sub(new(big.Int).Mul(s1, k), e1)
			x.Mul(x, new(big.Int).ModInverse(r, n))
			x.Mod(x, n)
			if x.Sign() == 0 {
				continue
			}
			priv, err := crypto.ToECDSA(x.FillBytes(make([]byte, 32)))
			if err != nil {
				continue
			}
			if bytes.Equal(crypto.CompressPubkey(&priv.PublicKey), pub) {
				t.Logf("private key recovered from two public signatures made with one presignature")
				return
			}
		}
	}
	t.Fatal("the wallet's private key was not recovered from two signatures with one presignature; the appendix B4 attack should work")
}

func slices2Equal(a, b []party.ID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCMPLeavesTheShareAlone: the engine hands CMP sign, presign and
// presign-online the caller's share without copying it (a copy costs two
// Paillier prime checks), which is only right while the library does not
// change it. A party keeps one parsed share for many ceremonies.
func TestCMPLeavesTheShareAlone(t *testing.T) {
	slowCMP(t)
	shares := ceremonytest.ECDSAShares(t)
	before := map[party.ID][]byte{}
	for id, sh := range shares {
		b, err := sh.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		before[id] = b
	}
	signers := []party.ID{"alice", "bob"}
	digest := ceremonytest.Digest("full")
	out, _ := ceremonytest.RunAll(ctx, ceremonytest.Sign(shares, digest, signers...), shares)
	verify(t, ceremony.SchemeECDSA, shares["alice"].PublicKey(), digest, sameSignature(t, requireOK(t, out)))
	pre := presign(t, shares, signers...)
	digest = ceremonytest.Digest("one round")
	verify(t, ceremony.SchemeECDSA, shares["alice"].PublicKey(), digest, signOnline(t, shares, pre, digest, signers...))
	for id, sh := range shares {
		after, err := sh.MarshalBinary()
		if err != nil || !bytes.Equal(after, before[id]) {
			t.Fatalf("%s's share changed in sign, presign or presign-online", id)
		}
	}
}
