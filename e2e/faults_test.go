//go:build unix

package e2e_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/relay"
)

// Exit statuses of paratro (paratro help exit-codes).
const (
	exitOK           = 0
	exitFailure      = 1
	exitRejected     = 3
	exitMisbehaviour = 8
	exitTimeout      = 124
)

// The tests run in this order, on one wallet; each starts from whatever
// epoch the previous ones left and restarts what they left down.

// A signer's party is killed (SIGKILL) as it starts signing: the sign
// fails naming it, other signers can sign, and once restarted it signs
// again with the share it had.
func TestPartyKilledMidSign(t *testing.T) {
	e := setup(t)
	ana, ben := e.parties["ana"], e.parties["ben"]
	before := e.epochs(t)

	from := ben.mark()
	run := e.begin(ben.home, "wallet", "sign", e.wallet.ID, "--digest", digest(), "--signers", "ana,ben", "--timeout", "10s", "--output", "json")
	st := ben.waitEvent(t, from, 10*time.Second, "started sign", is("started", "sign", ""))
	ben.kill()
	t.Logf("SIGKILL ben's party as it started sign %.12s", st.Ceremony)
	r := run.wait()
	t.Logf("sign --signers ana,ben: exit %d after %s; stderr:\n%s", r.code, r.elapsed.Round(10*time.Millisecond), r.stderr)
	if r.code != exitTimeout && r.code != exitFailure {
		t.Fatalf("want exit %d or %d\n%s", exitTimeout, exitFailure, r)
	}
	if strings.TrimSpace(r.stdout) != "" {
		t.Errorf("a failed sign printed on stdout: %s", r.stdout)
	}
	if !strings.Contains(r.stderr, "no report from ben") && !strings.Contains(r.stderr, "waiting for ben") {
		t.Errorf("the error does not name ben:\n%s", r.stderr)
	}
	// A party posts its outcome, then prints it: the initiator may be first.
	if ev := ana.waitEvent(t, 0, 5*time.Second, "failed sign", is("failed", "sign", st.Ceremony)); !strings.Contains(ev.Error, ben.fp) {
		t.Errorf("ana's party should report the sign failed waiting for ben (%s); got %v", ben.fp, ev)
	}

	// The other signers can sign meanwhile.
	s := e.sign(t, "ana,vault")
	if !sameSet(s.Signers, "ana", "vault") {
		t.Errorf("signers %v, want ana and vault", s.Signers)
	}

	// ben comes back: it reports the ceremony it abandoned and signs again.
	from = ben.mark()
	if err := ben.start(); err != nil {
		t.Fatal(err)
	}
	ben.waitEvent(t, from, 15*time.Second, "aborted-after-restart", is("aborted-after-restart", "sign", st.Ceremony))
	s = e.sign(t, "ana,ben")
	if !sameSet(s.Signers, "ana", "ben") {
		t.Errorf("signers %v, want ana and ben", s.Signers)
	}
	if after := e.epochs(t); after["ben"] != before["ben"] {
		t.Errorf("ben's epoch changed: %d -> %d", before["ben"], after["ben"])
	}
}

// A signer's party goes silent (SIGSTOP) once it started signing and is
// never heard from before the deadline (SECURITY.md release case 19): the
// sign exits 124 (timed out) naming the party it waited for, prints
// nothing on stdout, and the other signer reports the same; once the
// party is back, the next sign runs under a fresh ceremony and session.
func TestSilentPartyTimesOut(t *testing.T) {
	e := setup(t)
	ana, vault := e.parties["ana"], e.parties["vault"]
	t.Cleanup(func() { e.healthy(t) })
	from, fromA := vault.mark(), ana.mark()
	run := e.begin(e.parties["ben"].home, "wallet", "sign", e.wallet.ID, "--digest", digest(), "--signers", "ana,vault", "--timeout", "15s", "--output", "json")
	st := vault.waitEvent(t, from, 20*time.Second, "started sign", is("started", "sign", ""))
	vault.pause(t)
	t.Logf("SIGSTOP vault's party as it started sign %.12s", st.Ceremony)
	r := run.wait()
	t.Logf("sign --signers ana,vault: exit %d after %s; stderr:\n%s", r.code, r.elapsed.Round(10*time.Millisecond), r.stderr)
	if r.code != exitTimeout {
		t.Fatalf("want exit %d (timed out)\n%s", exitTimeout, r)
	}
	if strings.TrimSpace(r.stdout) != "" {
		t.Errorf("a failed sign printed on stdout: %s", r.stdout)
	}
	if !strings.Contains(r.stderr, "waiting for vault") && !strings.Contains(r.stderr, "no report from vault") {
		t.Errorf("the error does not name vault:\n%s", r.stderr)
	}
	if ev := ana.waitEvent(t, fromA, 5*time.Second, "failed sign", is("failed", "sign", st.Ceremony)); !strings.Contains(ev.Error, vault.fp) {
		t.Errorf("ana's party should report the sign timed out waiting for vault (%s); got %v", vault.fp, ev)
	}
	vault.cont(t)
	s := e.sign(t, "ana,vault")
	if s.CeremonyID == st.Ceremony {
		t.Errorf("the retried sign reused ceremony %.12s", st.Ceremony)
	}
}

// A party is killed (SIGKILL) as it starts a refresh and restarted at
// once: it tells the others, the refresh fails quickly naming it, every
// holder keeps its share of the current epoch, the wallet signs, and the
// refresh succeeds when run again.
func TestPartyKilledMidRefresh(t *testing.T) {
	e := setup(t)
	vault := e.parties["vault"]
	n := e.epoch(t)
	marks := e.marks()
	const timeout = 60 * time.Second
	run := e.begin(e.parties["ben"].home, "rotate-keys", e.wallet.ID, "--timeout", timeout.String(), "--output", "json")
	st := vault.waitEvent(t, marks["vault"], 30*time.Second, "started refresh", is("started", "refresh", ""))
	vault.kill()
	from := vault.mark()
	if err := vault.start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGKILL vault's party as it started refresh %.12s, and restarted it", st.Ceremony)
	r := run.wait()
	t.Logf("rotate-keys: exit %d after %s (timeout %s); stderr:\n%s", r.code, r.elapsed.Round(10*time.Millisecond), timeout, r.stderr)
	if r.code != exitFailure {
		t.Fatalf("want exit %d\n%s", exitFailure, r)
	}
	if r.elapsed > timeout/2 {
		t.Errorf("rotate-keys took %s to fail: the restarted party should have told the others at once", r.elapsed)
	}
	if !strings.Contains(r.stderr, "party vault restarted during the ceremony") {
		t.Errorf("the error does not say vault restarted:\n%s", r.stderr)
	}
	vault.waitEvent(t, from, 5*time.Second, "aborted-after-restart", is("aborted-after-restart", "refresh", st.Ceremony))
	for _, name := range []string{"ana", "ben"} {
		if ev := e.parties[name].waitEvent(t, marks[name], 5*time.Second, "failed refresh", is("failed", "refresh", st.Ceremony)); !strings.Contains(ev.Error, "vault restarted") {
			t.Errorf("%s's party should report the refresh aborted because vault restarted; got %v", name, ev)
		}
	}
	for name, ep := range e.epochs(t) {
		if ep != n {
			t.Errorf("after the failed refresh %s holds epoch %d, want %d", name, ep, n)
		}
	}
	e.sign(t, "ana,vault")

	r = e.cmd(e.parties["ben"].home, "rotate-keys", e.wallet.ID, "--timeout", "90s", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("rotate-keys again:\n%s", r)
	}
	rot := decode[rotateJSON](t, r)
	if rot.Epoch != n+1 || rot.Address != e.wallet.Address {
		t.Errorf("rotate-keys again: epoch %d at %s, want %d at %s", rot.Epoch, rot.Address, n+1, e.wallet.Address)
	}
	for name, ep := range e.epochs(t) {
		if ep != n+1 {
			t.Errorf("after the second refresh %s holds epoch %d, want %d", name, ep, n+1)
		}
	}
}

// An envelope from ana is changed on the relay (one byte of each of ana's
// stored envelopes flipped in the relay's database, the relay down): the
// recipient refuses it, naming ana; the sign fails; a clean sign works.
func TestTamperedEnvelope(t *testing.T) {
	e := setup(t)
	ana, vault := e.parties["ana"], e.parties["vault"]
	t.Cleanup(func() { e.healthy(t) })

	// ana paused: the sign cannot start until she approves. vault approves,
	// then is paused too, so it reads nothing until the relay is edited.
	ana.pause(t)
	fromA, fromV := ana.mark(), vault.mark()
	run := e.begin(e.parties["ben"].home, "wallet", "sign", e.wallet.ID, "--digest", digest(), "--signers", "ana,vault", "--timeout", "60s", "--output", "json")
	cid := vault.waitEvent(t, fromV, 15*time.Second, "approved sign", is("approved", "sign", "")).Ceremony
	vault.pause(t)
	ana.cont(t)
	ana.waitEvent(t, fromA, 15*time.Second, "started sign", is("started", "sign", cid))
	n := e.waitEnvelopes(t, cid, ana.home, ana.fp)
	t.Logf("ana posted %d envelope(s) in sign %.12s; vault is paused", n, cid)

	e.relay.kill()
	var tampered []uint64
	if e.tampered == nil {
		e.tampered = map[string]bool{}
	}
	e.tampered[cid] = true
	e.relayDB(t, func(tx *bolt.Tx) error {
		members, err := ceremonyMembers(tx, cid)
		if err != nil {
			return err
		}
		msgs, err := ceremonyLog(tx, cid)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Kind != relay.KindEnvelope || m.From != ana.fp {
				continue
			}
			// The last byte of an envelope is the last byte of its
			// Ed25519 signature (CBOR {1: body, 2: signature}).
			m.Data[len(m.Data)-1] ^= 0x01
			if _, err := envelope.Inspect(m.Data, members); !errors.Is(err, envelope.ErrUnauthenticated) {
				return fmt.Errorf("message #%d: a flipped signature byte gives %v, want %v", m.Seq, err, envelope.ErrUnauthenticated)
			}
			if _, err := putMessage(tx, cid, m); err != nil {
				return err
			}
			tampered = append(tampered, m.Seq)
		}
		if len(tampered) == 0 {
			return errors.New("no envelope from ana to change")
		}
		return nil
	})
	t.Logf("flipped a signature byte of ana's messages %v with the relay down", tampered)
	if err := e.relay.start(); err != nil {
		t.Fatal(err)
	}
	vault.cont(t)

	r := run.wait()
	t.Logf("sign --signers ana,vault: exit %d after %s; stderr:\n%s", r.code, r.elapsed.Round(10*time.Millisecond), r.stderr)
	if r.code != exitFailure {
		t.Fatalf("want exit %d\n%s", exitFailure, r)
	}
	if !strings.Contains(r.stderr, "claiming to come from ana (") || !strings.Contains(r.stderr, "failed authentication") {
		t.Errorf("the error does not name ana as failing authentication:\n%s", r.stderr)
	}
	ev := vault.waitEvent(t, fromV, 5*time.Second, "failed sign", is("failed", "sign", cid))
	t.Logf("vault's party: %s", ev)
	if !strings.Contains(ev.Error, "claiming to come from ana ("+ana.fp+") failed authentication") ||
		!strings.Contains(ev.Error, "signature does not verify") || !mentionsSeq(ev.Error, tampered) {
		t.Errorf("vault's party should refuse one of ana's changed messages %v; it reports: %s", tampered, ev.Error)
	}
	e.sign(t, "ana,vault")
}

// An envelope of an earlier ceremony is replayed into a later one: posted
// through the relay's API by its real sender, the relay refuses it;
// written into the later ceremony's log in the relay's database, the
// recipient ignores it (its signed header names the old ceremony), reports
// it, and the sign completes.
func TestReplayedEnvelope(t *testing.T) {
	e := setup(t)
	ana, vault := e.parties["ana"], e.parties["vault"]
	t.Cleanup(func() { e.healthy(t) })
	old := e.sign(t, "ana,vault")

	ana.pause(t) // the new sign cannot start until she is back
	fromV := vault.mark()
	run := e.begin(e.parties["ben"].home, "wallet", "sign", e.wallet.ID, "--digest", digest(), "--signers", "ana,vault", "--timeout", "60s", "--output", "json")
	cid := vault.waitEvent(t, fromV, 15*time.Second, "approved sign", is("approved", "sign", "")).Ceremony

	e.relay.kill()
	var replay relay.Message
	var seq uint64
	e.relayDB(t, func(tx *bolt.Tx) error {
		msgs, err := ceremonyLog(tx, old.CeremonyID)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Kind == relay.KindEnvelope && m.From == ana.fp && m.To == vault.fp {
				replay = m
				break
			}
		}
		if replay.Seq == 0 {
			return fmt.Errorf("no envelope from ana to vault in sign %.12s", old.CeremonyID)
		}
		m := replay
		m.Seq, m.ReceivedAt = 0, time.Now().UTC()
		seq, err = putMessage(tx, cid, m)
		return err
	})
	t.Logf("copied ana's message #%d to vault of sign %.12s into sign %.12s as #%d, the relay down", replay.Seq, old.CeremonyID, cid, seq)
	if err := e.relay.start(); err != nil {
		t.Fatal(err)
	}

	// (a) Through the API, as ana herself: the relay refuses it.
	cl, _ := e.client(t, ana.home)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cl.Post(ctx, cid, relay.KindEnvelope, replay.Data)
	var api *relay.APIError
	if !errors.As(err, &api) || api.Status != 400 || api.Code != "bad_envelope" || !strings.Contains(api.Message, old.CeremonyID) {
		t.Errorf("the relay should refuse ana's envelope of ceremony %.12s posted into %.12s (400 bad_envelope); got %v", old.CeremonyID, cid, err)
	} else {
		t.Logf("relay API: %v", err)
	}

	// (b) Read by vault from the relay's log: vault sees from its signed
	// header that it belongs to the old ceremony, ignores it and reports it
	// (SECURITY.md release case 22: rejected by the envelope binding, and
	// the ceremony completes).
	ana.cont(t)
	r := run.wait()
	t.Logf("sign --signers ana,vault: exit %d after %s; stderr:\n%s", r.code, r.elapsed.Round(10*time.Millisecond), r.stderr)
	if r.code != exitOK {
		t.Fatalf("the sign should complete past the replayed envelope; want exit %d\n%s", exitOK, r)
	}
	s := decode[signJSON](t, r)
	if s.CeremonyID != cid {
		t.Errorf("sign printed ceremony %.12s, want %.12s", s.CeremonyID, cid)
	}
	ev := vault.waitEvent(t, fromV, 5*time.Second, "foreign envelope reported", is("foreign-envelope", "sign", cid))
	t.Logf("vault's party: %s", ev)
	for _, want := range []string{fmt.Sprintf("message #%d of ceremony %.16s…", seq, cid), fmt.Sprintf("signed for ceremony %.16s…", old.CeremonyID)} {
		if !strings.Contains(ev.Detail, want) {
			t.Errorf("vault's report of the replayed envelope should say %q: %s", want, ev.Detail)
		}
	}
	vault.waitEvent(t, fromV, 5*time.Second, "sign done", is("done", "sign", cid))
}

// An identity that is not a member of a ceremony asks for it: the relay
// refuses with 403 and logs the refusal.
func TestOutsiderRefused(t *testing.T) {
	e := setup(t)
	cid := e.wallet.CeremonyID // a real ceremony, eve is not in it
	cl, eve := e.client(t, e.eve)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.Register(ctx); err != nil {
		t.Fatalf("eve registers: %v", err)
	}
	forbidden := func(what string, err error) {
		t.Helper()
		var api *relay.APIError
		if !errors.As(err, &api) || api.Status != 403 || api.Code != "forbidden" {
			t.Errorf("%s as eve: want HTTP 403 forbidden, got %v", what, err)
		}
	}
	_, err := cl.Messages(ctx, cid, 0, 0)
	forbidden("read the mailbox", err)
	_, err = cl.Ceremony(ctx, cid)
	forbidden("read the ceremony", err)
	_, err = cl.Post(ctx, cid, relay.KindControl, []byte("let me in"))
	forbidden("post to the mailbox", err)

	// A member may read it.
	ana, _ := e.client(t, e.parties["ana"].home)
	if msgs, err := ana.Messages(ctx, cid, 0, 0); err != nil || len(msgs) == 0 {
		t.Errorf("ana reads the mailbox: %d messages, %v", len(msgs), err)
	}

	line, err := e.relay.waitLog(5*time.Second, func(l map[string]any) bool {
		p, _ := l["path"].(string)
		return l["msg"] == "ceremony access refused" && l["name"] == "eve" && l["identity"] == eve.Fingerprint() &&
			l["ceremony"] == cid && strings.HasSuffix(p, "/messages")
	})
	if err != nil {
		t.Fatalf("the relay did not log eve's refused read of %.12s: %v\n%s", cid, err, tail(e.relay.logPath, 10))
	}
	t.Logf("relay log: %v", line)
}

// signJSON is what wallet sign --output json prints.
type signJSON struct {
	Wallet     string   `json:"wallet"`
	Digest     string   `json:"digest"`
	Signature  string   `json:"signature"`
	Signers    []string `json:"signers"`
	Address    string   `json:"address"`
	Epoch      uint64   `json:"epoch"`
	CeremonyID string   `json:"ceremony_id"`
}

// rotateJSON is what rotate-keys --output json prints.
type rotateJSON struct {
	FromEpoch uint64 `json:"from_epoch"`
	Epoch     uint64 `json:"epoch"`
	Address   string `json:"address"`
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("decode the JSON of %s", r)
	}
	return v
}

// signFresh has ben sign a fresh digest with signers (wallet sign --output
// json) and fails the test unless it succeeds; it returns the command's
// result and the digest.
func (e *env) signFresh(t *testing.T, signers, timeout string) (result, string) {
	t.Helper()
	d := digest()
	r := e.cmd(e.parties["ben"].home, "wallet", "sign", e.wallet.ID, "--digest", d, "--signers", signers, "--timeout", timeout, "--output", "json")
	if r.code != exitOK {
		t.Fatalf("sign --signers %s:\n%s", signers, r)
	}
	return r, d
}

// sign signs a fresh digest with signers (ben initiates) and checks the
// signature against the wallet's address with go-ethereum.
func (e *env) sign(t *testing.T, signers string) signJSON {
	t.Helper()
	r, d := e.signFresh(t, signers, "60s")
	s := decode[signJSON](t, r)
	if s.Digest != d || s.Address != e.wallet.Address {
		t.Fatalf("sign printed digest %s address %s, want %s %s", s.Digest, s.Address, d, e.wallet.Address)
	}
	checkSignature(t, e.wallet, d, s.Signature)
	t.Logf("signed by %s in %s (ceremony %.12s); signature verified with go-ethereum", signers, r.elapsed.Round(10*time.Millisecond), s.CeremonyID)
	return s
}

// checkSignature checks sig (r || s || v) over digest against the wallet,
// twice: with the repository's ethereum.VerifyDigest and with a bare
// crypto.Ecrecover.
func checkSignature(t *testing.T, w createJSON, digestHex, sigHex string) {
	t.Helper()
	d, err1 := hex.DecodeString(digestHex)
	sig, err2 := hex.DecodeString(sigHex)
	if err1 != nil || err2 != nil || len(sig) != 65 {
		t.Fatalf("signature %q over %q: not hex or not 65 bytes", sigHex, digestHex)
	}
	if err := ethereum.VerifyDigest(w.Address, d, sig); err != nil {
		t.Errorf("VerifyDigest: %v", err)
	}
	pub, err := crypto.Ecrecover(d, sig)
	if err != nil {
		t.Fatalf("Ecrecover: %v", err)
	}
	key, err := crypto.UnmarshalPubkey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if got := crypto.PubkeyToAddress(*key); got != common.HexToAddress(w.Address) {
		t.Errorf("Ecrecover gives %s, want the wallet's %s", got.Hex(), w.Address)
	}
	if got := hex.EncodeToString(crypto.CompressPubkey(key)); got != w.PublicKey {
		t.Errorf("Ecrecover gives key %s, want the wallet's %s", got, w.PublicKey)
	}
}

// epochs is the epoch of each holder's active share (wallet show reads it
// from the holder's own share store).
func (e *env) epochs(t *testing.T) map[string]uint64 {
	t.Helper()
	runs := map[string]*running{}
	for _, name := range holders {
		runs[name] = e.begin(e.parties[name].home, "wallet", "show", e.wallet.ID, "--output", "json")
	}
	out := map[string]uint64{}
	for _, name := range holders {
		r := runs[name].wait()
		if r.code != exitOK {
			t.Fatalf("wallet show at %s:\n%s", name, r)
		}
		var w struct {
			Epoch   uint64 `json:"epoch"`
			Address string `json:"address"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &w); err != nil {
			t.Fatalf("wallet show at %s: %v", name, err)
		}
		if w.Address != e.wallet.Address {
			t.Errorf("%s has the wallet at %s, want %s", name, w.Address, e.wallet.Address)
		}
		out[name] = w.Epoch
	}
	return out
}

// epoch is the wallet's epoch, which every holder must agree on.
func (e *env) epoch(t *testing.T) uint64 {
	t.Helper()
	eps := e.epochs(t)
	n := eps[holders[0]]
	for name, ep := range eps {
		if ep != n {
			t.Fatalf("holders disagree on the epoch: %v (%s)", eps, name)
		}
	}
	return n
}

// marks is a position in every party's events.
func (e *env) marks() map[string]int {
	out := map[string]int{}
	for _, name := range holders {
		out[name] = e.parties[name].mark()
	}
	return out
}

// waitEnvelopes waits until the holder of home (fingerprint fp) has posted
// envelopes to ceremony cid and posts no more (it waits for a paused peer),
// reading the mailbox as that holder; it returns how many.
func (e *env) waitEnvelopes(t *testing.T, cid, home, fp string) int {
	t.Helper()
	cl, _ := e.client(t, home)
	deadline := time.Now().Add(20 * time.Second)
	last, since := -1, time.Now()
	for time.Now().Before(deadline) {
		n := e.countEnvelopes(t, cl, cid, fp)
		if n != last {
			last, since = n, time.Now()
		} else if n > 0 && time.Since(since) >= time.Second {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no envelope from %s in %.12s after 20 s", fp, cid)
	return 0
}

// countEnvelopes counts the envelopes of ceremony cid that cl may read,
// those from fp only when fp is not empty.
func (e *env) countEnvelopes(t *testing.T, cl *relay.Client, cid, fp string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := cl.Messages(ctx, cid, 0, 0)
	if err != nil {
		t.Fatalf("read ceremony %.12s: %v", cid, err)
	}
	n := 0
	for _, m := range msgs {
		if m.Kind == relay.KindEnvelope && (fp == "" || m.From == fp) {
			n++
		}
	}
	return n
}

func sameSet(got []string, want ...string) bool {
	return len(got) == len(want) && !slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(got, w) })
}

func mentionsSeq(s string, seqs []uint64) bool {
	for _, n := range seqs {
		if strings.Contains(s, fmt.Sprintf("message #%d ", n)) {
			return true
		}
	}
	return false
}
