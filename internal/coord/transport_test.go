package coord

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// faultyRelay is a relay that misbehaves the way a broken or malicious
// one may, in front of the real one (a *relay.Client of the test's
// in-process relay server):
//   - triple serves every new message three times;
//   - reserve serves again, with every answer, each message it served
//     before (old sequence numbers re-served);
//   - rewrite changes what one answer serves (injects, reorders, tampers);
//   - hold keeps a post from the relay, as if the relay delayed it.
type faultyRelay struct {
	Relay
	triple, reserve bool
	rewrite         func(ceremonyID string, msgs []relay.Message) []relay.Message
	hold            func(ceremonyID string, data []byte) bool

	mu     sync.Mutex
	served map[string][]relay.Message
	count  int // messages served
}

func (f *faultyRelay) Post(ctx context.Context, ceremonyID, kind string, data []byte) (uint64, error) {
	if f.hold != nil && f.hold(ceremonyID, data) {
		return 0, nil
	}
	return f.Relay.Post(ctx, ceremonyID, kind, data)
}

func (f *faultyRelay) Messages(ctx context.Context, ceremonyID string, after uint64, wait time.Duration) ([]relay.Message, error) {
	msgs, err := f.Relay.Messages(ctx, ceremonyID, after, wait)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.served == nil {
		f.served = map[string][]relay.Message{}
	}
	var out []relay.Message
	if f.reserve {
		out = append(out, f.served[ceremonyID]...)
	}
	for _, m := range msgs {
		out = append(out, m)
		if f.triple {
			out = append(out, m, m)
		}
	}
	f.served[ceremonyID] = append(f.served[ceremonyID], msgs...)
	if f.rewrite != nil {
		out = f.rewrite(ceremonyID, out)
	}
	f.count += len(out)
	return out, nil
}

// recorder wraps a party's transport and counts what it delivers: the
// same message (sender, type, round, recipient, session, payload)
// delivered twice is a duplicate.
type recorder struct {
	ceremony.Transport
	mu        sync.Mutex
	delivered map[[32]byte]int
	dups      int
}

func (r *recorder) Receive(ctx context.Context) (*ceremony.Message, error) {
	m, err := r.Transport.Receive(ctx)
	if err != nil {
		return m, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d|%d|%s|%x|", m.From, m.Type, m.Round, m.To, m.SessionID)
	h.Write(m.Payload)
	var k [32]byte
	copy(k[:], h.Sum(nil))
	r.mu.Lock()
	if r.delivered == nil {
		r.delivered = map[[32]byte]int{}
	}
	r.delivered[k]++
	if r.delivered[k] > 1 {
		r.dups++
	}
	r.mu.Unlock()
	return m, nil
}

// mailbox creates a ceremony on the rig's relay among all its homes and
// returns its ID. The request is a keygen's; nobody answers it: the tests
// run ceremonies over the mailbox directly.
func (r *rig) mailbox(ctx context.Context, within time.Duration) string {
	r.t.Helper()
	id, _, err := postRequest(ctx, r.client(r.homes[0]), r.homes[0].ID, &Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr,
		WalletID: holder.NewWalletID(), Initiator: r.homes[0].ID.Public, Parties: r.parties(), Required: 2, Deadline: time.Now().Add(within)})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

func (r *rig) fp(i int) party.ID { return party.ID(r.homes[i].ID.Fingerprint()) }

// over is one party's run of a ceremony over a mailbox.
type over struct {
	res *ceremony.Result
	err error
	tr  *Transport
	rec *recorder
}

// runOver runs d over mailbox id with the given homes, each through the
// relay relayOf(i) gives it, with shares (nil for keygen).
func (r *rig) runOver(ctx context.Context, id string, d *ceremony.Descriptor, homes []int, shares map[party.ID]*ceremony.Share, relayOf func(i int) Relay) map[int]*over {
	members := r.parties()
	out := map[int]*over{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, i := range homes {
		tr := NewTransport(relayOf(i), r.homes[i].ID, id, members)
		rec := &recorder{Transport: tr}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := ceremony.Run(ctx, d, ceremony.Config{Self: r.fp(i), Transport: rec, Share: shares[r.fp(i)]})
			mu.Lock()
			out[i] = &over{res: res, err: err, tr: tr, rec: rec}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// keygenOver makes a Schnorr wallet among the rig's three homes over a
// plain mailbox and returns its ID and the shares.
func (r *rig) keygenOver(ctx context.Context) (string, map[party.ID]*ceremony.Share) {
	r.t.Helper()
	id := r.mailbox(ctx, time.Minute)
	d := &ceremony.Descriptor{ID: ceremony.NewID(), Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: "wal_over",
		Parties: []party.ID{r.fp(0), r.fp(1), r.fp(2)}, Required: 2, Deadline: time.Now().Add(time.Minute)}
	out := r.runOver(ctx, id, d, []int{0, 1, 2}, nil, func(i int) Relay { return r.client(r.homes[i]) })
	shares := map[party.ID]*ceremony.Share{}
	for i, o := range out {
		if o.err != nil {
			r.t.Fatalf("keygen: %s: %v", r.homes[i].ID.Name, o.err)
		}
		shares[r.fp(i)] = o.res.Share
	}
	return id, shares
}

func signOver(shares map[party.ID]*ceremony.Share, text string, within time.Duration, signers ...party.ID) *ceremony.Descriptor {
	sh := shares[signers[0]]
	digest := sha256.Sum256([]byte(text))
	return &ceremony.Descriptor{ID: ceremony.NewID(), Kind: ceremony.KindSign, Scheme: sh.Scheme(), WalletID: "wal_over",
		Parties: signers, Required: sh.Required(), Epoch: 1, ConfigDigest: sh.ConfigDigest(), Digest: digest[:],
		Deadline: time.Now().Add(within)}
}

func requireSigned(t *testing.T, out map[int]*over, d *ceremony.Descriptor, pub []byte) {
	t.Helper()
	for i, o := range out {
		if o.err != nil {
			t.Fatalf("party %d: %v", i, o.err)
		}
		if err := bitcoin.VerifySchnorr(pub, d.Digest, o.res.Signature); err != nil {
			t.Fatalf("party %d: %v", i, err)
		}
	}
}

// TestTransportDeliversEachEnvelopeOnce: a relay that serves every message
// three times and, with every answer, every message it served before (old
// sequence numbers again): keygen and sign complete over it, and each
// party's transport hands each message to the engine exactly once
// (SECURITY.md release case 21).
func TestTransportDeliversEachEnvelopeOnce(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	relays := map[int]*faultyRelay{}
	for i := range r.homes {
		relays[i] = &faultyRelay{Relay: r.client(r.homes[i]), triple: true, reserve: true}
	}
	relayOf := func(i int) Relay { return relays[i] }
	check := func(what string, out map[int]*over) {
		t.Helper()
		for i, o := range out {
			if o.err != nil {
				t.Fatalf("%s: %s: %v", what, r.homes[i].ID.Name, o.err)
			}
			o.rec.mu.Lock()
			n, dups := len(o.rec.delivered), o.rec.dups
			o.rec.mu.Unlock()
			if dups != 0 {
				t.Fatalf("%s: %s's transport delivered %d messages again (of %d)", what, r.homes[i].ID.Name, dups, n)
			}
			relays[i].mu.Lock()
			served := relays[i].count
			relays[i].mu.Unlock()
			t.Logf("%s: %s: %d messages delivered once each; the relay served %d so far", what, r.homes[i].ID.Name, n, served)
		}
	}

	kid := r.mailbox(ctx, time.Minute)
	kd := &ceremony.Descriptor{ID: ceremony.NewID(), Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: "wal_over",
		Parties: []party.ID{r.fp(0), r.fp(1), r.fp(2)}, Required: 2, Deadline: time.Now().Add(time.Minute)}
	kout := r.runOver(ctx, kid, kd, []int{0, 1, 2}, nil, relayOf)
	check("keygen", kout)
	shares := map[party.ID]*ceremony.Share{}
	for i, o := range kout {
		shares[r.fp(i)] = o.res.Share
	}

	sd := signOver(shares, "triple delivery", time.Minute, r.fp(0), r.fp(2))
	sout := r.runOver(ctx, r.mailbox(ctx, time.Minute), sd, []int{0, 2}, shares, relayOf)
	check("sign", sout)
	requireSigned(t, sout, sd, kout[0].res.PublicKey)
}

// envelopesOf returns the envelopes in a mailbox, as the relay stores them.
func envelopesOf(ctx context.Context, t *testing.T, c Relay, id string) []relay.Message {
	t.Helper()
	msgs, err := c.Messages(ctx, id, 0, 0)
	if err != nil {
		t.Error(err)
		return nil
	}
	var out []relay.Message
	for _, m := range msgs {
		if m.Kind == kindEnvelope {
			out = append(out, m)
		}
	}
	return out
}

// TestForeignEnvelopesAreIgnored: the relay serves, in ceremony B's
// mailbox, the envelopes of ceremony A, which runs at the same time among
// the same parties on the same wallet, and those of the finished keygen
// (a replay). B is not tricked and not stopped: each party ignores them as
// bound to another ceremony, reports them, and A and B both complete
// (SECURITY.md release case 22). An envelope that is bound to B but fails
// its checks still stops B, naming the member it claims to come from.
func TestForeignEnvelopesAreIgnored(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kid, shares := r.keygenOver(ctx)
	pub := shares[r.fp(0)].PublicKey()
	all := []party.ID{r.fp(0), r.fp(1), r.fp(2)}
	watcher := r.client(r.homes[0])

	t.Run("a concurrent ceremony's and a finished one's envelopes", func(t *testing.T) {
		aid, bid := r.mailbox(ctx, time.Minute), r.mailbox(ctx, time.Minute)
		inject := func(cid string, msgs []relay.Message) []relay.Message {
			if cid != bid {
				return msgs
			}
			// Before B's own: whatever of A and of the keygen exists now.
			foreign := append(envelopesOf(ctx, t, watcher, aid), envelopesOf(ctx, t, watcher, kid)...)
			for i := range foreign {
				foreign[i].Seq = 0 // the relay lies about the sequence too
			}
			return append(foreign, msgs...)
		}
		ad := signOver(shares, "ceremony A", time.Minute, all...)
		bd := signOver(shares, "ceremony B", time.Minute, all...)
		var aout, bout map[int]*over
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			aout = r.runOver(ctx, aid, ad, []int{0, 1, 2}, shares, func(i int) Relay { return r.client(r.homes[i]) })
		}()
		go func() {
			defer wg.Done()
			bout = r.runOver(ctx, bid, bd, []int{0, 1, 2}, shares, func(i int) Relay {
				return &faultyRelay{Relay: r.client(r.homes[i]), rewrite: inject}
			})
		}()
		wg.Wait()
		requireSigned(t, aout, ad, pub)
		requireSigned(t, bout, bd, pub)
		for i, o := range bout {
			n := o.tr.Foreigners()
			if n == 0 {
				t.Fatalf("%s ignored no envelope of the keygen, which the relay replayed into B", r.homes[i].ID.Name)
			}
			if o.rec.dups != 0 {
				t.Fatalf("%s: %d duplicates", r.homes[i].ID.Name, o.rec.dups)
			}
			t.Logf("%s ignored %d envelopes of other ceremonies in B", r.homes[i].ID.Name, n)
		}
	})

	t.Run("the party reports what it ignored", func(t *testing.T) {
		bid := r.mailbox(ctx, time.Minute)
		keygen := envelopesOf(ctx, t, watcher, kid)
		tr := NewTransport(&faultyRelay{Relay: r.client(r.homes[1]), rewrite: func(cid string, msgs []relay.Message) []relay.Message {
			return append(keygen, msgs...)
		}}, r.homes[1].ID, bid, r.parties())
		var got []*ForeignEnvelope
		tr.Foreign = func(f *ForeignEnvelope) { got = append(got, f) }
		// Something of B's own for ben to read, after the replayed keygen.
		if err := NewTransport(r.client(r.homes[0]), r.homes[0].ID, bid, r.parties()).Send(ctx, &ceremony.Message{
			SessionID: []byte("b"), Type: ceremony.TypeProtocol, To: r.fp(1), Round: 1, Payload: []byte("mine")}); err != nil {
			t.Fatal(err)
		}
		m, err := tr.Receive(ctx)
		if err != nil || string(m.Payload) != "mine" {
			t.Fatalf("got %v, %v; want B's own message past the replayed keygen", m, err)
		}
		if len(got) == 0 || len(got) > maxForeignReports {
			t.Fatalf("%d reports", len(got))
		}
		if s := got[0].String(); !strings.Contains(s, fmt.Sprintf("signed for ceremony %.16s", kid)) || !strings.Contains(s, fmt.Sprintf("of ceremony %.16s", bid)) {
			t.Fatalf("report %q", s)
		}
		t.Logf("%d ignored, first report: %s", tr.Foreigners(), got[0])

		// A party's run records each report in its audit log.
		log, err := audit.Open(filepath.Join(t.TempDir(), "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer log.Close()
		p := &Party{Home: r.homes[1], Audit: log}
		p.emit(Event{Ceremony: bid, What: "foreign-envelope", Detail: got[0].String()})
		es, err := audit.ReadAll(log.Path())
		if err != nil || len(es) != 1 || es[0].Event != audit.EventForeignEnvelope || es[0].Ceremony != bid || !strings.Contains(es[0].Detail, "signed for ceremony") {
			t.Fatalf("audit log: %+v, %v", es, err)
		}
	})

	t.Run("an envelope bound to this ceremony that fails its checks still stops it", func(t *testing.T) {
		bid := r.mailbox(ctx, time.Minute)
		ben := r.homes[1].ID.Fingerprint()
		var once sync.Once
		tamper := func(cid string, msgs []relay.Message) []relay.Message {
			for _, m := range msgs {
				if m.Kind == kindEnvelope && m.From == ben {
					var out []relay.Message
					once.Do(func() {
						bad := m
						bad.Data = bytes.Clone(m.Data)
						bad.Data[len(bad.Data)-1] ^= 1 // the signature's last byte
						out = append(out, bad)
					})
					return append(out, msgs...)
				}
			}
			return msgs
		}
		d := signOver(shares, "tampered", time.Minute, all...)
		out := r.runOver(ctx, bid, d, []int{0, 1, 2}, shares, func(i int) Relay {
			if i == 0 {
				return &faultyRelay{Relay: r.client(r.homes[i]), rewrite: tamper}
			}
			return r.client(r.homes[i])
		})
		var ee *EnvelopeError
		if err := out[0].err; !errors.As(err, &ee) || !strings.Contains(err.Error(), "claiming to come from ben (") {
			t.Fatalf("ana: got %v, want the tampered envelope refused naming ben", err)
		}
		for _, i := range []int{1, 2} {
			if !errors.Is(out[i].err, ceremony.ErrAborted) {
				t.Fatalf("%s: got %v, want ana's abort", r.homes[i].ID.Name, out[i].err)
			}
		}
	})
}

// TestLateEnvelopesAreRejectedByTheRetry: the relay holds back everything
// ben posts in a sign until its deadline passed: both signers time out
// cleanly, naming whom they wait for. The sign is retried as a new
// ceremony (new mailbox, new ceremony ID, so a new session), and the relay
// now delivers ben's late envelopes of the first into the retry: they are
// ignored as another ceremony's, and the retry completes (SECURITY.md
// release case 23).
func TestLateEnvelopesAreRejectedByTheRetry(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, shares := r.keygenOver(ctx)
	pub := shares[r.fp(0)].PublicKey()
	ana, ben := r.fp(0), r.fp(1)

	first := r.mailbox(ctx, time.Minute)
	var mu sync.Mutex
	var held [][]byte
	benRelay := &faultyRelay{Relay: r.client(r.homes[1]), hold: func(cid string, data []byte) bool {
		if cid != first {
			return false
		}
		mu.Lock()
		held = append(held, data)
		mu.Unlock()
		return true
	}}
	d1 := signOver(shares, "late", 3*time.Second, ana, ben)
	out := r.runOver(ctx, first, d1, []int{0, 1}, shares, func(i int) Relay {
		if i == 1 {
			return benRelay
		}
		return r.client(r.homes[i])
	})
	var e *ceremony.Error
	if err := out[0].err; !errors.Is(err, ceremony.ErrTimeout) || !errors.As(err, &e) || !e.Blames(ben) {
		t.Fatalf("ana: got %v, want a timeout waiting for ben", err)
	}
	if err := out[1].err; err == nil {
		t.Fatal("ben completed a sign whose messages never left")
	}
	mu.Lock()
	late := held
	mu.Unlock()
	if len(late) == 0 {
		t.Fatal("nothing was held back")
	}

	// The retry: the same signers and digest, a new ceremony. The relay
	// delivers ben's late envelopes of the first one into it, first.
	lookup := func(fp string) (identity.Public, bool) { return identity.Find(r.parties(), fp) }
	var lateMsgs []relay.Message
	for _, data := range late {
		h, err := envelope.Inspect(data, lookup)
		if err != nil {
			t.Fatal(err)
		}
		lateMsgs = append(lateMsgs, relay.Message{Kind: kindEnvelope, From: string(ben), To: h.To, Data: data})
	}
	retry := r.mailbox(ctx, time.Minute)
	d2 := signOver(shares, "late", time.Minute, ana, ben)
	out = r.runOver(ctx, retry, d2, []int{0, 1}, shares, func(i int) Relay {
		if i == 0 {
			return &faultyRelay{Relay: r.client(r.homes[i]), rewrite: func(cid string, msgs []relay.Message) []relay.Message {
				return append(append([]relay.Message(nil), lateMsgs...), msgs...)
			}}
		}
		return r.client(r.homes[i])
	})
	requireSigned(t, out, d2, pub)
	if n := out[0].tr.Foreigners(); n == 0 {
		t.Fatalf("ana ignored none of ben's %d late envelopes", len(late))
	}
	t.Logf("ben's %d late envelopes of the first sign: ana ignored %d in the retry, which completed", len(late), out[0].tr.Foreigners())
}

// TestHostileAbortThroughTheRelay: vault, a malicious signer, posts a
// signed abort notice with 64 KiB of terminal escapes, carriage returns
// and newlines. ana and ben abort, reported by vault; the error each
// party's operator sees, the outcome it posts, its audit entry and the
// initiator's rendering of that outcome hold the text without control
// characters, cut short, and say it was reported by vault (SECURITY.md
// B4, B7, release case 16).
func TestHostileAbortThroughTheRelay(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, shares := r.keygenOver(ctx)
	line := "\x1b[2J\x1b[H\x1b[31mFATAL\x1b[0m: ana is the culprit\r\nok ceremony done\n\x1b]8;;http://evil\x07click\x1b]8;;\x07\t\x00"
	hostile := strings.Repeat(line, 64<<10/len(line)+1)[:64<<10]
	notice, err := json.Marshal(map[string]any{"reason": hostile, "culprits": []string{r.homes[0].ID.Fingerprint()}})
	if err != nil {
		t.Fatal(err)
	}
	id := r.mailbox(ctx, time.Minute)
	d := signOver(shares, "hostile abort", time.Minute, r.fp(0), r.fp(1), r.fp(2))
	vault := NewTransport(r.client(r.homes[2]), r.homes[2].ID, id, r.parties())
	if err := vault.Send(ctx, &ceremony.Message{SessionID: d.SessionID(), Type: ceremony.TypeAbort, Payload: notice}); err != nil {
		t.Fatal(err)
	}
	out := r.runOver(ctx, id, d, []int{0, 1}, shares, func(i int) Relay { return r.client(r.homes[i]) })

	req := &Request{Initiator: r.homes[0].ID.Public, Parties: r.parties()}
	vfp := r.homes[2].ID.Fingerprint()
	clean := func(what, s string, max int) {
		t.Helper()
		if strings.ContainsAny(s, "\x1b\r\n\t\x00\x07") {
			t.Fatalf("%s holds control characters: %q", what, s)
		}
		if n := len([]rune(s)); n > max {
			t.Fatalf("%s is %d characters, want at most %d", what, n, max)
		}
		if !strings.Contains(s, "FATAL") {
			t.Fatalf("%s does not show the reported text: %q", what, s)
		}
	}
	for _, i := range []int{0, 1} {
		name := r.homes[i].ID.Name
		var e *ceremony.Error
		err := out[i].err
		if !errors.As(err, &e) || !errors.Is(err, ceremony.ErrAborted) || e.ReportedBy != party.ID(vfp) {
			t.Fatalf("%s: got %v, want an abort reported by vault", name, err)
		}
		clean(name+"'s error", err.Error(), 400)
		if !strings.Contains(err.Error(), "reported by "+vfp+": ") {
			t.Fatalf("%s: %q does not say vault reported it", name, err)
		}

		o := outcomeOf(nil, err)
		if o.ReportedBy != vfp || len(o.Culprits) != 0 {
			t.Fatalf("%s's outcome: %+v", name, o)
		}
		shown := req.humanize(sanitizeLong(o.Error))
		clean("the initiator's line for "+name, shown, maxOutcomeText+100)
		if !strings.Contains(shown, "reported by vault ("+vfp+"): ") {
			t.Fatalf("the initiator shows %s's outcome as %q", name, shown)
		}

		log, err := audit.Open(filepath.Join(t.TempDir(), "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		p := &Party{Home: r.homes[i], Audit: log}
		p.emit(Event{Ceremony: id, What: "failed", Err: out[i].err, Outcome: o})
		es, err := audit.ReadAll(log.Path())
		log.Close()
		if err != nil || len(es) != 1 {
			t.Fatalf("%s's audit log: %+v, %v", name, es, err)
		}
		clean(name+"'s audit entry", es[0].Detail, 2000)
		if !strings.Contains(es[0].Detail, "reported_by="+vfp) || !strings.Contains(es[0].Detail, "reported by "+vfp+": ") || len(es[0].Culprits) != 0 {
			t.Fatalf("%s's audit entry: %+v", name, es[0])
		}
		t.Logf("%s audits: %s", name, es[0].Detail)
	}
}
