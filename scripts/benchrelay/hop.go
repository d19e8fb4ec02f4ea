package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// traffic is what one ceremony sends: messages and payload bytes by round.
type traffic struct {
	rounds []int       // distinct rounds, in order (0: confirm and abort messages)
	msgs   map[int]int // sends by round
	bytes  map[int]int // payload bytes by round
}

// signTraffic runs one in-memory sign and counts its messages.
func signTraffic(ctx context.Context, sh map[party.ID]*ceremony.Share) (*traffic, error) {
	d := ceremonytest.Sign(sh, randomDigest(), memSigners...)
	net := ceremony.NewMemoryNetwork(d.Parties...)
	t := &traffic{msgs: map[int]int{}, bytes: map[int]int{}}
	var mu sync.Mutex
	net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		mu.Lock()
		defer mu.Unlock()
		if !slices.Contains(t.rounds, m.Round) {
			t.rounds = append(t.rounds, m.Round)
		}
		t.msgs[m.Round]++
		t.bytes[m.Round] += len(m.Payload)
		return []*ceremony.Message{m}
	})
	out := ceremonytest.Run(ctx, d, net, d.Parties, func(id party.ID, c *ceremony.Config) { c.Share = sh[id] })
	for id, o := range out {
		if o.Err != nil {
			return nil, fmt.Errorf("memory sign: %s: %w", id, o.Err)
		}
	}
	return t, nil
}

func (t *traffic) total() (msgs, bytes int) {
	for _, r := range t.rounds {
		msgs += t.msgs[r]
		bytes += t.bytes[r]
	}
	return
}

// hopResult is the relay's cost per message, measured with two identities
// of this process passing a sealed message back and forth through the
// ceremony transport the parties use (coord.Transport).
type hopResult struct {
	payload            int
	send, deliver, hop []time.Duration // Send (seal + POST); Send returned → Receive returned; sum
	seal, open, get    []time.Duration // envelope.Seal, envelope.Open, a signed GET answered at once
	health             []time.Duration // GET /healthz (unsigned, no store)
	fsync              []time.Duration // write 4 KiB + fdatasync in the relay's data directory
}

func (b *bench) hops(ctx context.Context, n, payload int) (*hopResult, error) {
	ids := make([]*identity.Identity, 2)
	clients := make([]*relay.Client, 2)
	for i := range ids {
		var err error
		if ids[i], err = identity.New(fmt.Sprintf("hop-%d", i)); err != nil {
			return nil, err
		}
		// each its own client, hence its own connections, as two processes
		if clients[i], err = relay.NewClient(b.url, ids[i], relay.ClientOptions{}); err != nil {
			return nil, err
		}
		if err := clients[i].Register(ctx); err != nil {
			return nil, err
		}
		// only admitted operators take part in ceremonies
		if _, err := b.client.AddOperator(ctx, ids[i].Fingerprint(), relay.RoleOperator); err != nil {
			return nil, err
		}
	}
	members := []identity.Public{ids[0].Public, ids[1].Public}
	cid := ceremony.NewID().String()
	// The relay reads of a ceremony's request only its type, signer and
	// kind (the parties check the rest, and there are none here): a sign
	// request of no wallet by hop-0.
	probe, err := json.Marshal(map[string]any{"type": "request", "ceremony": cid, "signer": ids[0].Fingerprint(),
		"body": map[string]string{"kind": "sign"}})
	if err != nil {
		return nil, err
	}
	if err := clients[0].CreateCeremony(ctx, relay.CreateCeremony{ID: cid, Members: members,
		Request: probe, Deadline: time.Now().Add(2 * time.Minute)}); err != nil {
		return nil, err
	}
	tr := []*coord.Transport{
		coord.NewTransport(clients[0], ids[0], cid, members),
		coord.NewTransport(clients[1], ids[1], cid, members),
	}
	sid := make([]byte, 32)
	body := make([]byte, payload)
	res := &hopResult{payload: payload}
	for i := range 2 * n {
		from, to := i%2, 1-i%2
		msg := &ceremony.Message{SessionID: sid, Type: ceremony.TypeProtocol, To: party.ID(ids[to].Fingerprint()),
			Round: i + 1, Payload: body}
		t0 := time.Now()
		if err := tr[from].Send(ctx, msg); err != nil {
			return nil, err
		}
		t1 := time.Now()
		if _, err := tr[to].Receive(ctx); err != nil {
			return nil, err
		}
		t2 := time.Now()
		res.send = append(res.send, t1.Sub(t0))
		res.deliver = append(res.deliver, t2.Sub(t1))
		res.hop = append(res.hop, t2.Sub(t0))
	}
	lookup := func(fp string) (identity.Public, bool) {
		for _, m := range members {
			if m.Fingerprint() == fp {
				return m, true
			}
		}
		return identity.Public{}, false
	}
	for range n {
		h := envelope.Header{Ceremony: cid, SessionID: sid, Type: 1, Round: 1, From: ids[0].Fingerprint(), To: ids[1].Fingerprint()}
		t0 := time.Now()
		raw, err := envelope.Seal(ids[0], h, body, members[1:])
		if err != nil {
			return nil, err
		}
		t1 := time.Now()
		if _, _, err := envelope.Open(ids[1], raw, lookup); err != nil {
			return nil, err
		}
		t2 := time.Now()
		if _, err := clients[1].Messages(ctx, cid, uint64(2*n-1), 0); err != nil { // the last message, at once
			return nil, err
		}
		t3 := time.Now()
		if err := clients[1].Health(ctx); err != nil {
			return nil, err
		}
		t4 := time.Now()
		res.seal = append(res.seal, t1.Sub(t0))
		res.open = append(res.open, t2.Sub(t1))
		res.get = append(res.get, t3.Sub(t2))
		res.health = append(res.health, t4.Sub(t3))
	}
	f, err := os.CreateTemp(filepath.Join(b.dir, "relay"), "fsync-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 4096)
	for i := range n {
		t0 := time.Now()
		if _, err := f.WriteAt(page, int64(i)*4096); err != nil {
			return nil, err
		}
		if err := f.Sync(); err != nil {
			return nil, err
		}
		res.fsync = append(res.fsync, time.Since(t0))
	}
	return res, nil
}

func (h *hopResult) print(w io.Writer, t *traffic, signRelayP50, signMemP50 float64) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("")
	p("WHERE THE RELAY'S TIME GOES (per message; two identities of this program, each with its own HTTP")
	p("client, pass a %d-byte message back and forth through coord.Transport and the relay, %d times)", h.payload, len(h.hop))
	p("  %-50s %9s %9s %9s", "ms", "p50", "p95", "mean")
	row := func(name string, ds []time.Duration) stats {
		s := statsOf(ds)
		p("  %-50s %9.2f %9.2f %9.2f", name, s.p50, s.p95, s.mean)
		return s
	}
	hop := row("hop: Send → the other's Receive returns", h.hop)
	row("  Send (seal + signed POST, relay stores it)", h.send)
	row("  delivery (long-poll wakes, answer, open)", h.deliver)
	row("envelope.Seal, one recipient", h.seal)
	row("envelope.Open", h.open)
	row("signed GET answered at once (no wait, no write)", h.get)
	row("GET /healthz (unsigned)", h.health)
	fs := row("4 KiB write + fsync in the relay's data dir", h.fsync)
	if t != nil {
		msgs, bytes := t.total()
		var rounds []string
		for _, r := range t.rounds {
			rounds = append(rounds, fmt.Sprintf("r%d:%d×%dB", r, t.msgs[r], t.bytes[r]/max(t.msgs[r], 1)))
		}
		p("  a 2-party CMP sign sends %d messages (%d payload bytes) in %d rounds (%s);", msgs, bytes, len(t.rounds), strings.Join(rounds, ", "))
		p("  the parties wait on each other once per round, so the relay's share of a sign is about")
		p("  %d hops × %.1f ms ≈ %.0f ms, plus the approvals round trip; measured relay − memory p50: %+.0f ms.",
			len(t.rounds), hop.p50, float64(len(t.rounds))*hop.p50, signRelayP50-signMemP50)
		p("  bbolt commits every post with fsync (≈ %.1f ms here per fsync; a commit takes two).", fs.p50)
	}
}
