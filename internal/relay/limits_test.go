package relay

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/identity"
)

func TestABodyOverTheCapIsRefusedBeforeItIsRead(t *testing.T) {
	r := startRelay(t, Config{MaxBody: 4 << 10})
	ps := r.register(t, "alice", "bob")
	cid := openCeremony(t, ps...)
	_, err := ps[0].c.Post(ctx(t), cid, KindControl, make([]byte, 8<<10))
	ae := apiErr(t, err, http.StatusRequestEntityTooLarge, "too_large")
	if !strings.Contains(ae.Message, "4096-byte limit") {
		t.Errorf("message = %q", ae.Message)
	}
	if msgs, _ := ps[1].c.Messages(ctx(t), cid, 0, 0); len(msgs) != 0 {
		t.Fatalf("stored %d messages", len(msgs))
	}
}

func TestACeremonyHoldsAtMostItsQuotaOfMessages(t *testing.T) {
	r := startRelay(t, Config{MaxMessages: 3})
	ps := r.register(t, "alice", "bob")
	cid := openCeremony(t, ps...)
	for i := range 3 {
		if _, err := ps[0].c.Post(ctx(t), cid, KindControl, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := ps[1].c.Post(ctx(t), cid, KindControl, []byte("one more"))
	ae := apiErr(t, err, http.StatusRequestEntityTooLarge, "quota_exceeded")
	if !strings.Contains(ae.Message, "ceremony message quota exceeded") {
		t.Errorf("message = %q", ae.Message)
	}
	if seq, err := ps[0].c.Post(ctx(t), cid, KindControl, []byte{1}); err != nil || seq != 2 {
		t.Fatalf("a retry of a stored message: seq %d, %v; want 2", seq, err)
	}
}

func TestAnIdentityHasAtMostItsQuotaOfOpenCeremonies(t *testing.T) {
	now := time.Now()
	var skip atomic.Int64 // how far the relay's clock is ahead
	r := startRelay(t, Config{MaxOpenCeremonies: 2, Now: func() time.Time { return time.Now().Add(time.Duration(skip.Load())) }})
	ps := r.register(t, "alice", "bob")
	create := func(deadline time.Duration) error {
		return ps[0].c.CreateCeremony(ctx(t), CreateCeremony{ID: newCeremonyID(),
			Members: []identity.Public{ps[1].id.Public}, Request: requestStatement(ps[0].fp()), Deadline: now.Add(deadline)})
	}
	for _, d := range []time.Duration{time.Second, time.Hour} {
		if err := create(d); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	apiErr(t, create(time.Hour), http.StatusTooManyRequests, "too_many_ceremonies")
	if el := time.Since(began); el > time.Second {
		t.Errorf("the client retried a quota refusal for %v", el)
	}
	if err := ps[1].c.CreateCeremony(ctx(t), CreateCeremony{ID: newCeremonyID(),
		Members: []identity.Public{ps[0].id.Public}, Request: requestStatement(ps[1].fp()), Deadline: now.Add(time.Hour)}); err != nil {
		t.Fatalf("another initiator: %v", err)
	}
	skip.Store(int64(2 * time.Second)) // the first ceremony's deadline passes
	if err := create(time.Hour); err != nil {
		t.Fatalf("after a deadline passed: %v", err)
	}
}

func TestACallerOverItsRateIsAskedToRetryLater(t *testing.T) {
	r := startRelay(t, Config{Rate: 2, Burst: 3})
	alice := r.register(t, "alice")[0] // takes one token
	statuses := []int{}
	var last rawResponse
	for range 3 {
		last = send(t, r.signed(t, alice.id, http.MethodGet, "/v1/identities", nil, time.Now()))
		statuses = append(statuses, last.status)
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != http.StatusTooManyRequests {
		t.Fatalf("statuses = %v, want 200 200 429", statuses)
	}
	// Retry-After counts whole seconds; the body says when a token is back
	// to the millisecond (at 2 a second: within half a second).
	if last.body.Error != "rate_limited" || last.header.Get("Retry-After") != "1" ||
		last.body.RetryAfterMS <= 0 || last.body.RetryAfterMS > 500 {
		t.Fatalf("429 = %s, Retry-After %q", last.raw, last.header.Get("Retry-After"))
	}
	if recs := r.logs.records("request refused"); len(recs) != 1 || recs[0]["reason"] != "rate_limited" {
		t.Errorf("log = %v", recs)
	}
	if testing.Short() {
		return
	}
	began := time.Now()
	if _, err := alice.c.Roster(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// The client waits what the relay asked, to the millisecond (not a
	// whole second), and not less.
	if el := time.Since(began); el < 300*time.Millisecond {
		t.Errorf("the client came back after %v, before the relay's retry_after_ms", el)
	}
}

func TestTheTokenBucketRefillsAtItsRate(t *testing.T) {
	l := newRateLimiter(10, 2)
	t0 := time.Unix(1000, 0)
	for i, want := range []bool{true, true, false} {
		if ok, _ := l.allow("k", t0); ok != want {
			t.Fatalf("request %d at t0: %v", i, ok)
		}
	}
	if ok, wait := l.allow("k", t0); ok || wait != 100*time.Millisecond {
		t.Fatalf("empty bucket: ok %v, wait %v; want 100ms", ok, wait)
	}
	if ok, _ := l.allow("k", t0.Add(100*time.Millisecond)); !ok {
		t.Fatal("no token after 1/rate")
	}
	if ok, _ := l.allow("other", t0); !ok {
		t.Fatal("buckets are per caller")
	}
}
