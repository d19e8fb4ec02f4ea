package coord

import (
	"context"

	"encoding/hex"
	"errors"
	"github.com/pquerna/otp/totp"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares/sharestest"
)

type rig struct {
	t       *testing.T
	url     string
	homes   []*home.Home
	cancels []context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	events  []Event
	totp    map[int]string // TOTP secrets of enrolled operators, by home
	pool    Pool           // the presignature pool every started party keeps
}

func newRig(t *testing.T, names ...string) *rig {
	t.Helper()
	st, err := relay.OpenStore(filepath.Join(t.TempDir(), "relay"))
	if err != nil {
		t.Fatal(err)
	}
	srv := relay.NewServer(st, relay.Config{})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); ts.Close(); st.Close() })
	r := &rig{t: t, url: ts.URL}
	t.Cleanup(func() {
		for _, c := range r.cancels {
			c()
		}
		r.wg.Wait()
	})
	for _, n := range names {
		h, err := home.Init(filepath.Join(t.TempDir(), n), sharestest.NewMemoryKeyring(), n)
		if err != nil {
			t.Fatal(err)
		}
		r.homes = append(r.homes, h)
	}
	for _, h := range r.homes {
		for _, o := range r.homes {
			if _, err := h.Trust(o.ID.Public); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The first home owns the relay and admits the others as admins.
	if err := st.BootstrapOwner(r.homes[0].ID.Public, time.Now()); err != nil {
		t.Fatal(err)
	}
	owner := r.client(r.homes[0])
	for _, h := range r.homes[1:] {
		if err := r.client(h).Register(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.AddOperator(t.Context(), h.ID.Name, relay.RoleAdmin); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (r *rig) client(h *home.Home) *relay.Client {
	c, err := relay.NewClient(r.url, h.ID, relay.ClientOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// start runs party i with decide until the test ends or stop(i).
func (r *rig) start(i int, decide Decider) { r.startParty(i, decide, nil) }

// startParty is start, with the party adjusted by configure (when not nil)
// before it runs.
func (r *rig) startParty(i int, decide Decider, configure func(*Party)) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancels = append(r.cancels, cancel)
	log, err := audit.Open(filepath.Join(r.homes[i].Dir, "audit.log"))
	if err != nil {
		r.t.Fatal(err)
	}
	p := &Party{Home: r.homes[i], Relay: r.client(r.homes[i]), Decide: decide, Audit: log, Pool: r.pool, Events: func(e Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}}
	if configure != nil {
		configure(p)
	}
	// Register before returning, so that requests find every party.
	if err := p.Relay.Register(ctx); err != nil {
		r.t.Fatal(err)
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer log.Close() // Run returns only after every ceremony it started ended
		_ = p.Run(ctx)
	}()
}

func approveAll(context.Context, *Proposal) (Decision, error) { return Decision{Approve: true}, nil }

func (r *rig) parties() []identity.Public {
	var out []identity.Public
	for _, h := range r.homes {
		out = append(out, h.ID.Public)
	}
	return out
}

func (r *rig) initiate(ctx context.Context, by int, req *Request) (*Report, error) {
	c := r.client(r.homes[by])
	if secret := r.totp[by]; secret != "" {
		code, err := totp.GenerateCode(secret, time.Now())
		if err != nil {
			r.t.Fatal(err)
		}
		c.SetOTP(code)
	}
	return Initiate(ctx, c, r.homes[by].ID, req, nil)
}

// enrollTOTP enrols home i's operator in TOTP (confirmed with the code of
// the previous time step, so that the current one is left for initiate).
func (r *rig) enrollTOTP(i int) {
	c := r.client(r.homes[i])
	en, err := c.MFAEnroll(r.t.Context())
	if err != nil {
		r.t.Fatal(err)
	}
	code, err := totp.GenerateCode(en.Secret, time.Now().Add(-30*time.Second))
	if err != nil {
		r.t.Fatal(err)
	}
	c.SetOTP(code)
	if _, err := c.MFAConfirm(r.t.Context()); err != nil {
		r.t.Fatal(err)
	}
	if r.totp == nil {
		r.totp = map[int]string{}
	}
	r.totp[i] = en.Secret
}

func (r *rig) share(i int, wallet string) (uint64, string) {
	st, err := r.homes[i].Store.Active(wallet, r.homes[i].ID.Fingerprint())
	if err != nil {
		r.t.Fatal(err)
	}
	defer st.Wipe()
	return st.Epoch, hex.EncodeToString(st.ConfigDigest)
}

// A Schnorr wallet's whole life through the relay: create, sign, rotate,
// sign with another pair; the signatures verify with btcec.
func TestLifecycleThroughRelay(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	for i := range r.homes {
		r.start(i, approveAll)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wallet := holder.NewWalletID()
	rep, err := r.initiate(ctx, 1, &Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: wallet,
		WalletName: "ops", Chain: "bitcoin", Parties: r.parties(), Required: 2, Deadline: time.Now().Add(30 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	pub := rep.PublicKey()
	if len(pub) != 32 {
		t.Fatalf("public key %x", pub)
	}
	sign := func(signers []string) {
		t.Helper()
		epoch, cd := r.share(0, wallet)
		digest := make([]byte, 32)
		digest[0] = byte(epoch)
		rep, err := r.initiate(ctx, 0, &Request{Kind: ceremony.KindSign, Scheme: ceremony.SchemeSchnorr, WalletID: wallet,
			Parties: r.parties(), Signers: signers, Required: 2, Epoch: epoch, ConfigDigest: cd, Digest: hex.EncodeToString(digest),
			Deadline: time.Now().Add(30 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := hex.DecodeString(rep.Result().Signature)
		if err := bitcoin.VerifySchnorr(pub, digest, sig); err != nil {
			t.Fatalf("signature by %v does not verify: %v", signers, err)
		}
	}
	sign(nil)
	epoch, cd := r.share(0, wallet)
	r.enrollTOTP(1) // rotate-keys needs the initiator's TOTP code
	rep, err = r.initiate(ctx, 1, &Request{Kind: ceremony.KindRefresh, Scheme: ceremony.SchemeSchnorr, WalletID: wallet,
		Parties: r.parties(), Required: 2, Epoch: epoch, ConfigDigest: cd, Deadline: time.Now().Add(30 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(rep.PublicKey()) != hex.EncodeToString(pub) {
		t.Fatal("refresh changed the public key")
	}
	for i := range r.homes {
		if e, _ := r.share(i, wallet); e != 2 {
			t.Fatalf("%s is on epoch %d after refresh", r.homes[i].ID.Name, e)
		}
	}
	sign([]string{r.homes[1].ID.Fingerprint(), r.homes[2].ID.Fingerprint()})
	// vault: request, approved and outcome for keygen, refresh and the last
	// sign (it is a named signer); for the first sign, request and approved,
	// and an outcome only if it was among the first two to approve.
	es := r.auditOf(2, 11)
	for range 50 {
		if oks := countOutcomes(es); oks >= 3 && es[len(es)-1].Event == audit.EventOutcome {
			break
		}
		time.Sleep(100 * time.Millisecond)
		es = r.auditOf(2, 11)
	}
	if oks := countOutcomes(es); oks < 3 || oks > 4 || len(es) != 8+oks {
		t.Fatalf("vault's audit log: %d entries, %d ok outcomes", len(es), oks)
	}
	if o := es[2]; o.Event != audit.EventOutcome || o.Outcome != "ok" || !strings.Contains(o.Detail, "public_key="+hex.EncodeToString(pub)) {
		t.Fatalf("vault's keygen outcome: %+v", o)
	}
}

// A party that rejects stops a keygen, and the initiator says who and why.
func TestRejection(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	r.start(0, approveAll)
	r.start(1, approveAll)
	r.start(2, func(context.Context, *Proposal) (Decision, error) {
		return Decision{Approve: false, Reason: "not today"}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := r.initiate(ctx, 0, &Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: holder.NewWalletID(),
		Parties: r.parties(), Required: 2, Deadline: time.Now().Add(20 * time.Second)})
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.By != "vault" || rej.Reason != "not today" {
		t.Fatalf("got %v", err)
	}
	es := r.auditOf(2, 2)
	if es[0].Event != audit.EventRequest || !strings.HasPrefix(es[0].Actor, "ana (") || len(es[0].Parties) != 3 ||
		es[1].Event != audit.EventRejected || es[1].Detail != "not today" || es[1].Kind != "keygen" {
		t.Fatalf("vault's audit log: %+v", es)
	}
}

// auditOf waits for party i's audit log to hold n entries, checks its
// chain and returns them.
func countOutcomes(es []audit.Entry) int {
	n := 0
	for _, e := range es {
		if e.Event == audit.EventOutcome && e.Outcome == "ok" {
			n++
		}
	}
	return n
}

func (r *rig) auditOf(i, n int) []audit.Entry {
	r.t.Helper()
	path := filepath.Join(r.homes[i].Dir, "audit.log")
	for range 50 {
		es, err := audit.ReadAll(path)
		if err == nil && len(es) >= n {
			if _, err := audit.Verify(path); err != nil {
				r.t.Fatal(err)
			}
			return es
		}
		time.Sleep(100 * time.Millisecond)
	}
	es, err := audit.ReadAll(path)
	r.t.Fatalf("%s's audit log has %d entries (%v), want %d", r.homes[i].ID.Name, len(es), err, n)
	return nil
}

// A party that does not trust one of the parties rejects, naming it.
func TestUntrustedPartyRejected(t *testing.T) {
	r := newRig(t, "ana", "ben")
	stranger, _ := home.Init(filepath.Join(t.TempDir(), "eve"), sharestest.NewMemoryKeyring(), "eve")
	if _, err := r.homes[0].Trust(stranger.ID.Public); err != nil {
		t.Fatal(err)
	}
	r.homes = append(r.homes, stranger)
	for i := range r.homes {
		r.start(i, approveAll)
	}
	// The relay admits eve; ben's own trust list is what refuses her.
	if _, err := r.client(r.homes[0]).AddOperator(t.Context(), "eve", relay.RoleOperator); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := r.initiate(ctx, 0, &Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: holder.NewWalletID(),
		Parties: r.parties(), Required: 2, Deadline: time.Now().Add(20 * time.Second)})
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.By != "ben" || !strings.Contains(rej.Reason, "not trusted here: eve") {
		t.Fatalf("got %v", err)
	}
}

// A party that never answers: the initiator gives up at the deadline (plus
// a short grace), names it, and the error is a timeout.
func TestSilentPartyTimesOut(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	r.start(0, approveAll)
	r.start(1, approveAll)
	// vault registers but its party is not running.
	if err := r.client(r.homes[2]).Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	_, err := r.initiate(ctx, 0, &Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: holder.NewWalletID(),
		Parties: r.parties(), Required: 2, Deadline: time.Now().Add(2 * time.Second)})
	if !errors.Is(err, ceremony.ErrTimeout) || !strings.Contains(err.Error(), "vault") || strings.Contains(err.Error(), "ana,") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(began); d > 2*time.Second+reportGrace+time.Second {
		t.Fatalf("gave up after %v", d)
	}
}

func TestHumanize(t *testing.T) {
	r := newRig(t, "ana", "ben")
	req := &Request{Initiator: r.homes[0].ID.Public, Parties: r.parties()}
	fp := r.homes[1].ID.Fingerprint()
	got := req.humanize("aborted by " + fp + ": waiting for " + fp)
	if want := "aborted by ben (" + fp + "): waiting for ben (" + fp + ")"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	if s := sanitizeLong("a\x1b[31mb\nc"); s != "a[31mb c" {
		t.Fatalf("sanitized %q", s)
	}
}

// A request that cannot start any more is withdrawn at once: the holder
// still looking at it is told why, and a party that approved stops waiting
// for the start. Every party is shown the same SAS as the initiator.
func TestRejectedRequestIsWithdrawnEverywhere(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	var mu sync.Mutex
	sas := map[string]string{}
	note := func(who string, p *Proposal) {
		mu.Lock()
		sas[who] = p.SAS
		mu.Unlock()
	}
	r.start(0, func(_ context.Context, p *Proposal) (Decision, error) {
		note("ana", p)
		return Decision{Approve: true}, nil
	})
	benCause := make(chan error, 1)
	r.start(1, func(ctx context.Context, p *Proposal) (Decision, error) {
		note("ben", p)
		<-ctx.Done() // ben is still reading the request
		benCause <- context.Cause(ctx)
		return Decision{}, ctx.Err()
	})
	r.start(2, func(_ context.Context, p *Proposal) (Decision, error) {
		note("vault", p)
		time.Sleep(200 * time.Millisecond) // after ana's approval
		return Decision{Approve: false, Reason: "not today"}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var initiatorSAS string
	began := time.Now()
	c := r.client(r.homes[0])
	_, err := Initiate(ctx, c, r.homes[0].ID, &Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: holder.NewWalletID(),
		Parties: r.parties(), Required: 2, Deadline: time.Now().Add(30 * time.Second)}, func(s Status) { initiatorSAS = s.SAS })
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.By != "vault" {
		t.Fatalf("got %v", err)
	}
	select {
	case cause := <-benCause:
		var wd *WithdrawnError
		if !errors.As(cause, &wd) || wd.By != "ana" || wd.Reason != "rejected by vault" {
			t.Fatalf("ben's question ended with %v, want withdrawn by ana: rejected by vault", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ben is still asked 10 s after the request was rejected")
	}
	if el := time.Since(began); el > 15*time.Second {
		t.Fatalf("took %s", el)
	}
	mu.Lock()
	defer mu.Unlock()
	if !regexp.MustCompile(`^\d{5} \d{5} \d{5}$`).MatchString(initiatorSAS) || sas["ana"] != initiatorSAS || sas["ben"] != initiatorSAS || sas["vault"] != initiatorSAS {
		t.Fatalf("SAS: initiator %q, parties %v", initiatorSAS, sas)
	}
	// ana approved and was waiting for the start: she is told too, and it is audited.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		var got *Event
		for i, e := range r.events {
			if e.What == "withdrawn" && e.Request != nil && strings.Contains(e.Detail, "rejected by vault") {
				got = &r.events[i]
			}
		}
		r.mu.Unlock()
		if got != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no withdrawn event")
		}
		time.Sleep(50 * time.Millisecond)
	}
	es := r.auditOf(0, 3)
	if es[2].Event != audit.EventWithdrawn {
		t.Fatalf("ana's audit log: %+v", es)
	}
}

func TestSASIsStableAndDiffers(t *testing.T) {
	a, b := SAS("c1", "h1"), SAS("c1", "h2")
	if a != SAS("c1", "h1") || a == b || SAS("c2", "h1") == a {
		t.Fatalf("%q %q", a, b)
	}
	if !regexp.MustCompile(`^\d{5} \d{5} \d{5}$`).MatchString(a) {
		t.Fatalf("format %q", a)
	}
}
