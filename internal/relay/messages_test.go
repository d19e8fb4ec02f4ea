package relay

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
)

func TestMessagesAreNumberedFromOneInOrder(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob")
	cid := openCeremony(t, ps...)
	for i, p := range []party{ps[0], ps[1], ps[0]} {
		seq, err := p.c.Post(ctx(t), cid, KindControl, []byte{byte(i)})
		if err != nil || seq != uint64(i+1) {
			t.Fatalf("post %d: seq %d, %v", i, seq, err)
		}
	}
	msgs, err := ps[1].c.Messages(ctx(t), cid, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Seq != 2 || msgs[1].Seq != 3 || msgs[0].From != ps[1].fp() ||
		msgs[1].Kind != KindControl || !bytes.Equal(msgs[1].Data, []byte{2}) || msgs[1].ReceivedAt.IsZero() {
		t.Fatalf("messages after 1 = %+v", msgs)
	}
}

func TestPostingTheSameMessageAgainReturnsItsSequenceNumber(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob")
	alice, bob := ps[0], ps[1]
	cid := openCeremony(t, ps...)
	env := seal(t, alice, cid, 1, nil, []party{bob}, "round 1")
	for _, m := range []struct {
		kind string
		data []byte
	}{{KindEnvelope, env}, {KindControl, []byte("approve")}} {
		first, err := alice.c.Post(ctx(t), cid, m.kind, m.data)
		if err != nil {
			t.Fatal(err)
		}
		again, err := alice.c.Post(ctx(t), cid, m.kind, m.data)
		if err != nil || again != first {
			t.Fatalf("%s repost: seq %d, %v; want %d", m.kind, again, err, first)
		}
	}
	// the same control bytes from another sender are another message
	if seq, err := bob.c.Post(ctx(t), cid, KindControl, []byte("approve")); err != nil || seq != 3 {
		t.Fatalf("bob's approve: seq %d, %v; want 3", seq, err)
	}
	msgs, _ := bob.c.Messages(ctx(t), cid, 0, 0)
	if len(msgs) != 3 {
		t.Fatalf("log holds %d messages, want 3", len(msgs))
	}
}

func TestABroadcastEquivocationIsRefusedAndKeptAsEvidence(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob", "carol")
	alice, bob, carol := ps[0], ps[1], ps[2]
	cid := openCeremony(t, ps...)
	first := seal(t, alice, cid, 2, nil, []party{bob, carol}, "commitment A")
	second := seal(t, alice, cid, 2, nil, []party{bob, carol}, "commitment B")
	seq, err := alice.c.Post(ctx(t), cid, KindEnvelope, first)
	if err != nil {
		t.Fatal(err)
	}
	_, err = alice.c.Post(ctx(t), cid, KindEnvelope, second)
	ae := apiErr(t, err, http.StatusConflict, "equivocation")
	if !strings.Contains(ae.Message, "already stored") {
		t.Errorf("message = %q", ae.Message)
	}

	ev, err := r.store.Evidence(cid)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].From != alice.fp() || ev[0].Round != 2 || ev[0].Type != 1 || ev[0].To != "" ||
		ev[0].FirstSeq != seq || !bytes.Equal(ev[0].First, first) || !bytes.Equal(ev[0].Second, second) {
		t.Fatalf("evidence = %+v", ev)
	}
	// both are signed by alice: anyone can check the evidence
	sender := func(fp string) (identity.Public, bool) { return alice.id.Public, fp == alice.fp() }
	for _, raw := range [][]byte{ev[0].First, ev[0].Second} {
		if _, err := envelope.Inspect(raw, sender); err != nil {
			t.Errorf("evidence does not verify: %v", err)
		}
	}
	if recs := r.logs.records("equivocation"); len(recs) != 1 || recs[0]["level"] != "WARN" || recs[0]["identity"] != alice.fp() {
		t.Errorf("log = %v", recs)
	}
	// everyone sees the first broadcast only
	for _, p := range []party{bob, carol} {
		msgs, err := p.c.Messages(ctx(t), cid, 0, 0)
		if err != nil || len(msgs) != 1 || !bytes.Equal(msgs[0].Data, first) {
			t.Fatalf("%s sees %d messages, %v", p.id.Name, len(msgs), err)
		}
	}
}

func TestEachRecipientOfARoundHasItsOwnSlot(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob", "carol")
	alice, bob, carol := ps[0], ps[1], ps[2]
	cid := openCeremony(t, ps...)
	toBob := seal(t, alice, cid, 3, &bob, nil, "share for bob")
	toCarol := seal(t, alice, cid, 3, &carol, nil, "share for carol")
	for _, env := range [][]byte{toBob, toCarol} {
		if _, err := alice.c.Post(ctx(t), cid, KindEnvelope, env); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bob.c.Post(ctx(t), cid, KindControl, []byte("start")); err != nil {
		t.Fatal(err)
	}

	t.Run("a member sees control messages and what is addressed to it", func(t *testing.T) {
		msgs, err := carol.c.Messages(ctx(t), cid, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2 || !bytes.Equal(msgs[0].Data, toCarol) || msgs[0].To != carol.fp() || msgs[1].Kind != KindControl {
			t.Fatalf("carol sees %+v", msgs)
		}
	})
	t.Run("the sender sees what it sent", func(t *testing.T) {
		msgs, err := alice.c.Messages(ctx(t), cid, 0, 0)
		if err != nil || len(msgs) != 3 {
			t.Fatalf("alice sees %d messages, %v", len(msgs), err)
		}
	})
}

func TestEnvelopesThatDoNotBelongAreRefused(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob", "mallory")
	alice, bob, mallory := ps[0], ps[1], ps[2]
	cid := openCeremony(t, alice, bob)
	other := openCeremony(t, alice, bob)
	tests := []struct {
		name string
		data []byte
	}{
		{"bytes that are not an envelope", []byte("garbage")},
		{"another ceremony's envelope", seal(t, alice, other, 1, nil, []party{bob}, "x")},
		{"an envelope from another member", seal(t, bob, cid, 1, nil, []party{alice}, "x")},
		{"an envelope to a non-member", seal(t, alice, cid, 1, &mallory, nil, "x")},
		{"an envelope sealed by a non-member", seal(t, mallory, cid, 1, nil, []party{alice, bob}, "x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := alice.c.Post(ctx(t), cid, KindEnvelope, tt.data)
			apiErr(t, err, http.StatusBadRequest, "bad_envelope")
		})
	}
	t.Run("an unknown kind", func(t *testing.T) {
		_, err := alice.c.Post(ctx(t), cid, "gossip", []byte("x"))
		apiErr(t, err, http.StatusBadRequest, "bad_message")
	})
}

func TestALongPollReturnsAsSoonAsAMessageIsPosted(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob")
	cid := openCeremony(t, ps...)
	type result struct {
		msgs []Message
		err  error
		at   time.Time
	}
	got := make(chan result, 1)
	go func() {
		msgs, err := ps[1].c.Messages(ctx(t), cid, 0, 10*time.Second)
		got <- result{msgs, err, time.Now()}
	}()
	time.Sleep(100 * time.Millisecond) // let the poll reach the relay and wait
	if _, err := ps[0].c.Post(ctx(t), cid, KindControl, []byte("go")); err != nil {
		t.Fatal(err)
	}
	posted := time.Now()
	res := <-got
	if res.err != nil || len(res.msgs) != 1 {
		t.Fatalf("poll: %+v, %v", res.msgs, res.err)
	}
	lag := res.at.Sub(posted)
	t.Logf("delivered %v after the post returned", lag)
	if lag > 50*time.Millisecond {
		t.Errorf("delivered %v after the post, want a few milliseconds", lag)
	}
}

func TestALongPollIgnoresMessagesForOthersAndTimesOut(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob", "carol")
	cid := openCeremony(t, ps...)
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = ps[0].c.Post(ctx(t), cid, KindEnvelope, seal(t, ps[0], cid, 1, &ps[1], nil, "for bob"))
	}()
	began := time.Now()
	msgs, err := ps[2].c.Messages(ctx(t), cid, 0, 300*time.Millisecond)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("carol got %+v, %v", msgs, err)
	}
	if el := time.Since(began); el < 250*time.Millisecond || el > 2*time.Second {
		t.Errorf("poll returned after %v, want about 300ms", el)
	}
}

func TestAnInboxLongPollWakesWhenACeremonyIsCreated(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob")
	got := make(chan []InboxItem, 1)
	go func() {
		items, _ := ps[1].c.Inbox(ctx(t), 0, 10*time.Second)
		got <- items
	}()
	time.Sleep(50 * time.Millisecond)
	cid := openCeremony(t, ps...)
	select {
	case items := <-got:
		if len(items) != 1 || items[0].CeremonyID != cid {
			t.Fatalf("inbox = %+v", items)
		}
	case <-time.After(time.Second):
		t.Fatal("the inbox poll did not wake")
	}
}

// A path given to Client.Do may carry a query: it reaches the handler, and
// the request's signature (over the path and the query) verifies.
func TestClientDoSendsTheQueryOfItsPath(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob")
	cid := openCeremony(t, ps...)
	for i := range 3 {
		if _, err := ps[0].c.Post(ctx(t), cid, KindControl, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var out messagesResponse
	if err := ps[1].c.Do(ctx(t), http.MethodGet, "/v1/ceremonies/"+cid+"/messages?after=2&wait=0", nil, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || out.Messages[0].Seq != 3 {
		t.Fatalf("messages after 2 = %+v, want only #3", out.Messages)
	}
}
