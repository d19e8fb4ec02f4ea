package relay

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/envelope"
)

// SECURITY.md case 5 at the relay's real default cap (DefaultMaxBody, 2
// MiB): a sealed envelope over it is refused with 413 before it is read,
// nothing is stored, and the sender, the other members of the ceremony and
// other ceremonies go on posting and reading.
func TestAnEnvelopeOverTheDefaultCapIsRefusedAndOthersCarryOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	log, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	r := startRelay(t, Config{Audit: log})
	if r.srv.cfg.MaxBody != DefaultMaxBody || DefaultMaxBody != 2<<20 {
		t.Fatalf("MaxBody = %d, DefaultMaxBody = %d; want 2 MiB", r.srv.cfg.MaxBody, DefaultMaxBody)
	}
	names := []string{"alice", "bob"}
	for i := range 8 {
		names = append(names, fmt.Sprintf("p%d", i))
	}
	ps := r.register(t, names...)
	alice, bob := ps[0], ps[1]
	big := openCeremony(t, ps...)          // ten members
	other := openCeremony(t, bob, alice)   // another ceremony of the same two
	third := openCeremony(t, ps[2], ps[3]) // a ceremony alice is not in

	// A genuine broadcast: the largest plaintext an envelope takes, sealed
	// to nine recipients, is over 2 MiB.
	payload := strings.Repeat("x", envelope.MaxPayload)
	huge := seal(t, alice, big, 1, nil, ps[1:], payload)
	if len(huge) <= DefaultMaxBody {
		t.Fatalf("the test envelope is %d bytes, not over the cap", len(huge))
	}
	_, err = alice.c.Post(ctx(t), big, KindEnvelope, huge)
	ae := apiErr(t, err, http.StatusRequestEntityTooLarge, "too_large")
	if !strings.Contains(ae.Message, "2097152-byte limit") {
		t.Errorf("message = %q", ae.Message)
	}
	for _, p := range ps {
		if msgs, err := p.c.Messages(ctx(t), big, 0, 0); err != nil || len(msgs) != 0 {
			t.Fatalf("%s reads %d messages (%v) after the refusal", p.id.Name, len(msgs), err)
		}
	}
	if recs := r.logs.records("request refused"); len(recs) != 1 || recs[0]["status"] != float64(413) {
		t.Errorf("refusal log = %v", recs)
	}
	// The refusal is audited, small, without the envelope; the signature
	// cannot be checked without the body, so the caller is as claimed.
	es, _ := audit.ReadAll(path)
	var refused []audit.Entry
	for _, e := range es {
		if e.Event == audit.EventRequestRefused {
			refused = append(refused, e)
		}
	}
	if len(refused) != 1 || !strings.Contains(refused[0].Detail, "POST /v1/ceremonies/"+big+"/messages: 413 too_large") ||
		!strings.Contains(refused[0].Detail, "unverified signature claiming identity "+alice.id.Label()) || refused[0].Actor != "" {
		t.Errorf("audited refusals: %+v", refused)
	}

	// The sender, another member, and other ceremonies carry on. (The
	// body is JSON with the envelope in base64, so an envelope of up to
	// about 3/4 of the cap fits: here 4 recipients' worth, about 1 MiB.)
	fits := seal(t, alice, big, 1, nil, ps[1:5], strings.Repeat("y", envelope.MaxPayload))
	if len(fits) < 1<<20 {
		t.Fatalf("the envelope under the cap is only %d bytes", len(fits))
	}
	if seq, err := alice.c.Post(ctx(t), big, KindEnvelope, fits); err != nil || seq != 1 {
		t.Fatalf("alice's next envelope: seq %d, %v", seq, err)
	}
	if seq, err := bob.c.Post(ctx(t), big, KindEnvelope, seal(t, bob, big, 1, nil, []party{alice}, "B")); err != nil || seq != 2 {
		t.Fatalf("bob in the same ceremony: seq %d, %v", seq, err)
	}
	if seq, err := bob.c.Post(ctx(t), other, KindEnvelope, seal(t, bob, other, 1, &alice, nil, "to alice")); err != nil || seq != 1 {
		t.Fatalf("bob in another ceremony: seq %d, %v", seq, err)
	}
	if seq, err := ps[2].c.Post(ctx(t), third, KindControl, []byte("c")); err != nil || seq != 1 {
		t.Fatalf("a ceremony without alice: seq %d, %v", seq, err)
	}
	msgs, err := ps[4].c.Messages(ctx(t), big, 0, 0)
	if err != nil || len(msgs) != 2 || len(msgs[0].Data) != len(fits) {
		t.Fatalf("p2 reads %d messages, %v", len(msgs), err)
	}
}

// SECURITY.md case 5, the per-ceremony quota: once a ceremony holds its
// quota of messages a further post is refused with 413 quota_exceeded and
// not stored; what it holds stays readable by every member, and other
// ceremonies (of the same members) take posts as before. Without -short
// this runs at the default quota (DefaultMaxMessages); with it, at 40.
func TestACeremonyOverItsQuotaRefusesPostsAndOthersCarryOn(t *testing.T) {
	quota := DefaultMaxMessages
	cfg := Config{}
	if testing.Short() {
		quota = 40
		cfg.MaxMessages = quota
	}
	r := startRelay(t, cfg)
	names := []string{"alice", "bob"}
	for i := range 8 {
		names = append(names, fmt.Sprintf("p%d", i))
	}
	ps := r.register(t, names...)
	alice, bob := ps[0], ps[1]
	full := openCeremony(t, ps...)
	other := openCeremony(t, alice, bob)

	// Fill the ceremony: every member posts its share of control messages
	// at once (a member's rate allows DefaultBurst requests in a burst).
	var wg sync.WaitGroup
	errs := make(chan error, len(ps))
	for i, p := range ps {
		n := quota / len(ps)
		if i < quota%len(ps) {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				if _, err := p.c.Post(ctx(t), full, KindControl, fmt.Appendf(nil, "%s %d", p.id.Name, j)); err != nil {
					errs <- fmt.Errorf("%s post %d: %w", p.id.Name, j, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	for _, p := range []party{alice, bob} {
		_, err := p.c.Post(ctx(t), full, KindEnvelope, seal(t, p, full, 9, nil, others(ps, p), "late"))
		ae := apiErr(t, err, http.StatusRequestEntityTooLarge, "quota_exceeded")
		if !strings.Contains(ae.Message, fmt.Sprintf("at most %d messages", quota)) {
			t.Errorf("message = %q", ae.Message)
		}
	}
	var seen int
	for after := uint64(0); ; {
		msgs, err := ps[5].c.Messages(ctx(t), full, after, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			break
		}
		seen += len(msgs)
		after = msgs[len(msgs)-1].Seq
		for _, m := range msgs {
			if m.Kind != KindControl {
				t.Fatalf("a refused envelope was stored: seq %d from %s", m.Seq, m.From)
			}
		}
	}
	if seen != quota {
		t.Fatalf("the full ceremony holds %d messages, want %d", seen, quota)
	}
	if seq, err := bob.c.Post(ctx(t), other, KindEnvelope, seal(t, bob, other, 1, &alice, nil, "hi")); err != nil || seq != 1 {
		t.Fatalf("another ceremony: seq %d, %v", seq, err)
	}
	if cid := openCeremony(t, alice, bob); cid == "" {
		t.Fatal("no new ceremony")
	}
}

// others are the parties of ps but p.
func others(ps []party, p party) []party {
	var out []party
	for _, q := range ps {
		if q.fp() != p.fp() {
			out = append(out, q)
		}
	}
	return out
}
