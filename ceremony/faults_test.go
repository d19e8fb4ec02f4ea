package ceremony_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
)

// asError extracts the ceremony error.
func asError(t *testing.T, err error) *ceremony.Error {
	t.Helper()
	var e *ceremony.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want a *ceremony.Error", err, err)
	}
	return e
}

// requireBlamed checks that every honest party failed naming the culprit,
// and that at least one found it at fault first-hand (the others may have
// learned it from that party's abort notice).
func requireBlamed(t *testing.T, out map[party.ID]ceremonytest.Outcome, culprit party.ID, honest ...party.ID) {
	t.Helper()
	firstHand := false
	for _, id := range honest {
		err := out[id].Err
		if err == nil {
			t.Fatalf("%s succeeded, want it to fail naming %s", id, culprit)
		}
		e := asError(t, err)
		if !e.Blames(culprit) || !strings.Contains(err.Error(), string(culprit)) {
			t.Fatalf("%s's error does not name %s: %v", id, culprit, err)
		}
		if errors.Is(err, ceremony.ErrMisbehaviour) && len(e.Culprits) == 1 && e.Culprits[0] == culprit {
			firstHand = true
		}
	}
	if !firstHand {
		t.Fatalf("no honest party found %s at fault itself: %v", culprit, out)
	}
}

func TestDeadlineNamesTheSilentParty(t *testing.T) {
	for _, scheme := range []ceremony.Scheme{ceremony.SchemeSchnorr, ceremony.SchemeECDSA} {
		t.Run(string(scheme)+": alice and bob time out waiting for carol", func(t *testing.T) {
			if scheme == ceremony.SchemeECDSA {
				slowCMP(t)
			}
			// A CMP sign's first round takes a second or more on a busy
			// machine: its parties get time to finish computing, so that
			// they are waiting for carol when the deadline comes.
			deadline := 3 * time.Second
			if scheme == ceremony.SchemeECDSA {
				deadline = 8 * time.Second
			}
			shares := fixtureShares(t, scheme)
			d := ceremonytest.Sign(shares, ceremonytest.Digest("silent"), ceremonytest.FixtureParties...)
			d.Deadline = time.Now().Add(deadline)
			net := ceremony.NewMemoryNetwork(d.Parties...)
			began := time.Now()
			out := ceremonytest.Run(ctx, d, net, []party.ID{"alice", "bob"}, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] })
			timedOut := false
			for _, id := range []party.ID{"alice", "bob"} {
				err := out[id].Err
				if err == nil || !strings.Contains(err.Error(), "waiting for carol") {
					t.Fatalf("%s: got %v, want an error waiting for carol", id, err)
				}
				if e := asError(t, err); errors.Is(err, ceremony.ErrTimeout) && len(e.Waiting) == 1 && e.Waiting[0] == "carol" {
					timedOut = true
				}
			}
			if !timedOut {
				t.Fatalf("neither party reports a timeout naming carol: %v", out)
			}
			if el := time.Since(began); el > 2*deadline {
				t.Fatalf("took %s, the deadline was %s", el, deadline)
			}
		})
	}
}

func TestMalformedMessagesAbortNamingTheSender(t *testing.T) {
	shares := ceremonytest.SchnorrShares(t)
	signers := ceremonytest.FixtureParties
	garbage := make([]byte, 300)
	_, _ = rand.Read(garbage)
	cases := []struct {
		name      string
		intercept ceremonytest.Intercept
	}{
		{"random bytes instead of a message", replacePayload("carol", garbage)},
		{"an empty CBOR map", replacePayload("carol", []byte{0xa0})},
		{"an inner From of another party", tamperAll("carol", func(pm *protocol.Message) { pm.From = "alice" })},
		{"an empty session hash", tamperAll("carol", func(pm *protocol.Message) { pm.SSID = nil })},
		{"another session's hash", tamperAll("carol", func(pm *protocol.Message) { pm.SSID = ceremonytest.Digest("another session") })},
		{"another protocol", tamperAll("carol", func(pm *protocol.Message) { pm.Protocol = "cmp/sign" })},
		{"round number 0", tamperAll("carol", func(pm *protocol.Message) { pm.RoundNumber = 0 })},
		{"round number past the last", tamperAll("carol", func(pm *protocol.Message) { pm.RoundNumber = 99 })},
		{"no content", tamperAll("carol", func(pm *protocol.Message) { pm.Data = nil })},
		{"a broadcast flagged point-to-point", tamperAll("carol", func(pm *protocol.Message) { pm.Broadcast = false })},
		{"a payload over the size limit", replacePayload("carol", make([]byte, ceremony.DefaultMaxMessageSize+1))},
		{"an unknown message type", func(to party.ID, m *ceremony.Message) []*ceremony.Message {
			if m.From == "carol" {
				m.Type = 9
			}
			return []*ceremony.Message{m}
		}},
	}
	for _, c := range cases {
		t.Run(c.name+" is blamed on carol", func(t *testing.T) {
			d := ceremonytest.Sign(shares, ceremonytest.Digest(c.name), signers...)
			net := ceremony.NewMemoryNetwork(signers...)
			net.SetIntercept(c.intercept)
			out := ceremonytest.Run(ctx, d, net, signers, func(id party.ID, cfg *ceremony.Config) { cfg.Share = shares[id] })
			requireBlamed(t, out, "carol", "alice", "bob")
		})
	}
}

func replacePayload(from party.ID, payload []byte) ceremonytest.Intercept {
	return func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		if m.From == from && m.Type == ceremony.TypeProtocol {
			m.Payload = payload
		}
		return []*ceremony.Message{m}
	}
}

// tamperAll rewrites every protocol message from `from` in every round.
func tamperAll(from party.ID, f func(*protocol.Message)) ceremonytest.Intercept {
	var hooks []ceremonytest.Intercept
	for r := 2; r <= 8; r++ {
		hooks = append(hooks, ceremonytest.Tamper(from, r, true, f), ceremonytest.Tamper(from, r, false, f))
	}
	return ceremonytest.Chain(hooks...)
}

func TestMessagesFromOutsidersOrOtherSessionsAreDropped(t *testing.T) {
	shares := ceremonytest.SchnorrShares(t)
	signers := []party.ID{"alice", "bob"}
	d := ceremonytest.Sign(shares, ceremonytest.Digest("noise"), signers...)
	net := ceremony.NewMemoryNetwork(signers...)
	net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		outsider := *m
		outsider.From = "mallory"
		outsider.Payload = []byte("garbage")
		otherSession := *m
		otherSession.SessionID = ceremonytest.Digest("another ceremony")
		otherSession.Payload = []byte("garbage")
		forCarol := *m
		forCarol.To = "carol"
		return []*ceremony.Message{&outsider, &otherSession, &forCarol, m}
	})
	out := ceremonytest.Run(ctx, d, net, signers, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] })
	verify(t, ceremony.SchemeSchnorr, shares["alice"].PublicKey(), d.Digest, sameSignature(t, requireOK(t, out)))
}

func TestDuplicatedAndReorderedDeliveryStillCompletes(t *testing.T) {
	for _, scheme := range []ceremony.Scheme{ceremony.SchemeSchnorr, ceremony.SchemeECDSA} {
		t.Run(string(scheme)+" signing with every message three times, later rounds first", func(t *testing.T) {
			if scheme == ceremony.SchemeECDSA {
				slowCMP(t)
			}
			shares := fixtureShares(t, scheme)
			d := ceremonytest.Sign(shares, ceremonytest.Digest("shuffled"), ceremonytest.FixtureParties...)
			net := ceremony.NewMemoryNetwork(d.Parties...)
			reorder := ceremonytest.NewReorder(net)
			net.SetIntercept(ceremonytest.Chain(reorder.Intercept, ceremonytest.Duplicate(3)))
			stop := flushEvery(reorder, 50*time.Millisecond)
			defer stop()
			out := ceremonytest.Run(ctx, d, net, d.Parties, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] })
			verify(t, scheme, shares["alice"].PublicKey(), d.Digest, sameSignature(t, requireOK(t, out)))
		})
	}
}

func flushEvery(r *ceremonytest.Reorder, every time.Duration) func() {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				r.Flush()
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

func TestTwoDifferentMessagesForOneRoundAreEquivocation(t *testing.T) {
	shares := ceremonytest.SchnorrShares(t)
	d := ceremonytest.Sign(shares, ceremonytest.Digest("equivocate"), ceremonytest.FixtureParties...)
	net := ceremony.NewMemoryNetwork(d.Parties...)
	net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		if m.From != "carol" || m.Type != ceremony.TypeProtocol || m.Round != 2 {
			return []*ceremony.Message{m}
		}
		other := *m
		other.Payload = append([]byte(nil), m.Payload...)
		pm := new(protocol.Message)
		_ = pm.UnmarshalBinary(other.Payload)
		pm.BroadcastVerification = []byte("a different view")
		other.Payload, _ = pm.MarshalBinary()
		return []*ceremony.Message{m, &other}
	})
	out := ceremonytest.Run(ctx, d, net, d.Parties, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] })
	requireBlamed(t, out, "carol", "alice", "bob")
	if !strings.Contains(out["alice"].Err.Error()+out["bob"].Err.Error(), "equivocation") {
		t.Fatalf("errors do not say equivocation: %v / %v", out["alice"].Err, out["bob"].Err)
	}
}

func TestConfirmationRound(t *testing.T) {
	parties := ceremonytest.FixtureParties
	t.Run("a different confirmation from carol means no result", func(t *testing.T) {
		d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, parties...)
		net := ceremony.NewMemoryNetwork(parties...)
		net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
			if m.From == "carol" && m.Type == ceremony.TypeConfirm && to == "alice" {
				m.Payload = ceremonytest.Digest("another result")
			}
			return []*ceremony.Message{m}
		})
		out := ceremonytest.Run(ctx, d, net, parties, nil)
		err := out["alice"].Err
		if !errors.Is(err, ceremony.ErrConfirmation) || !asError(t, err).Blames("carol") || ceremony.Unsettled(err) {
			t.Fatalf("alice: got %v, want a settled confirmation error naming carol", err)
		}
	})
	t.Run("a missing confirmation times out naming the party after the share was stored", func(t *testing.T) {
		d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, parties...)
		d.Deadline = time.Now().Add(2 * time.Second)
		net := ceremony.NewMemoryNetwork(parties...)
		net.SetIntercept(ceremonytest.Drop("carol", ceremony.TypeConfirm))
		var stored flags
		out := ceremonytest.Run(ctx, d, net, parties, func(id party.ID, c *ceremony.Config) {
			c.BeforeConfirm = func(*ceremony.Result) error { stored.set(id, true); return nil }
		})
		for _, id := range []party.ID{"alice", "bob"} {
			err := out[id].Err
			// alice and bob each time out, or learn first that the other did.
			if err == nil || !strings.Contains(err.Error(), "waiting for carol: confirmations missing") {
				t.Fatalf("%s: got %v, want a failure naming carol", id, err)
			}
			if !stored.get(id) {
				t.Fatalf("%s never stored its pending share before confirming", id)
			}
			if !ceremony.Unsettled(err) {
				t.Fatalf("%s: a lost confirmation must leave the result unsettled: %v", id, err)
			}
		}
	})
	t.Run("a party that cannot store its share aborts the others at once", func(t *testing.T) {
		d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, parties...)
		net := ceremony.NewMemoryNetwork(parties...)
		began := time.Now()
		out := ceremonytest.Run(ctx, d, net, parties, func(id party.ID, c *ceremony.Config) {
			if id == "carol" {
				c.BeforeConfirm = func(*ceremony.Result) error { return errors.New("disk full") }
			}
		})
		for _, id := range []party.ID{"alice", "bob"} {
			e := asError(t, out[id].Err)
			if !errors.Is(out[id].Err, ceremony.ErrAborted) || e.ReportedBy != "carol" || e.Unsettled {
				t.Fatalf("%s: got %v (unsettled %v), want a settled abort by carol", id, out[id].Err, e.Unsettled)
			}
		}
		if time.Since(began) > 10*time.Second {
			t.Fatalf("the others waited %s instead of stopping at carol's abort", time.Since(began))
		}
	})
	t.Run("an abort passed on by a party that had confirmed stays settled when the aborter had not", func(t *testing.T) {
		// carol aborts instead of confirming, and only alice hears it; bob
		// learns of it from alice, who had confirmed. Nobody can hold
		// carol's confirmation, so bob must discard, not keep pending.
		d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, parties...)
		net := ceremony.NewMemoryNetwork(parties...)
		// carol's notice is held until alice and bob have both confirmed,
		// so alice passes it on as a party that had confirmed.
		var mu sync.Mutex
		confirmed := map[party.ID]bool{}
		both := make(chan struct{})
		net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
			if m.Type == ceremony.TypeConfirm && m.From != "carol" {
				mu.Lock()
				if !confirmed[m.From] {
					confirmed[m.From] = true
					if confirmed["alice"] && confirmed["bob"] {
						close(both)
					}
				}
				mu.Unlock()
			}
			if m.From == "carol" && m.Type == ceremony.TypeConfirm {
				if to != "alice" {
					return nil
				}
				<-both
				m.Type, m.Payload = ceremony.TypeAbort, []byte(`{"reason":"vault lost power"}`)
			}
			return []*ceremony.Message{m}
		})
		out := ceremonytest.Run(ctx, d, net, parties, nil)
		e := asError(t, out["bob"].Err)
		if !errors.Is(out["bob"].Err, ceremony.ErrAborted) || e.ReportedBy != "alice" || e.Unsettled {
			t.Fatalf("bob: got %v (reported by %s, unsettled %v), want a settled abort passed on by alice", out["bob"].Err, e.ReportedBy, e.Unsettled)
		}
	})
}

func TestTransportFailureAndCancellation(t *testing.T) {
	shares := ceremonytest.SchnorrShares(t)
	d := ceremonytest.Sign(shares, ceremonytest.Digest("x"), "alice", "bob")
	t.Run("a broken transport is a transport error", func(t *testing.T) {
		_, err := ceremony.Run(ctx, d, ceremony.Config{Self: "alice", Share: shares["alice"], Transport: brokenTransport{}})
		if !errors.Is(err, ceremony.ErrTransport) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("cancelling the context stops the ceremony", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := ceremony.Run(c, d, ceremony.Config{Self: "alice", Share: shares["alice"],
			Transport: ceremony.NewMemoryNetwork("alice", "bob").Endpoint("alice")})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}

type brokenTransport struct{}

func (brokenTransport) Send(context.Context, *ceremony.Message) error {
	return errors.New("relay gone")
}
func (brokenTransport) Receive(context.Context) (*ceremony.Message, error) {
	return nil, errors.New("relay gone")
}

func TestProgressReportsRoundsAndWhoIsAwaited(t *testing.T) {
	d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, ceremonytest.FixtureParties...)
	net := ceremony.NewMemoryNetwork(d.Parties...)
	var events []ceremony.Event
	out := ceremonytest.Run(ctx, d, net, d.Parties, func(id party.ID, c *ceremony.Config) {
		if id == "alice" {
			c.Progress = func(e ceremony.Event) { events = append(events, e) }
		}
	})
	requireOK(t, out)
	if len(events) < 4 || events[0].Phase != ceremony.PhaseComputing || events[len(events)-1].Phase != ceremony.PhaseDone {
		t.Fatalf("events %+v do not run from computing to done", events)
	}
	seen := map[ceremony.Phase]bool{}
	last, testing := 0, false
	for _, e := range events {
		seen[e.Phase] = true
		switch {
		case e.Phase == ceremony.PhaseTesting && !testing:
			// The test signature with the new shares: a protocol of its
			// own, counted from its round 1, after the keygen and before
			// the confirmations.
			if seen[ceremony.PhaseConfirming] {
				t.Fatalf("test signature after the confirmations: %+v", events)
			}
			testing, last = true, 0
		case e.Phase != ceremony.PhaseTesting && testing && e.Phase != ceremony.PhaseConfirming && e.Phase != ceremony.PhaseDone:
			t.Fatalf("event %+v after the test signature", e)
		}
		if e.Rounds != 3 || e.Round < last || e.Round > 3 {
			t.Fatalf("event %+v: rounds must climb within 1..3", e)
		}
		last = e.Round
		for _, w := range e.Waiting {
			if w == "alice" {
				t.Fatalf("alice waits for herself: %+v", e)
			}
		}
		if e.Phase == ceremony.PhaseWaiting && len(e.Waiting) == 0 {
			t.Fatalf("waiting event names nobody: %+v", e)
		}
	}
	if !seen[ceremony.PhaseWaiting] || !seen[ceremony.PhaseTesting] || !seen[ceremony.PhaseConfirming] {
		t.Fatalf("phases seen: %v", seen)
	}
}

func TestAnAbortThatReachesSomePartiesReachesAll(t *testing.T) {
	// carol's abort reaches alice only; alice must pass the news on, or bob
	// would wait for the deadline.
	d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, ceremonytest.FixtureParties...)
	net := ceremony.NewMemoryNetwork(d.Parties...)
	net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		if m.From == "carol" && m.Type == ceremony.TypeProtocol && m.Round == 2 {
			if to == "alice" {
				m.Type, m.Round, m.Payload = ceremony.TypeAbort, 0, []byte(`{"reason":"vault lost power"}`)
				return []*ceremony.Message{m}
			}
			return nil
		}
		return []*ceremony.Message{m}
	})
	d.Deadline = time.Now().Add(time.Minute)
	began := time.Now()
	out := ceremonytest.Run(ctx, d, net, d.Parties, nil)
	if el := time.Since(began); el > 10*time.Second {
		t.Fatalf("took %s: bob waited for the deadline", el)
	}
	if err := out["bob"].Err; !errors.Is(err, ceremony.ErrAborted) || !strings.Contains(err.Error(), "vault lost power") {
		t.Fatalf("bob: got %v, want the abort relayed by alice", err)
	}
}

func TestTheLibrarysOwnCulpritIsSurfaced(t *testing.T) {
	// A well-formed but wrong FROST response z_i passes every pre-check;
	// the library's verification catches it and names carol (release
	// case 13): the error must carry that culprit, and no signature.
	shares := ceremonytest.SchnorrShares(t)
	d := ceremonytest.Sign(shares, ceremonytest.Digest("bad z"), ceremonytest.FixtureParties...)
	net := ceremony.NewMemoryNetwork(d.Parties...)
	wrong := make([]byte, 32)
	wrong[31] = 7
	net.SetIntercept(ceremonytest.Tamper("carol", 3, true, func(pm *protocol.Message) {
		ceremonytest.SetField(pm, "Z_i", ceremonytest.Bytes(wrong))
	}))
	out := ceremonytest.Run(ctx, d, net, d.Parties, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] })
	requireBlamed(t, out, "carol", "alice", "bob")
	for _, id := range []party.ID{"alice", "bob"} {
		if out[id].Result != nil {
			t.Fatalf("%s produced a result", id)
		}
	}
	if !contains(out["alice"].Err, "failed to verify") && !contains(out["bob"].Err, "failed to verify") {
		t.Fatalf("the library's reason is missing: %v / %v", out["alice"].Err, out["bob"].Err)
	}
}
