package ceremony_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
)

// TestLateMessagesAreDroppedByTheRetry: everything bob sends in a sign is
// held back past the deadline: alice times out cleanly naming bob, and bob
// times out too. The sign is retried (new descriptor ID, so a new session),
// and bob's held messages of the first sign are delivered into the retry
// before anything else: the retry drops them as another session's and
// completes (SECURITY.md release case 23).
func TestLateMessagesAreDroppedByTheRetry(t *testing.T) {
	shares := ceremonytest.SchnorrShares(t)
	digest := ceremonytest.Digest("late delivery")
	signers := []party.ID{"alice", "bob"}

	first := ceremonytest.Sign(shares, digest, signers...)
	first.Deadline = time.Now().Add(2 * time.Second)
	var mu sync.Mutex
	var held []*ceremony.Message
	heldTo := map[*ceremony.Message]party.ID{}
	net := ceremony.NewMemoryNetwork(signers...)
	net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		if m.From != "bob" {
			return []*ceremony.Message{m}
		}
		mu.Lock()
		defer mu.Unlock()
		held = append(held, m)
		heldTo[m] = to
		return nil
	})
	out := ceremonytest.Run(context.Background(), first, net, signers, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] })
	var e *ceremony.Error
	if err := out["alice"].Err; !errors.Is(err, ceremony.ErrTimeout) || !errors.As(err, &e) || !e.Blames("bob") {
		t.Fatalf("alice: got %v, want a timeout waiting for bob", err)
	}
	if out["bob"].Err == nil {
		t.Fatal("bob completed a sign whose messages never left")
	}
	mu.Lock()
	late := held
	mu.Unlock()
	var protocol int
	for _, m := range late {
		if m.Type == ceremony.TypeProtocol {
			protocol++
		}
	}
	if protocol == 0 {
		t.Fatal("bob sent no protocol message to hold back")
	}

	retry := ceremonytest.Sign(shares, digest, signers...)
	net = ceremony.NewMemoryNetwork(signers...)
	for _, m := range late {
		net.Deliver(heldTo[m], m) // first in alice's inbox: before anything of the retry
	}
	out = ceremonytest.Run(context.Background(), retry, net, signers, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] })
	for _, id := range signers {
		if err := out[id].Err; err != nil {
			t.Fatalf("%s: the retry failed: %v", id, err)
		}
	}
	verify(t, ceremony.SchemeSchnorr, shares["alice"].PublicKey(), digest, out["alice"].Result.Signature)
	t.Logf("bob's %d late messages (%d protocol, the rest his abort) were dropped by the retry, which signed", len(late), protocol)
}
