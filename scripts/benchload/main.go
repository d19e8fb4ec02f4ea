// Command benchload measures a relay under load: N ceremonies at once,
// driven by fake parties in this process that speak the real relay
// protocol (signed requests, envelopes sealed with internal/envelope,
// inbox and message long-polls) through internal/relay's client, against
// a real `paratro relay serve` process on loopback. scripts/bench.sh runs
// it ("load"); it never fails on a target.
//
// For each N it starts a fresh relay, makes its owner with `paratro relay
// bootstrap` and admits a pool of operator identities made in this
// process (3 per ceremony, at least -pool). N slots then run ceremonies
// back to back for -duration; a slot takes the next of its own member
// triples for each ceremony, so that no identity comes near the relay's
// per-identity rate limit or its limit of open ceremonies. One ceremony is
// shaped like a 2-of-3 CMP sign (message sizes from SECURITY.md appendix
// A):
//
//	the initiator creates it; the two others learn of it from their inbox
//	each member posts an approval (control, ~400 B) and reads the others'
//	round 1: each member sends a p2p envelope of  1,938 B to each other member
//	round 2: each member sends a p2p envelope of 11,534 B to each other member
//	round 3: each member sends a p2p envelope of  2,040 B to each other member
//	round 4: each member broadcasts an envelope of   210 B (presign-online size)
//	each member posts an outcome (control, ~300 B) and reads the others'
//
// Every member waits for the other members' messages of a step before it
// sends its next, as the real protocol does: 27 posts and 36 deliveries
// per ceremony. Envelopes are sealed for real (HPKE, Ed25519) but not
// opened: the relay checks their signatures, the recipients here only
// count them.
//
// Figures, over the window after -warmup: posts/s (messages stored),
// deliveries/s (a message read by one of its recipients), delivery latency
// (the sender calls Post -> a recipient's long-poll returns it: signing,
// the durable write, the wake-up and the response), Post round trip, the
// relay's CPU (cores used: user+system time over wall time) and memory
// (the largest VmRSS seen and VmHWM from /proc/<pid>/status). The load
// generator runs on the same machine: its own CPU is printed too, so the
// relay's share of the cores is visible.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

type options struct {
	paratro  string
	ns       []int
	duration time.Duration
	warmup   time.Duration
	pool     int
	dir      string
	pprof    string
	profile  string
}

func main() {
	var o options
	var ns string
	flag.StringVar(&o.paratro, "paratro", "bin/paratro", "the paratro binary to run the relay with")
	flag.StringVar(&ns, "n", "10,100,1000", "numbers of concurrent ceremonies, comma-separated: one fresh relay and one row each")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "how long each N runs, warm-up included")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "time at the start of each run left out of the figures")
	flag.IntVar(&o.pool, "pool", 300, "admit at least this many member identities (3 per ceremony otherwise)")
	flag.StringVar(&o.dir, "dir", "", "keep the relays' data and logs here (default: a temporary directory, removed)")
	flag.StringVar(&o.pprof, "pprof", "", "run the relay with PARATRO_PPROF=`ADDR` (a loopback host:port)")
	flag.StringVar(&o.profile, "cpuprofile", "", "with -pprof: save the relay's CPU profile of each run, taken after the warm-up, as `PREFIX`-N.pprof")
	flag.Parse()
	for _, f := range strings.Split(ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "benchload: -n: %q is not a positive number\n", f)
			os.Exit(2)
		}
		o.ns = append(o.ns, n)
	}
	if o.warmup >= o.duration {
		fmt.Fprintln(os.Stderr, "benchload: -warmup must be shorter than -duration")
		os.Exit(2)
	}
	if o.profile != "" && o.pprof == "" {
		fmt.Fprintln(os.Stderr, "benchload: -cpuprofile needs -pprof")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchload: "+format+"\n", args...)
}

func run(ctx context.Context, o options) error {
	paratro, err := filepath.Abs(o.paratro)
	if err != nil {
		return err
	}
	o.paratro = paratro
	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "benchload-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		// Every member keeps a long-poll open and posts beside it: about
		// two connections each, on both ends of loopback.
		if lim.Cur < lim.Max {
			lim.Cur = lim.Max
			_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) // the relay inherits it
		}
		if need := uint64(slices.Max(o.ns))*3*2 + 256; lim.Cur < need {
			logf("warning: open files limited to %d, about %d wanted: raise ulimit -n", lim.Cur, need)
		}
	}
	var rows []result
	for _, n := range o.ns {
		r, err := runN(ctx, o, filepath.Join(dir, fmt.Sprintf("n%d", n)), n)
		if err != nil {
			return fmt.Errorf("at N=%d: %w", n, err)
		}
		rows = append(rows, r)
	}
	printTable(os.Stdout, o, rows)
	return nil
}

// ---- the relay process ----

type relayProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
	url  string
	data string
}

func startRelay(ctx context.Context, o options, dir string) (*relayProc, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &relayProc{done: make(chan struct{}), log: filepath.Join(dir, "relay.log"), data: filepath.Join(dir, "relay")}
	f, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	addrFile := filepath.Join(dir, "relay.addr")
	p.cmd = exec.Command(o.paratro, "relay", "serve", "--listen", "127.0.0.1:0", "--data", p.data, "--addr-file", addrFile)
	p.cmd.Env = os.Environ()
	if o.pprof != "" {
		p.cmd.Env = append(p.cmd.Env, "PARATRO_PPROF="+o.pprof)
	}
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.done) }()
	for i := 0; ; i++ {
		if a, err := os.ReadFile(addrFile); err == nil && len(bytes.TrimSpace(a)) > 0 {
			p.url = "http://" + string(bytes.TrimSpace(a))
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("the relay stopped; see %s", p.log)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if i > 200 {
			p.stop()
			return nil, fmt.Errorf("the relay did not start; see %s", p.log)
		}
	}
}

// stop ends the relay: SIGTERM, then SIGKILL after 10 s.
func (p *relayProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// procStatus returns VmRSS and VmHWM of pid, in bytes.
func procStatus(pid int) (rss, hwm int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// procCPU returns the user+system CPU time of pid.
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// the fields after the command name, which is in parentheses
	i := bytes.LastIndexByte(raw, ')')
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ---- setup: owner, operators ----

// member is one fake party: an identity admitted as operator, its client
// and its inbox cursor. A member takes part in one ceremony at a time.
type member struct {
	id      *identity.Identity
	c       *relay.Client
	inboxAt uint64
}

// setup bootstraps the relay's owner and admits count operators, returned
// with clients on the shared transport.
func setup(ctx context.Context, o options, rp *relayProc, dir string, hc *http.Client, count int) ([]*member, error) {
	owner, err := identity.New("owner")
	if err != nil {
		return nil, err
	}
	ownerFile := filepath.Join(dir, "owner.id.json")
	raw, err := json.Marshal(owner.Public)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(ownerFile, raw, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, o.paratro, "relay", "bootstrap", "--data", rp.data, "--owner", ownerFile, "--fingerprint", owner.Fingerprint())
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("paratro relay bootstrap: %w\n%s", err, errOut.String())
	}
	oc, err := relay.NewClient(rp.url, owner, relay.ClientOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	if _, err := oc.Whoami(ctx); err != nil {
		return nil, fmt.Errorf("the owner is not admitted: %w", err)
	}
	// The relay lets one identity make about 100 requests a second: a few
	// more owners share the admissions.
	admins := []*relay.Client{oc}
	for i := range 15 {
		id, err := identity.New(fmt.Sprintf("owner%d", i+1))
		if err != nil {
			return nil, err
		}
		c, err := relay.NewClient(rp.url, id, relay.ClientOptions{HTTPClient: hc})
		if err != nil {
			return nil, err
		}
		if err := c.Register(ctx); err != nil {
			return nil, err
		}
		if _, err := oc.AddOperator(ctx, id.Fingerprint(), relay.RoleOwner); err != nil {
			return nil, err
		}
		admins = append(admins, c)
	}
	ms := make([]*member, count)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(admins))
	for w := range admins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= count {
					return
				}
				m, err := newMember(ctx, rp.url, hc, admins[w], i)
				if err != nil {
					errs <- err
					return
				}
				ms[i] = m
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return ms, nil
}

func newMember(ctx context.Context, url string, hc *http.Client, admin *relay.Client, i int) (*member, error) {
	id, err := identity.New(fmt.Sprintf("p%05d", i))
	if err != nil {
		return nil, err
	}
	c, err := relay.NewClient(url, id, relay.ClientOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	if err := c.Register(ctx); err != nil {
		return nil, err
	}
	if _, err := admin.AddOperator(ctx, id.Fingerprint(), relay.RoleOperator); err != nil {
		return nil, err
	}
	return &member{id: id, c: c}, nil
}

// ---- the load ----

// step is one step of a ceremony: what each member sends.
type step struct {
	name    string
	control bool // a control message, seen by every member
	p2p     bool // one envelope to each other member; else one broadcast
	size    int  // payload bytes
}

// steps is a 2-of-3 CMP sign as the relay sees it (SECURITY.md appendix A).
var steps = []step{
	{name: "approval", control: true, size: 400},
	{name: "round 1", p2p: true, size: 1938},
	{name: "round 2", p2p: true, size: 11534},
	{name: "round 3", p2p: true, size: 2040},
	{name: "round 4", size: 210},
	{name: "outcome", control: true, size: 300},
}

// postsPerCeremony and deliveriesPerCeremony follow from steps, for 3 members.
func perCeremony() (posts, deliveries int) {
	for _, s := range steps {
		switch {
		case s.control || !s.p2p:
			posts, deliveries = posts+3, deliveries+6
		default:
			posts, deliveries = posts+6, deliveries+6
		}
	}
	return posts, deliveries
}

// sent is what a sender recorded about a message, found by its recipients
// through the message's last bytes (an envelope's signature, a control
// message's nonce).
type sent struct {
	step int
	at   time.Time
}

// cer is one ceremony in progress.
type cer struct {
	id      string
	session []byte
	members []*member
	pubs    []identity.Public
	sent    sync.Map // string(tail of data) -> sent
}

// stats gathers the figures of one run. Samples are kept only inside the
// window [from, to).
type stats struct {
	from, to time.Time

	mu         sync.Mutex
	deliver    []time.Duration
	post       []time.Duration
	posts      int
	deliveries int
	ceremonies int
	errors     int
	firstErr   error
}

func (s *stats) in(t time.Time) bool { return !t.Before(s.from) && t.Before(s.to) }

func (s *stats) posted(t0 time.Time, rtt time.Duration) {
	if !s.in(t0) {
		return
	}
	s.mu.Lock()
	s.posts++
	s.post = append(s.post, rtt)
	s.mu.Unlock()
}

func (s *stats) delivered(t0, t time.Time) {
	if !s.in(t) {
		return
	}
	s.mu.Lock()
	s.deliveries++
	s.deliver = append(s.deliver, t.Sub(t0))
	s.mu.Unlock()
}

func (s *stats) done(t time.Time) {
	if !s.in(t) {
		return
	}
	s.mu.Lock()
	s.ceremonies++
	s.mu.Unlock()
}

// fail records an error and returns how many there were.
func (s *stats) fail(err error) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors++
	if s.firstErr == nil {
		s.firstErr = err
	}
	return s.errors
}

type result struct {
	n, pool        int
	window         time.Duration
	posts, deliver int
	ceremonies     int
	errors         int
	deliverQ       [3]time.Duration // p50, p99, max
	postQ          [3]time.Duration
	relayCores     float64
	genCores       float64
	rssMax, hwm    int64
	setup          time.Duration
	refused        map[string]int // relay log: refusals by reason
}

func runN(ctx context.Context, o options, dir string, n int) (result, error) {
	res := result{n: n, pool: max(3*n, o.pool)}
	res.pool -= res.pool % 3
	rp, err := startRelay(ctx, o, dir)
	if err != nil {
		return res, err
	}
	defer rp.stop()
	pid := rp.cmd.Process.Pid
	logf("N=%d: relay at %s (pid %d), data and log in %s", n, rp.url, pid, dir)

	// One transport for every fake party, as many parties on one machine
	// would not have: it must keep a connection per open long-poll.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = 4*res.pool + 64
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	t0 := time.Now()
	ms, err := setup(ctx, o, rp, dir, hc, res.pool)
	if err != nil {
		return res, fmt.Errorf("setup: %w (relay log: %s)", err, rp.log)
	}
	res.setup = time.Since(t0)
	logf("N=%d: %d operators admitted in %s; running %s", n, len(ms), res.setup.Round(time.Millisecond), o.duration)

	start := time.Now()
	st := &stats{from: start.Add(o.warmup), to: start.Add(o.duration)}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// memory and CPU of the relay
	var rssMax atomic.Int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _ := procStatus(pid); rss > rssMax.Load() {
				rssMax.Store(rss)
			}
			select {
			case <-rctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var relayCPU, genCPU [2]time.Duration
	var profErr error
	profDone := make(chan struct{})
	go func() {
		defer close(profDone)
		select {
		case <-time.After(time.Until(st.from)):
		case <-rctx.Done():
			return
		}
		relayCPU[0], genCPU[0] = procCPU(pid), selfCPU()
		if o.profile != "" {
			secs := int(st.to.Sub(st.from).Seconds())
			profErr = fetchProfile(rctx, "http://"+o.pprof+"/debug/pprof/profile?seconds="+strconv.Itoa(secs),
				fmt.Sprintf("%s-%d.pprof", o.profile, n))
		}
		select {
		case <-time.After(time.Until(st.to)):
		case <-rctx.Done():
			return
		}
		relayCPU[1], genCPU[1] = procCPU(pid), selfCPU()
	}()

	var wg sync.WaitGroup
	for slot := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// the slot's own triples: slot, slot+n, slot+2n, ...
			var triples [][]*member
			for i := slot * 3; i+3 <= len(ms); i += 3 * n {
				triples = append(triples, ms[i:i+3])
			}
			for k := 0; time.Now().Before(st.to) && rctx.Err() == nil; k++ {
				if err := ceremony(rctx, st, triples[k%len(triples)], k%3); err != nil {
					if rctx.Err() != nil {
						return
					}
					if st.fail(err) > n { // not a few flukes: stop
						cancel()
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	<-sampled
	<-profDone
	if profErr != nil {
		logf("N=%d: CPU profile: %v", n, profErr)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.rssMax = rssMax.Load()
	_, res.hwm = procStatus(pid)
	res.window = st.to.Sub(st.from)
	res.posts, res.deliver, res.ceremonies, res.errors = st.posts, st.deliveries, st.ceremonies, st.errors
	res.deliverQ, res.postQ = quantiles(st.deliver), quantiles(st.post)
	res.relayCores = (relayCPU[1] - relayCPU[0]).Seconds() / res.window.Seconds()
	res.genCores = (genCPU[1] - genCPU[0]).Seconds() / res.window.Seconds()
	rp.stop()
	res.refused = refusals(rp.log)
	logf("N=%d: %d ceremonies, %d posts, %d deliveries in %s; %d errors", n, res.ceremonies, res.posts, res.deliver,
		res.window.Round(time.Millisecond), res.errors)
	if st.firstErr != nil {
		logf("N=%d: first error: %v", n, st.firstErr)
	}
	return res, nil
}

func fetchProfile(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	logf("relay CPU profile saved in %s", file)
	return f.Close()
}

// refusals counts the relay's "request refused" log lines by reason
// (rate_limited would mean the fake parties were throttled).
func refusals(logFile string) map[string]int {
	out := map[string]int{}
	f, err := os.Open(logFile)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "request refused") {
			continue
		}
		_, r, _ := strings.Cut(line, "reason=")
		r, _, _ = strings.Cut(r, " ")
		out[r]++
	}
	return out
}

// ceremony runs one ceremony of the three members; the member at index
// initiator creates it.
func ceremony(ctx context.Context, st *stats, ms []*member, initiator int) error {
	c := &cer{id: randomHex(32), session: randomBytes(32), members: ms}
	for _, m := range ms {
		c.pubs = append(c.pubs, m.id.Public)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(ms))
	for i, m := range ms {
		go func() {
			err := c.run(ctx, st, m, i == initiator)
			if err != nil {
				cancel() // the others would wait for ever
			}
			errs <- err
		}()
	}
	var first error
	for range ms {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first == nil {
		st.done(time.Now())
	}
	return first
}

// run is one member's part.
func (c *cer) run(ctx context.Context, st *stats, m *member, initiator bool) error {
	me := m.id.Fingerprint()
	if initiator {
		req, _ := json.Marshal(map[string]any{"type": "request", "ceremony": c.id, "signer": me,
			"body": map[string]any{"kind": "sign", "digest": randomHex(32)}, "sig": randomHex(64)})
		// A deadline near enough that a slot's ceremonies never reach the
		// relay's limit of open ones per initiator.
		cc := relay.CreateCeremony{ID: c.id, Members: c.pubs, Request: req, Deadline: time.Now().Add(time.Minute)}
		if err := m.c.CreateCeremony(ctx, cc); err != nil {
			return fmt.Errorf("create ceremony: %w", err)
		}
	} else {
		if err := m.awaitInbox(ctx, c.id); err != nil {
			return err
		}
	}
	var after uint64
	got := map[[2]string]int{} // (step, sender) -> messages read
	for i, s := range steps {
		if err := c.send(ctx, st, m, i, s); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		// wait for the others' messages of this step to me
		for {
			n := 0
			for _, p := range c.pubs {
				if p.Fingerprint() != me && got[[2]string{strconv.Itoa(i), p.Fingerprint()}] > 0 {
					n++
				}
			}
			if n == len(c.pubs)-1 {
				break
			}
			msgs, err := m.c.Messages(ctx, c.id, after, 30*time.Second)
			if err != nil {
				return fmt.Errorf("%s: read: %w", s.name, err)
			}
			now := time.Now()
			for _, msg := range msgs {
				after = max(after, msg.Seq)
				if msg.From == me {
					continue
				}
				v, ok := c.sent.Load(tail(msg.Data))
				if !ok {
					return fmt.Errorf("%s: a message of seq %d that nobody here sent", s.name, msg.Seq)
				}
				sm := v.(sent)
				got[[2]string{strconv.Itoa(sm.step), msg.From}]++
				st.delivered(sm.at, now)
			}
		}
	}
	return nil
}

// send posts member m's messages of step i.
func (c *cer) send(ctx context.Context, st *stats, m *member, i int, s step) error {
	me := m.id.Fingerprint()
	post := func(kind string, data []byte) error {
		t0 := time.Now()
		c.sent.Store(tail(data), sent{step: i, at: t0})
		if _, err := m.c.Post(ctx, c.id, kind, data); err != nil {
			return err
		}
		st.posted(t0, time.Since(t0))
		return nil
	}
	if s.control {
		// shaped like a coord statement; the nonce at the end makes it unique
		body, _ := json.Marshal(map[string]any{"approve": true, "request": randomHex(32), "pad": randomHex(max(s.size-300, 8) / 2)})
		data, _ := json.Marshal(map[string]any{"type": "bench-" + s.name, "ceremony": c.id, "signer": me, "body": json.RawMessage(body),
			"sig": randomHex(64)})
		return post(relay.KindControl, data)
	}
	h := envelope.Header{Ceremony: c.id, SessionID: c.session, Type: 1, Round: i, From: me}
	var others []identity.Public
	for _, p := range c.pubs {
		if p.Fingerprint() != me {
			others = append(others, p)
		}
	}
	if !s.p2p {
		data, err := envelope.Seal(m.id, h, randomBytes(s.size), others)
		if err != nil {
			return err
		}
		return post(relay.KindEnvelope, data)
	}
	// p2p messages go out together, as the engine's sender does
	errs := make(chan error, len(others))
	for _, p := range others {
		go func() {
			h := h
			h.To = p.Fingerprint()
			data, err := envelope.Seal(m.id, h, randomBytes(s.size), []identity.Public{p})
			if err == nil {
				err = post(relay.KindEnvelope, data)
			}
			errs <- err
		}()
	}
	var first error
	for range others {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// awaitInbox long-polls m's inbox until ceremony id is announced.
func (m *member) awaitInbox(ctx context.Context, id string) error {
	for {
		items, err := m.c.Inbox(ctx, m.inboxAt, 30*time.Second)
		if err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
		for _, it := range items {
			m.inboxAt = max(m.inboxAt, it.Seq)
			if it.CeremonyID == id {
				return nil
			}
		}
	}
}

// tail is what identifies a message among those sent here: the last 32
// bytes of an envelope are its signature's, a control message ends in its
// random "sig".
func tail(data []byte) string { return string(data[max(len(data)-32, 0):]) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// ---- figures ----

func quantiles(d []time.Duration) [3]time.Duration {
	if len(d) == 0 {
		return [3]time.Duration{}
	}
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(int(p*float64(len(d))), len(d)-1)] }
	return [3]time.Duration{q(0.50), q(0.99), d[len(d)-1]}
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }

func mb(b int64) string { return strconv.FormatInt(b>>20, 10) }

func printTable(w io.Writer, o options, rows []result) {
	posts, deliveries := perCeremony()
	fmt.Fprintf(w, "\nRELAY LOAD (3-member ceremonies shaped like a CMP sign: %d posts, %d deliveries each; %s per N, first %s left out; relay and load generator on the same %d-core machine)\n",
		posts, deliveries, o.duration, o.warmup, runtime.NumCPU())
	fmt.Fprintf(w, "%6s %7s %9s %9s %9s %9s %9s %9s %9s %6s %6s %7s %7s %6s\n",
		"N", "CER/S", "POSTS/S", "DELIV/S", "DEL p50", "DEL p99", "DEL max", "POST p50", "POST p99", "RELAY", "GEN", "RSS MB", "HWM MB", "ERRORS")
	for _, r := range rows {
		secs := r.window.Seconds()
		fmt.Fprintf(w, "%6d %7.1f %9.0f %9.0f %9s %9s %9s %9s %9s %6.2f %6.2f %7s %7s %6d\n",
			r.n, float64(r.ceremonies)/secs, float64(r.posts)/secs, float64(r.deliver)/secs,
			ms(r.deliverQ[0]), ms(r.deliverQ[1]), ms(r.deliverQ[2]), ms(r.postQ[0]), ms(r.postQ[1]),
			r.relayCores, r.genCores, mb(r.rssMax), mb(r.hwm), r.errors)
	}
	fmt.Fprintln(w, "DEL: a message's delivery, from its sender calling Post to a recipient's long-poll returning it (ms); POST: Post round trip (ms);")
	fmt.Fprintln(w, "RELAY, GEN: CPU cores used by the relay and by the load generator; RSS MB: the relay's largest VmRSS seen; HWM MB: its VmHWM.")
	for _, r := range rows {
		if len(r.refused) > 0 {
			fmt.Fprintf(w, "N=%d: the relay refused requests: %v\n", r.n, r.refused)
		}
	}
	fmt.Fprintln(w, "target: N=1000, >= 5000 messages/s on 2 cores, p99 delivery <= 20 ms")
}
