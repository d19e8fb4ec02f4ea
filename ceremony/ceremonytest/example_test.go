package ceremonytest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// A 2-of-3 Schnorr wallet's alice and bob sign over a faulty network:
// every message arrives three times, bob's are held back 100 ms, carol's
// first message to alice is lost (carol is not signing, so nothing is
// missed) and an old ceremony's traffic is replayed into this one. The
// engine drops what is not for it and the signature verifies with btcec.
func Example() {
	// A keygen gives the wallet's shares (FROST takes milliseconds).
	keygen := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, "alice", "bob", "carol")
	out, _ := ceremonytest.RunAll(context.Background(), keygen, nil)
	shares := ceremonytest.Shares(out)

	// A first signature, recorded by a relay that will replay it.
	var rec ceremonytest.Recorder
	first := ceremonytest.Sign(shares, ceremonytest.Digest("first"), "alice", "bob")
	net := ceremony.NewMemoryNetwork(first.Parties...)
	net.SetIntercept(rec.Intercept)
	ceremonytest.Run(context.Background(), first, net, first.Parties, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] })

	// The signature under attack.
	d := ceremonytest.Sign(shares, ceremonytest.Digest("pay 1 BTC"), "alice", "bob")
	net = ceremony.NewMemoryNetwork(d.Parties...)
	adv := ceremonytest.NewAdversary(net)
	defer adv.Close()
	adv.Install(
		ceremonytest.ReplayBefore(rec.Deliveries()),
		ceremonytest.Duplicate(3),
		adv.Delay(ceremonytest.From("bob"), 100*time.Millisecond),
		ceremonytest.DropWhere(ceremonytest.Once(ceremonytest.And(ceremonytest.From("carol"), ceremonytest.To("alice")))),
	)
	res := ceremonytest.Run(context.Background(), d, net, d.Parties, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] })

	for _, id := range d.Parties {
		if res[id].Err != nil {
			fmt.Println(id, "failed:", res[id].Err)
			return
		}
	}
	pub, _ := schnorr.ParsePubKey(res["alice"].Result.PublicKey)
	sig, _ := schnorr.ParseSignature(res["alice"].Result.Signature)
	fmt.Println("signature verifies:", sig.Verify(d.Digest, pub))
	// Output: signature verifies: true
}
