package ceremony_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

var ctx = context.Background()

// requireOK fails the test unless every party succeeded, and returns the
// results.
func requireOK(t *testing.T, out map[party.ID]ceremonytest.Outcome) map[party.ID]*ceremony.Result {
	t.Helper()
	res := map[party.ID]*ceremony.Result{}
	for id, o := range out {
		if o.Err != nil {
			t.Fatalf("%s failed: %v", id, o.Err)
		}
		res[id] = o.Result
	}
	return res
}

// verify checks a signature with code independent of the signer:
// go-ethereum's ecrecover (libsecp256k1 under cgo) for ECDSA, btcec for
// BIP-340 Schnorr.
func verify(t *testing.T, scheme ceremony.Scheme, publicKey, digest, sig []byte) {
	t.Helper()
	if scheme == ceremony.SchemeSchnorr {
		if err := bitcoin.VerifySchnorr(publicKey, digest, sig); err != nil {
			t.Fatalf("btcec rejects the signature: %v", err)
		}
		return
	}
	addr, err := ethereum.Address(publicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := ethereum.VerifyDigest(addr, digest, sig); err != nil {
		t.Fatalf("go-ethereum rejects the signature: %v", err)
	}
}

// sameSignature checks that every signer returned the same signature.
func sameSignature(t *testing.T, res map[party.ID]*ceremony.Result) []byte {
	t.Helper()
	var sig []byte
	for id, r := range res {
		if sig == nil {
			sig = r.Signature
		} else if !bytes.Equal(sig, r.Signature) {
			t.Fatalf("%s returned a different signature", id)
		}
	}
	return sig
}

func TestECDSAKeygenGivesEveryPartyAConfirmedShareOfOneKey(t *testing.T) {
	slowCMP(t)
	d := ceremonytest.Keygen(ceremony.SchemeECDSA, 2, ceremonytest.FixtureParties...)
	var stored flags
	net := ceremony.NewMemoryNetwork(d.Parties...)
	out := ceremonytest.Run(ctx, d, net, d.Parties, func(id party.ID, c *ceremony.Config) {
		c.BeforeConfirm = func(r *ceremony.Result) error { stored.set(id, r.Share != nil); return nil }
	})
	res := requireOK(t, out)
	pub := res["alice"].PublicKey
	for id, r := range res {
		if !bytes.Equal(r.PublicKey, pub) || len(pub) != 33 {
			t.Errorf("%s has public key %x, alice %x", id, r.PublicKey, pub)
		}
		if len(r.Confirmations) != 3 || !stored.get(id) {
			t.Errorf("%s: %d confirmations, stored before confirming: %v", id, len(r.Confirmations), stored.get(id))
		}
		if r.Share.PartyID() != id || r.Share.Required() != 2 {
			t.Errorf("%s got share %v", id, r.Share)
		}
	}
	digest := ceremonytest.Digest("fresh wallet signs")
	sig := sameSignature(t, requireOK(t, runSign(t, ceremonytest.Shares(out), digest, "bob", "carol")))
	verify(t, ceremony.SchemeECDSA, pub, digest, sig)
}

func runSign(t *testing.T, shares map[party.ID]*ceremony.Share, digest []byte, signers ...party.ID) map[party.ID]ceremonytest.Outcome {
	t.Helper()
	out, _ := ceremonytest.RunAll(ctx, ceremonytest.Sign(shares, digest, signers...), shares)
	return out
}

func TestECDSASignWithEveryPairOfSigners(t *testing.T) {
	slowCMP(t)
	shares := ceremonytest.ECDSAShares(t)
	pub := shares["alice"].PublicKey()
	for _, pair := range [][]party.ID{{"alice", "bob"}, {"alice", "carol"}, {"bob", "carol"}} {
		t.Run(fmt.Sprintf("%s and %s make a signature go-ethereum recovers", pair[0], pair[1]), func(t *testing.T) {
			digest := ceremonytest.Digest("pay " + string(pair[0]))
			res := requireOK(t, runSign(t, shares, digest, pair...))
			sig := sameSignature(t, res)
			if len(sig) != 65 || sig[64] > 1 {
				t.Fatalf("signature %x is not r||s||v with v in {0,1}", sig)
			}
			verify(t, ceremony.SchemeECDSA, pub, digest, sig)
		})
	}
	t.Run("all three signers also sign", func(t *testing.T) {
		digest := ceremonytest.Digest("three signers")
		verify(t, ceremony.SchemeECDSA, pub, digest, sameSignature(t, requireOK(t, runSign(t, shares, digest, ceremonytest.FixtureParties...))))
	})
}

func TestRefreshKeepsTheKeyAndNewSharesSign(t *testing.T) {
	for _, scheme := range []ceremony.Scheme{ceremony.SchemeECDSA, ceremony.SchemeSchnorr} {
		t.Run(string(scheme), func(t *testing.T) {
			if scheme == ceremony.SchemeECDSA {
				slowCMP(t)
			}
			old := fixtureShares(t, scheme)
			before := map[party.ID][]byte{}
			for id, sh := range old {
				before[id], _ = sh.MarshalBinary()
			}
			out, _ := ceremonytest.RunAll(ctx, ceremonytest.Refresh(old), old)
			res := requireOK(t, out)
			for id, sh := range old {
				if b, _ := sh.MarshalBinary(); !bytes.Equal(b, before[id]) {
					t.Fatalf("%s: refresh modified the caller's old share in place", id)
				}
			}
			fresh := ceremonytest.Shares(out)
			for id, r := range res {
				if !bytes.Equal(r.PublicKey, old[id].PublicKey()) {
					t.Fatalf("%s: refresh changed the public key", id)
				}
				if bytes.Equal(r.ConfigDigest, old[id].ConfigDigest()) || r.Share.Equal(old[id]) {
					t.Fatalf("%s: refresh did not change the share", id)
				}
			}
			digest := ceremonytest.Digest("after rotation")
			sig := sameSignature(t, requireOK(t, runSign(t, fresh, digest, "bob", "carol")))
			verify(t, scheme, old["alice"].PublicKey(), digest, sig)

			t.Run("an old share cannot join a ceremony on the new epoch", func(t *testing.T) {
				d := ceremonytest.Sign(fresh, digest, "alice", "bob")
				_, err := ceremony.Run(ctx, d, ceremony.Config{Self: "alice", Share: old["alice"],
					Transport: ceremony.NewMemoryNetwork("alice", "bob").Endpoint("alice")})
				if !errors.Is(err, ceremony.ErrInvalid) || !contains(err, "share epoch mismatch") {
					t.Fatalf("got %v, want an immediate share epoch mismatch", err)
				}
			})
		})
	}
}

func fixtureShares(t *testing.T, scheme ceremony.Scheme) map[party.ID]*ceremony.Share {
	if scheme == ceremony.SchemeECDSA {
		return ceremonytest.ECDSAShares(t)
	}
	return ceremonytest.SchnorrShares(t)
}

func TestSchnorrKeygenAndSignVerifyWithBtcec(t *testing.T) {
	shares := ceremonytest.SchnorrShares(t)
	pub := shares["alice"].PublicKey()
	if len(pub) != 32 {
		t.Fatalf("x-only key is %d bytes", len(pub))
	}
	for _, pair := range [][]party.ID{{"alice", "bob"}, {"alice", "carol"}, {"bob", "carol"}} {
		t.Run(fmt.Sprintf("%s and %s sign", pair[0], pair[1]), func(t *testing.T) {
			digest := ceremonytest.Digest("taproot " + string(pair[1]))
			sig := sameSignature(t, requireOK(t, runSign(t, shares, digest, pair...)))
			verify(t, ceremony.SchemeSchnorr, pub, digest, sig)
		})
	}
}

func TestPresignatureIsMarkedUsedBeforeItSigns(t *testing.T) {
	slowCMP(t)
	shares := ceremonytest.ECDSAShares(t)
	signers := []party.ID{"alice", "carol"}
	pd := ceremonytest.Sign(shares, nil, signers...)
	pd.Kind, pd.Digest = ceremony.KindPresign, nil
	pre := requireOK(t, func() map[party.ID]ceremonytest.Outcome { o, _ := ceremonytest.RunAll(ctx, pd, shares); return o }())

	digest := ceremonytest.Digest("one round")
	d := ceremonytest.Sign(shares, digest, signers...)
	d.PresignatureID = "ps-1"
	var marked, sentUnmarked flags
	net := ceremony.NewMemoryNetwork(signers...)
	// Release case 28: no signature share leaves a party before its mark.
	net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		if m.Type == ceremony.TypeProtocol && !marked.get(m.From) {
			sentUnmarked.set(m.From, true)
		}
		return []*ceremony.Message{m}
	})
	out := ceremonytest.Run(ctx, d, net, signers, func(id party.ID, c *ceremony.Config) {
		c.Share, c.Presignature = shares[id], pre[id].Presignature
		c.MarkPresignatureUsed = func() error { marked.set(id, true); return nil }
	})
	sig := sameSignature(t, requireOK(t, out))
	verify(t, ceremony.SchemeECDSA, shares["alice"].PublicKey(), digest, sig)
	if !marked.get("alice") || !marked.get("carol") {
		t.Fatal("presignature not marked used by every signer")
	}
	if sentUnmarked.get("alice") || sentUnmarked.get("carol") {
		t.Fatal("a signer sent its signature share before marking the presignature used")
	}

	t.Run("a presignature that cannot be marked used never signs", func(t *testing.T) {
		d := ceremonytest.Sign(shares, digest, signers...)
		d.PresignatureID = "ps-1"
		net := ceremony.NewMemoryNetwork(signers...)
		var sent flags
		net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
			if m.Type == ceremony.TypeProtocol {
				sent.set(m.From, true)
			}
			return []*ceremony.Message{m}
		})
		_, err := ceremony.Run(ctx, d, ceremony.Config{Self: "alice", Share: shares["alice"], Presignature: pre["alice"].Presignature,
			Transport:            net.Endpoint("alice"),
			MarkPresignatureUsed: func() error { return errors.New("disk full") }})
		if err == nil || !contains(err, "could not mark the presignature used") {
			t.Fatalf("got %v", err)
		}
		if sent.get("alice") {
			t.Fatal("alice sent a signature share although her presignature could not be marked used")
		}
	})
}

// slowCMP skips a test that runs CMP ceremonies (seconds each, minutes under
// the race detector) when -short is given.
func slowCMP(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs CMP ceremonies (seconds each); skipped with -short")
	}
}

// flags is a per-party flag set written from party goroutines.
type flags struct {
	mu sync.Mutex
	m  map[party.ID]bool
}

func (f *flags) set(id party.ID, v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[party.ID]bool{}
	}
	f.m[id] = v
}

func (f *flags) get(id party.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[id]
}

func contains(err error, s string) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte(s))
}
