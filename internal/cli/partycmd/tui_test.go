package partycmd

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/tui/approvals"
	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
)

// queued returns what the queue holds, oldest first, and empties it.
func queued(q *msgQueue) []tea.Msg {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.msgs
	q.msgs = nil
	return out
}

func TestQueuePushNeverBlocksAndDropsTheOldest(t *testing.T) {
	q := newMsgQueue()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5000 {
			q.push(approvals.LogLine{Text: fmt.Sprint("line ", i)})
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("push blocked with nobody feeding the screen")
	}
	msgs := queued(q)
	if len(msgs) != maxQueued {
		t.Fatalf("%d messages kept, want at most %d", len(msgs), maxQueued)
	}
	first := fmt.Sprint("line ", 5000-maxQueued)
	if msgs[0] != (approvals.LogLine{Text: first}) || msgs[len(msgs)-1] != (approvals.LogLine{Text: "line 4999"}) {
		t.Errorf("kept %v … %v, want the newest: %s … line 4999", msgs[0], msgs[len(msgs)-1], first)
	}
}

func TestQueueCoalescesProgressPerCeremony(t *testing.T) {
	q := newMsgQueue()
	q.push(approvals.Progress{ID: "a", Round: 1, Rounds: 5})
	q.push(approvals.LogLine{Text: "log"})
	q.push(approvals.Progress{ID: "a", Round: 2, Rounds: 5, Waiting: []string{"ben"}})
	q.push(approvals.Progress{ID: "b", Round: 1, Rounds: 3})
	want := []tea.Msg{
		approvals.Progress{ID: "a", Round: 2, Rounds: 5, Waiting: []string{"ben"}},
		approvals.LogLine{Text: "log"},
		approvals.Progress{ID: "b", Round: 1, Rounds: 3},
	}
	if got := queued(q); !reflect.DeepEqual(got, want) {
		t.Errorf("queue holds %#v\nwant %#v", got, want)
	}
}

type recorder struct {
	mu   sync.Mutex
	msgs []tea.Msg
}

func (r *recorder) Send(m tea.Msg) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
}

func (r *recorder) got() []tea.Msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]tea.Msg(nil), r.msgs...)
}

func TestQueueFeedsInOrderUntilCancelled(t *testing.T) {
	q := newMsgQueue()
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		q.feed(ctx, rec)
		close(stopped)
	}()
	var want []tea.Msg
	for i := range 50 {
		m := approvals.LogLine{Text: fmt.Sprint("line ", i)}
		want = append(want, m)
		q.push(m)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.got()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := rec.got(); !reflect.DeepEqual(got, want) {
		t.Fatalf("the screen got %v\nwant %v", got, want)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("feed did not stop when its context ended")
	}
	q.push(approvals.LogLine{Text: "after"})
	time.Sleep(10 * time.Millisecond)
	if n := len(rec.got()); n != len(want) {
		t.Errorf("the screen got %d messages after feed stopped", n-len(want))
	}
}

// The test's ceremony: a long ID, shown by its first 12 characters.
const cid = "0123456789abcdef0123456789abcdef"

var now = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

type fixture struct {
	t                *testing.T
	tui              *tui
	ana, ben, carl   identity.Public
	keygen, sign     *coord.Request
	signWithOperator *coord.Request
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	h, err := home.Init(t.TempDir(), sharestest.NewMemoryKeyring(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	opts := &RunOptions{Now: func() time.Time { return now }, Home: h}
	f := &fixture{t: t, ana: h.ID.Public}
	f.tui = &tui{opts: opts, q: newMsgQueue(), answers: map[string]chan approvals.Decision{}, asked: map[string]bool{}, approved: map[string]bool{}}
	f.ben, f.carl = newIdentity(t, "ben"), newIdentity(t, "carl")
	parties := []identity.Public{f.ana, f.ben, f.carl}
	f.keygen = &coord.Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeECDSA, WalletID: "wal_new", WalletName: "treasury",
		Chain: "ethereum", Parties: parties, Required: 2, Initiator: f.carl, Deadline: now.Add(5 * time.Minute)}
	f.sign = &coord.Request{Kind: ceremony.KindSign, Scheme: ceremony.SchemeECDSA, WalletID: "wal_new", WalletName: "treasury",
		Chain: "ethereum", Parties: parties, Required: 2, Initiator: f.carl, Digest: "5c2f00aa", Deadline: now.Add(5 * time.Minute)}
	op := *f.sign
	op.Operator = "dora\x1b[31m"
	f.signWithOperator = &op
	return f
}

func newIdentity(t *testing.T, name string) identity.Public {
	t.Helper()
	id, err := identity.New(name)
	if err != nil {
		t.Fatal(err)
	}
	return id.Public
}

func (f *fixture) expect(what string, want ...tea.Msg) {
	f.t.Helper()
	got := queued(f.tui.q)
	if len(want) == 0 && len(got) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		f.t.Errorf("%s: the screen got %#v\nwant %#v", what, got, want)
	}
}

func TestEventProgressNamesTheAwaitedParties(t *testing.T) {
	f := newFixture(t)
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "progress", Progress: ceremony.Event{
		Kind: ceremony.KindSign, Phase: ceremony.PhaseWaiting, Round: 2, Rounds: 5, Elapsed: 3 * time.Second,
		Waiting: []party.ID{party.ID(f.ben.Fingerprint()), "ffffffffffffffff"}}})
	f.expect("progress", approvals.Progress{ID: cid[:12], Round: 2, Rounds: 5, Elapsed: 3 * time.Second,
		Waiting: []string{"ben", "ffffffffffffffff"}})

	// The last progress report is followed by "done" or "failed": it shows nothing itself.
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "progress", Progress: ceremony.Event{Phase: ceremony.PhaseDone}})
	f.expect("final progress")

	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "started"})
	f.expect("started", approvals.Progress{ID: cid[:12]})
}

func TestEventDoneAndFailed(t *testing.T) {
	f := newFixture(t)
	f.tui.event(coord.Event{Ceremony: cid, Request: f.keygen, What: "done", Outcome: &coord.Outcome{OK: true}})
	f.expect("keygen done", approvals.Done{ID: cid[:12], OK: true, Text: "wallet wal_new created"}, approvals.WalletsHeld(0))

	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "done", Outcome: &coord.Outcome{OK: true}})
	f.expect("sign done", approvals.Done{ID: cid[:12], OK: true}, approvals.WalletsHeld(0))

	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "failed", Err: errors.New("ben sent nothing for round 3\n(timed out)")})
	f.expect("failed with an error", approvals.Done{ID: cid[:12], OK: false, Text: "ben sent nothing for round 3 (timed out)"})

	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "failed", Detail: "aborted by carl"})
	f.expect("failed with a detail", approvals.Done{ID: cid[:12], OK: false, Text: "aborted by carl"})
}

func TestEventWithdrawnDependsOnWhetherApprovedHere(t *testing.T) {
	f := newFixture(t)
	id := cid[:12]

	// Approved here, then the ceremony started without this party.
	f.tui.asked[id], f.tui.approved[id] = true, true
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "not-selected", Detail: "enough other parties approved"})
	f.expect("not-selected after approval", approvals.Done{ID: id, OK: true, Text: "enough other parties approved"})

	// Approved here, then withdrawn by the initiator: it will not run.
	f.tui.asked[id], f.tui.approved[id] = true, true
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "withdrawn", Detail: "withdrawn by carl: ben rejected it"})
	f.expect("withdrawn after approval", approvals.Done{ID: id, OK: false, Text: "withdrawn by carl: ben rejected it"})

	// Still a question on the screen: it leaves the inbox.
	f.tui.asked[id] = true
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "withdrawn", Detail: "withdrawn by carl"})
	f.expect("withdrawn while asked", approvals.RequestWithdrawn{ID: id, Reason: "withdrawn by carl"})
	f.tui.asked[id] = true
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "not-selected", Detail: "settled elsewhere"})
	f.expect("not-selected while asked", approvals.RequestWithdrawn{ID: id, Reason: "settled elsewhere"})
	f.tui.asked[id] = true
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "expired", Detail: "the deadline passed"})
	f.expect("expired while asked", approvals.RequestWithdrawn{ID: id, Reason: "the deadline passed"})
}

func TestEventRejected(t *testing.T) {
	f := newFixture(t)
	id := cid[:12]

	// The holder's own rejection: the screen logged it when the key was pressed.
	f.tui.asked[id] = true
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "rejected", Detail: "rejected by ana"})
	f.expect("rejected by the holder")

	// Refused without asking: the holder learns of it from the log.
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "rejected", Detail: "the initiator is not trusted here"})
	f.expect("refused without asking",
		approvals.LogLine{Text: "refused sign wal_new from carl: the initiator is not trusted here [" + id + "]"})
}

// waitArrived waits for decide to put its request on the screen.
func (f *fixture) waitArrived() approvals.RequestArrived {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range queued(f.tui.q) {
			if a, ok := m.(approvals.RequestArrived); ok {
				return a
			}
		}
		time.Sleep(time.Millisecond)
	}
	f.t.Fatal("no request arrived on the screen")
	return approvals.RequestArrived{}
}

type answer struct {
	d   coord.Decision
	err error
}

func (f *fixture) decideAsync(ctx context.Context, p *coord.Proposal) chan answer {
	ch := make(chan answer, 1)
	go func() {
		d, err := f.tui.decide(ctx, p)
		ch <- answer{d, err}
	}()
	return ch
}

func wait(t *testing.T, ch chan answer) answer {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(5 * time.Second):
		t.Fatal("decide did not return")
		return answer{}
	}
}

func TestDecideApprove(t *testing.T) {
	f := newFixture(t)
	p := &coord.Proposal{CeremonyID: cid, Request: f.sign, SAS: "tiger piano 42", Summary: "send 1.5 ETH to 0x5aAe…"}
	ch := f.decideAsync(t.Context(), p)
	a := f.waitArrived()
	if r := a.Request; r.ID != cid[:12] || r.SAS != "tiger piano 42" || r.Summary != "send 1.5 ETH to 0x5aAe…" || r.Digest != "5c2f00aa" {
		t.Errorf("the screen shows %+v: want the ID, SAS, summary and digest", r)
	}
	f.tui.decided(approvals.Decision{ID: cid[:12], Approve: true})
	if got := wait(t, ch); got.err != nil || !got.d.Approve {
		t.Fatalf("decide returned %+v, %v; want an approval", got.d, got.err)
	}
	// Approved here: if it then starts without us, it ends as done, not withdrawn.
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "not-selected", Detail: "enough others"})
	f.expect("not-selected after approving on the screen", approvals.Done{ID: cid[:12], OK: true, Text: "enough others"})
}

func TestDecideReject(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ reason, want string }{
		{" unknown payee ", "rejected by ana: unknown payee"},
		{"", "rejected by ana"},
	} {
		ch := f.decideAsync(t.Context(), &coord.Proposal{CeremonyID: cid, Request: f.sign})
		f.waitArrived()
		f.tui.decided(approvals.Decision{ID: cid[:12], Reason: c.reason})
		got := wait(t, ch)
		if got.err != nil || got.d.Approve || got.d.Reason != c.want {
			t.Errorf("reject with %q: decide returned %+v, %v; want reason %q", c.reason, got.d, got.err, c.want)
		}
		// The holder answered: the party's "rejected" event adds nothing.
		f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "rejected", Detail: got.d.Reason})
		f.expect("rejected after the holder's answer")
	}
}

func TestDecideReturnsWhenTheQuestionIsMoot(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	ch := f.decideAsync(ctx, &coord.Proposal{CeremonyID: cid, Request: f.sign})
	f.waitArrived()
	cancel()
	got := wait(t, ch)
	if !errors.Is(got.err, context.Canceled) {
		t.Fatalf("decide returned %+v, %v; want context.Canceled", got.d, got.err)
	}
	// A key pressed too late goes nowhere and blocks nothing.
	done := make(chan struct{})
	go func() {
		f.tui.decided(approvals.Decision{ID: cid[:12], Approve: true})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a late answer blocked")
	}
}

func TestScreenRequest(t *testing.T) {
	f := newFixture(t)
	sign := screenRequest("abc", &coord.Proposal{CeremonyID: cid, Request: f.signWithOperator, SAS: "s a s", Summary: "send 1 ETH"}, now)
	if want := "for dora[31m via the relay's API"; sign.Operator != want {
		t.Errorf("operator shown as %q, want %q", sign.Operator, want)
	}
	if sign.Digest != "5c2f00aa" || sign.Summary != "send 1 ETH" {
		t.Errorf("sign request shows digest %q, summary %q", sign.Digest, sign.Summary)
	}
	if !reflect.DeepEqual(sign.Parties, []string{"ana", "ben", "carl"}) || sign.Required != 2 || sign.Kind != approvals.KindSign {
		t.Errorf("sign request shows parties %v, %d required, kind %q", sign.Parties, sign.Required, sign.Kind)
	}
	if sign.Initiator != (approvals.Identity{Name: "carl", Fingerprint: f.carl.DisplayFingerprint()}) {
		t.Errorf("initiator shown as %+v", sign.Initiator)
	}
	if sign.ID != "abc" || sign.SAS != "s a s" || !sign.Received.Equal(now) || !sign.Deadline.Equal(now.Add(5*time.Minute)) || sign.WalletName != "treasury" {
		t.Errorf("sign request shown as %+v", sign)
	}

	keygen := screenRequest("abc", &coord.Proposal{CeremonyID: cid, Request: f.keygen, SAS: "s a s", Summary: "should not show"}, now)
	if keygen.Operator != "" || keygen.Digest != "" || keygen.Summary != "" {
		t.Errorf("keygen request shows operator %q, digest %q, summary %q: want none", keygen.Operator, keygen.Digest, keygen.Summary)
	}
	if keygen.Kind != approvals.KindKeygen || keygen.SAS != "s a s" {
		t.Errorf("keygen request shown as %+v", keygen)
	}
}

// A full queue drops log lines only: a request, a withdrawal or an end is
// never lost, and the clock is coalesced.
func TestQueueFullKeepsRequestsAndEnds(t *testing.T) {
	q := newMsgQueue()
	q.push(approvals.RequestArrived{Request: approvals.Request{ID: "r1"}})
	for i := range 3 * maxQueued {
		q.push(approvals.LogLine{Text: fmt.Sprint("line ", i)})
		q.push(approvals.Tick(time.Unix(int64(i), 0)))
	}
	q.push(approvals.Done{ID: "r1", OK: true})
	msgs := queued(q)
	var arrived, done, ticks int
	for _, m := range msgs {
		switch m.(type) {
		case approvals.RequestArrived:
			arrived++
		case approvals.Done:
			done++
		case approvals.Tick:
			ticks++
		}
	}
	if arrived != 1 || done != 1 || ticks != 1 || len(msgs) > maxQueued+1 {
		t.Fatalf("%d queued: %d requests, %d ends, %d ticks", len(msgs), arrived, done, ticks)
	}
}

// presign is a presign request of bob's pool, the first of a batch of 40,
// to be made by ana and bob.
func (f *fixture) presign() *coord.Request {
	return &coord.Request{Kind: ceremony.KindPresign, Scheme: ceremony.SchemeECDSA, WalletID: "wal_new", WalletName: "treasury",
		Chain: "ethereum", Parties: []identity.Public{f.ana, f.ben, f.carl}, Required: 2, Initiator: f.ben,
		Signers: []string{f.ben.Fingerprint(), f.ana.Fingerprint()}, Batch: &coord.Batch{ID: "b0123", Size: 40},
		Deadline: now.Add(5 * time.Minute)}
}

func TestScreenRequestPresign(t *testing.T) {
	f := newFixture(t)
	r := screenRequest("abc", &coord.Proposal{CeremonyID: cid, Request: f.presign(), SAS: "s a s"}, now)
	if r.Kind != approvals.KindPresign || !reflect.DeepEqual(r.Signers, []string{"ben", "ana"}) || r.Batch != 40 {
		t.Errorf("presign request shown as kind %q, signers %v, batch %d; want presign, ben and ana, 40", r.Kind, r.Signers, r.Batch)
	}
	if r.Digest != "" || r.Summary != "" {
		t.Errorf("presign request shows digest %q, summary %q: it signs nothing", r.Digest, r.Summary)
	}
	single := f.presign()
	single.Batch = nil
	if r := screenRequest("abc", &coord.Proposal{CeremonyID: cid, Request: single}, now); r.Batch != 0 {
		t.Errorf("a presign request without a batch shows batch %d", r.Batch)
	}
}

// The holder approves the first request of a batch on the screen; coord
// approves the rest without asking ("request" then "approved"): they never
// reach the inbox, and their ceremonies are background ones.
func TestPresignBatchApprovedOnceThenInTheBackground(t *testing.T) {
	f := newFixture(t)
	f.tui.kick = make(chan struct{}, 1)
	req := f.presign()
	ch := f.decideAsync(t.Context(), &coord.Proposal{CeremonyID: cid, Request: req, SAS: "s a s"})
	if a := f.waitArrived(); a.Request.Batch != 40 || a.Request.Kind != approvals.KindPresign {
		t.Fatalf("the inbox shows %+v", a.Request)
	}
	f.tui.decided(approvals.Decision{ID: cid[:12], Approve: true})
	if got := wait(t, ch); !got.d.Approve {
		t.Fatalf("decide returned %+v, %v", got.d, got.err)
	}
	f.tui.event(coord.Event{Ceremony: cid, Request: req, What: "approved"})
	f.expect("the holder's approval")
	f.tui.event(coord.Event{Ceremony: cid, Request: req, What: "started"})
	f.expect("the first of the batch started",
		approvals.Background{ID: cid[:12], WalletID: "wal_new", Wallet: "treasury", State: approvals.BackgroundStarted})

	// The next request of the batch, approved by coord.
	next := "fedcba9876543210fedcba9876543210"
	f.tui.event(coord.Event{Ceremony: next, Request: req, What: "request"})
	f.tui.event(coord.Event{Ceremony: next, Request: req, What: "approved", Detail: "batch b0123 approved by the holder (38 more)"})
	f.tui.event(coord.Event{Ceremony: next, Request: req, What: "started"})
	f.tui.event(coord.Event{Ceremony: next, Request: req, What: "progress", Progress: ceremony.Event{Phase: ceremony.PhaseWaiting, Round: 1, Rounds: 3}})
	f.tui.event(coord.Event{Ceremony: next, Request: req, What: "done", Outcome: &coord.Outcome{OK: true}})
	bg := approvals.Background{ID: next[:12], WalletID: "wal_new", Wallet: "treasury"}
	approved, started, done := bg, bg, bg
	approved.State, approved.Text = approvals.BackgroundApproved, "batch b0123 approved by the holder (38 more)"
	started.State, done.State = approvals.BackgroundStarted, approvals.BackgroundDone
	f.expect("an auto-approved presign", approved, started, done)
	if len(f.tui.kick) != 1 {
		t.Error("a finished presign does not recount the presignatures")
	}
	f.tui.mu.Lock()
	if len(f.tui.answers) != 0 || f.tui.asked[next[:12]] {
		t.Errorf("questions left open: answers %v, asked %v", f.tui.answers, f.tui.asked)
	}
	f.tui.mu.Unlock()

	// Without a reason from the party, the screen says it itself.
	own := f.presign()
	own.Initiator = f.ana
	f.tui.event(coord.Event{Ceremony: next, Request: own, What: "approved"})
	approved.Text = "this party's own presignature pool"
	f.expect("the party's own pool", approved)

	// A failure is counted in the background too, with its reason.
	f.tui.event(coord.Event{Ceremony: next, Request: req, What: "failed", Err: errors.New("carl\nsent nothing")})
	failed := bg
	failed.State, failed.Text = approvals.BackgroundFailed, "carl sent nothing"
	f.expect("a failed presign", failed)
}

// A presign request still in the inbox leaves it when it becomes moot.
func TestPresignWithdrawnWhileAsked(t *testing.T) {
	f := newFixture(t)
	f.tui.asked[cid[:12]] = true
	f.tui.event(coord.Event{Ceremony: cid, Request: f.presign(), What: "withdrawn", Detail: "withdrawn by ben"})
	f.expect("withdrawn while asked", approvals.RequestWithdrawn{ID: cid[:12], Reason: "withdrawn by ben"})
}

// The pool's errors concern no ceremony: each replaces the one before.
func TestPoolErrorTakesOneLogLine(t *testing.T) {
	f := newFixture(t)
	f.tui.event(coord.Event{What: "error", Detail: "presignature pool", Err: errors.New("presignatures for wal_new: rejected; next try in 10m0s")})
	f.expect("pool error", approvals.LogLine{Key: "error/presignature pool",
		Text: "error: presignature pool: presignatures for wal_new: rejected; next try in 10m0s"})
}

func TestSignDoneWithAPresignature(t *testing.T) {
	f := newFixture(t)
	f.tui.kick = make(chan struct{}, 1)
	left := 36
	f.tui.event(coord.Event{Ceremony: cid, Request: f.sign, What: "done", Outcome: &coord.Outcome{OK: true, Presignature: "ps1", PresignaturesLeft: &left}})
	f.expect("sign done", approvals.Done{ID: cid[:12], OK: true, Text: "signed in one round with a presignature (36 left)"}, approvals.WalletsHeld(0))
	if len(f.tui.kick) != 1 {
		t.Error("a finished sign does not recount the presignatures")
	}
}

// The counts come from the store: unused presignatures of the active
// share of each ECDSA wallet, by the wallet's name.
func TestPresignatureCounts(t *testing.T) {
	const wa, wb = "wal_aaaaaaaaaaaaaaaa", "wal_bbbbbbbbbbbbbbbb"
	h, err := home.Init(t.TempDir(), sharestest.NewMemoryKeyring(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if got := presignatureCounts(h); len(got) != 0 {
		t.Errorf("an empty home counts %v", got)
	}
	if err := h.SaveWallet(&home.Wallet{ID: wb, Name: "treasury", Chain: "ethereum", Scheme: "ecdsa", Required: 2, Epoch: 1}); err != nil {
		t.Fatal(err)
	}
	hd := &holder.Holder{ID: party.ID("alice"), Store: h.Store}
	for _, id := range []string{wa, wb} {
		if err := hd.Import(id, 1, ceremonytest.ECDSAShares(t)["alice"]); err != nil {
			t.Fatal(err)
		}
	}
	if err := hd.Import("wal_ssssssssssssssss", 1, ceremonytest.SchnorrShares(t)["alice"]); err != nil {
		t.Fatal(err)
	}
	sh, err := h.Store.Active(wb, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Wipe()
	for _, ps := range []string{"ps1", "ps2", "ps3"} {
		p := &shares.Presignature{PresigMeta: shares.PresigMeta{ID: ps, WalletID: wb, PartyID: "alice", Epoch: sh.Epoch,
			ConfigDigest: sh.ConfigDigest, Path: "m", Signers: []string{"alice", "bob"}, CreatedAt: now}, Secret: []byte("secret " + ps)}
		if err := h.Store.PutPresignature(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Store.MarkPresignatureUsed(wb, "alice", "ps2"); err != nil {
		t.Fatal(err)
	}
	want := approvals.Presignatures{{WalletID: wb, Wallet: "treasury", Left: 2}, {WalletID: wa, Wallet: wa, Left: 0}}
	if got := presignatureCounts(h); !reflect.DeepEqual(got, want) {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}
