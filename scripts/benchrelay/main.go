// Command benchrelay prints paratro's benchmark table (scripts/bench.sh runs
// it): 2-of-3 ECDSA (CMP) sign and 2-of-3 and 3-of-5 key generation, each
// three ways in one run on one machine, alternating so that the machine's
// load falls on all three alike:
//
//   - relay: `paratro relay serve` and one `paratro party run` process per
//     holder on loopback, set up as scripts/e2e-lib.sh does (homes made with
//     `paratro init`, file keyrings, each trusting the others; the relay
//     bootstrapped with an owner who admits the holders as operators). The
//     initiator (ops, the relay's owner) is this program calling
//     coord.Initiate, the code `paratro wallet sign|create` runs, timed the
//     same way (elapsed_ms: request posted until every participant's
//     outcome arrived);
//   - in-memory: ceremony.Run for every party on its own goroutine in this
//     process over ceremony.NewMemoryNetwork (ceremonytest.RunAll), with the
//     TEST-ONLY fixture shares for sign;
//   - bare library: the threshold library's handlers wired directly, as
//     ceremony/bench_test.go does.
//
// It also times `paratro --help` and reads an idle party's memory from
// /proc. It never fails on a ratio: it prints each beside its target.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares"
)

type options struct {
	paratro    string
	signs      int
	presigs    int
	dkgs       int
	dkgs5      int
	cliSigns   int
	warmup     int
	hops       int
	helpRuns   int
	dir        string
	fixture    string
	target     float64
	cpuprof    string
	presigProf string
}

func main() {
	var o options
	flag.StringVar(&o.paratro, "paratro", "bin/paratro", "the paratro binary to run the relay and the parties with")
	flag.IntVar(&o.signs, "signs", 50, "2-of-3 signs on each side (relay, in-memory, bare library), alternating")
	flag.IntVar(&o.presigs, "presigs", 50, "one-round signs with a presignature over the relay (the pool is filled first: about a second each); 0 skips them")
	flag.IntVar(&o.dkgs, "dkgs", 3, "2-of-3 ECDSA key generations on each side, alternating (0: only the relay's wallet, not counted)")
	flag.IntVar(&o.dkgs5, "dkgs5", 2, "3-of-5 ECDSA key generations on each side, alternating (0: none; the relay side runs two more parties)")
	flag.IntVar(&o.cliSigns, "cli-signs", 3, "`paratro wallet sign` commands timed whole (process start, keyring unlock), spread over the sign rounds")
	flag.IntVar(&o.warmup, "warmup", 1, "untimed signs on each side before the timed ones")
	flag.IntVar(&o.hops, "hops", 50, "round trips of the per-message relay measurement (0: skip it)")
	flag.IntVar(&o.helpRuns, "help-runs", 20, "`paratro --help` runs timed (the median is reported)")
	flag.StringVar(&o.dir, "dir", "", "keep the homes, relay data and logs here (default: a temporary directory, removed)")
	flag.StringVar(&o.fixture, "fixture", "ceremony/ceremonytest/testdata/TEST-ONLY-ecdsa-2of3.json", "the TEST-ONLY 2-of-3 ECDSA fixture shares the in-memory and bare signs use")
	flag.Float64Var(&o.target, "target", 1.05, "the relay/in-memory ratio aimed at (p50), for sign and key generation")
	flag.StringVar(&o.presigProf, "presig-profile", "", "write CPU and trace profiles of the two signers' party processes, taken during the one-round signs, into this `dir` (keeper.cpu, other.cpu, keeper.trace, other.trace; read with go tool pprof / go tool trace)")
	flag.StringVar(&o.cpuprof, "cpuprofile", "", "write this process's CPU profile (the in-memory and bare sides, the initiator) to this file; profile the relay and the parties with perf record -g -p PID (their pids are in the log)")
	flag.Parse()
	if o.cpuprof != "" {
		f, err := os.Create(o.cpuprof)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchrelay:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if soakOpt.enabled {
		err = runSoak(ctx, o) // soak.go
	} else {
		err = run(ctx, o)
	}
	stop()
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "benchrelay:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchrelay: "+format+"\n", args...)
}

// bench is the relay side's setup.
type bench struct {
	o options
	// pprofAddr gives parties (by name) a PARATRO_PPROF listener when started.
	pprofAddr map[string]string
	dir       string
	env       []string
	pass      string
	policy    string
	relay     *proc
	procs     []*proc
	url       string
	ops       *home.Home
	client    *relay.Client
	// holders are the parties' names: ana, ben, vault, and for the 3-of-5
	// wallets dan and eve; parties are their identities, in that order.
	holders []string
	parties []identity.Public
}

func run(ctx context.Context, o options) error {
	if o.signs < 1 {
		return errors.New("-signs must be at least 1")
	}
	paratro, err := filepath.Abs(o.paratro)
	if err != nil {
		return err
	}
	o.paratro = paratro
	fixture, err := os.ReadFile(o.fixture)
	if err != nil {
		return fmt.Errorf("read the fixture (run from the module root or give -fixture): %w", err)
	}
	memShares, err := ceremonytest.ParseFixture(fixture)
	if err != nil {
		return err
	}

	b := &bench{o: o, holders: []string{"ana", "ben", "vault"}}
	if o.dkgs5 > 0 {
		b.holders = append(b.holders, "dan", "eve")
	}
	if b.dir = o.dir; b.dir == "" {
		if b.dir, err = os.MkdirTemp("", "benchrelay-"); err != nil {
			return err
		}
		defer os.RemoveAll(b.dir)
	} else if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return err
	}
	defer b.stopAll()
	if err := b.setup(ctx); err != nil {
		return err
	}

	res := &results{load: [2]string{loadavg()}}
	// idle figures first, with nothing else running
	if res.help, err = b.helpTimes(ctx, o.helpRuns); err != nil {
		return err
	}
	time.Sleep(time.Second) // the parties settle into their inbox long-poll
	res.idleRSS = b.partyRSS()

	// DKG first: the first relay key generation makes the wallet the relay
	// signs with.
	var wallet *home.Wallet
	for i := range max(o.dkgs, 1) {
		logf("keygen 2-of-3 %d/%d", i+1, max(o.dkgs, 1))
		r, w, err := b.relayKeygen(ctx, b.parties[:3], 2)
		if err != nil {
			return err
		}
		if wallet == nil {
			wallet = w
		}
		if o.dkgs == 0 {
			break // only the wallet was needed
		}
		res.dkg3.relay = append(res.dkg3.relay, r)
		m, err := memKeygen(ctx, 2, 3)
		if err != nil {
			return err
		}
		res.dkg3.mem = append(res.dkg3.mem, m)
		bare, err := bareKeygen(ctx, 2, 3)
		if err != nil {
			return err
		}
		res.dkg3.bare = append(res.dkg3.bare, bare)
		logf("  relay %s; in-memory %s; bare %s", r, m, bare)
	}
	if err := b.ops.SaveWallet(wallet); err != nil {
		return err
	}

	for i := range o.warmup {
		r, err := b.relaySign(ctx, wallet)
		if err != nil {
			return err
		}
		m, err := memSign(ctx, memShares)
		if err != nil {
			return err
		}
		bare, err := bareSign(memShares)
		if err != nil {
			return err
		}
		logf("warm-up %d/%d: relay %s, in-memory %s, bare %s (not counted)", i+1, o.warmup, ms(r.total), m, bare)
	}
	cliDone := 0
	for i := range o.signs {
		r, err := b.relaySign(ctx, wallet)
		if err != nil {
			return err
		}
		res.sign.relay = append(res.sign.relay, r)
		m, err := memSign(ctx, memShares)
		if err != nil {
			return err
		}
		res.sign.mem = append(res.sign.mem, m)
		bare, err := bareSign(memShares)
		if err != nil {
			return err
		}
		res.sign.bare = append(res.sign.bare, bare)
		logf("sign %2d/%d: relay %s, in-memory %s, bare %s", i+1, o.signs, r, m, bare)
		// spread the CLI signs over the rounds
		for want := (i + 1) * o.cliSigns / o.signs; cliDone < want; {
			c, err := b.cliSign(ctx, wallet)
			if err != nil {
				return err
			}
			res.cli = append(res.cli, c)
			cliDone++
			logf("  CLI wallet sign: wall %s, elapsed_ms %d", ms(c.wall), c.elapsedMS)
		}
	}
	// One-round signs with a presignature, over the same relay and parties.
	if o.presigs > 0 {
		if res.signPresig, err = b.presigSigns(ctx, wallet, o.presigs); err != nil {
			return err
		}
	}

	if o.hops > 0 {
		logf("per-message relay cost: %d round trips", o.hops)
		if res.traffic, err = signTraffic(ctx, memShares); err != nil {
			return err
		}
		msgs, bytes := res.traffic.total()
		if res.hop, err = b.hops(ctx, o.hops, bytes/max(msgs, 1)); err != nil {
			return err
		}
	}

	if o.dkgs5 > 0 {
		// the two more parties of the 3-of-5 wallets run only now
		var extra []*proc
		for _, n := range b.holders[3:] {
			p, err := b.startParty(n)
			if err != nil {
				return err
			}
			extra = append(extra, p)
		}
		time.Sleep(time.Second) // registered and reading their inbox
		for i := range o.dkgs5 {
			logf("keygen 3-of-5 %d/%d", i+1, o.dkgs5)
			r, _, err := b.relayKeygen(ctx, b.parties, 3)
			if err != nil {
				return err
			}
			res.dkg5.relay = append(res.dkg5.relay, r)
			m, err := memKeygen(ctx, 3, 5)
			if err != nil {
				return err
			}
			res.dkg5.mem = append(res.dkg5.mem, m)
			bare, err := bareKeygen(ctx, 3, 5)
			if err != nil {
				return err
			}
			res.dkg5.bare = append(res.dkg5.bare, bare)
			logf("  relay %s; in-memory %s; bare %s", r, m, bare)
		}
		for _, p := range extra {
			b.stop(p)
		}
	}
	time.Sleep(time.Second)
	res.busyRSS = b.partyRSS()
	res.load[1] = loadavg()
	res.print(os.Stdout, o)
	return nil
}

// ---- relay side setup ----

// proc is a child process: the relay or a party.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func (b *bench) start(name, logName string, args ...string) (*proc, error) {
	logPath := filepath.Join(b.dir, logName)
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(b.o.paratro, args...)
	cmd.Env = b.env
	if addr := b.pprofAddr[name]; addr != "" {
		cmd.Env = append(slices.Clone(b.env), relay.PprofEnv+"="+addr)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	b.procs = append(b.procs, p)
	return p, nil
}

// stopAll ends the processes this program started: parties first, then the
// relay.
func (b *bench) stopAll() {
	for i := len(b.procs) - 1; i >= 0; i-- {
		b.stop(b.procs[i])
	}
}

// stop ends p (SIGTERM, then SIGKILL after 5 s) and forgets it.
func (b *bench) stop(p *proc) {
	if p.cmd.Process.Signal(syscall.SIGTERM) != nil {
		_ = p.cmd.Process.Kill() // no SIGTERM (Windows)
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	b.procs = slices.DeleteFunc(b.procs, func(q *proc) bool { return q == p })
}

// paratroCmd runs one paratro command to completion and returns its stdout.
func (b *bench) paratroCmd(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, b.o.paratro, args...)
	cmd.Env = b.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("paratro %s: %w\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes(), nil
}

func (b *bench) setup(ctx context.Context) error {
	pass := make([]byte, 16)
	_, _ = rand.Read(pass)
	b.pass = "bench-" + hex.EncodeToString(pass) // throwaway homes, throwaway passphrase
	b.env = append(os.Environ(), "PARATRO_KEYRING=file", "PARATRO_KEYRING_PASSPHRASE="+b.pass)

	// 1. the relay, on a free loopback port
	addrFile := filepath.Join(b.dir, "relay.addr")
	rl, err := b.start("relay", "relay.log", "relay", "serve", "--listen", "127.0.0.1:0",
		"--data", filepath.Join(b.dir, "relay"), "--addr-file", addrFile)
	if err != nil {
		return err
	}
	b.relay = rl
	for i := 0; ; i++ {
		if a, err := os.ReadFile(addrFile); err == nil && len(bytes.TrimSpace(a)) > 0 {
			b.url = "http://" + string(bytes.TrimSpace(a))
			break
		}
		select {
		case <-rl.done:
			return fmt.Errorf("the relay stopped; see %s", rl.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if i > 100 {
			return fmt.Errorf("the relay did not start; see %s", rl.log)
		}
	}
	b.env = append(b.env, "PARATRO_RELAY="+b.url)
	logf("relay at %s (pid %d), homes and logs in %s", b.url, rl.cmd.Process.Pid, b.dir)

	// 2. the identities: the holders and the initiator (ops); each trusts
	// every other. Each home's commands run in turn, the homes in parallel.
	names := append(slices.Clone(b.holders), "ops")
	idFiles := map[string]string{}
	fps := map[string]string{}
	for _, n := range names {
		if _, err := b.paratroCmd(ctx, "init", "--name", n, "--home", b.home(n), "--output", "json"); err != nil {
			return err
		}
		out, err := b.paratroCmd(ctx, "identity", "show", "--home", b.home(n), "--output", "json")
		if err != nil {
			return err
		}
		var id struct {
			Fingerprint string `json:"fingerprint"`
		}
		if err := json.Unmarshal(out, &id); err != nil || id.Fingerprint == "" {
			return fmt.Errorf("identity show %s: %q", n, out)
		}
		idFiles[n] = filepath.Join(b.dir, n+".id.json")
		fps[n] = id.Fingerprint
		if err := os.WriteFile(idFiles[n], out, 0o600); err != nil {
			return err
		}
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			for _, other := range names {
				if n == other || errs[i] != nil {
					continue
				}
				_, errs[i] = b.paratroCmd(ctx, "identity", "add", idFiles[other], "--fingerprint", fps[other], "--home", b.home(n))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	// 3. ops registers and, as the relay host would, is made the relay's
	// owner (scripts/e2e-lib.sh makes ana the owner the same way).
	kr, err := shares.OpenFileKeyring(filepath.Join(b.home("ops"), "keyring.json"), []byte(b.pass))
	if err != nil {
		return err
	}
	if b.ops, err = home.Open(b.home("ops"), kr); err != nil {
		return err
	}
	if b.client, err = relay.NewClient(b.url, b.ops.ID, relay.ClientOptions{}); err != nil {
		return err
	}
	if err := b.client.Register(ctx); err != nil {
		return err
	}
	if _, err := b.paratroCmd(ctx, "relay", "bootstrap", "--data", filepath.Join(b.dir, "relay"),
		"--owner", idFiles["ops"], "--fingerprint", fps["ops"]); err != nil {
		return err
	}

	// 4. each holder's party, unattended, approving what ops asks. The
	// parties of the 3-of-5 wallet beyond the first three only register
	// now; their parties run during the 3-of-5 key generations.
	policy := filepath.Join(b.dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("rules:\n  - action: approve\n    kinds: [keygen, sign, refresh]\n    initiators: [ops]\n"+
		"  - action: approve\n    kinds: [presign]\n"), 0o600); err != nil {
		return err
	}
	b.policy = policy
	for _, n := range b.holders[:3] {
		if _, err := b.startParty(n); err != nil {
			return err
		}
	}
	for _, n := range b.holders[3:] {
		if _, err := b.paratroCmd(ctx, "operator", "register", "--home", b.home(n)); err != nil {
			return err
		}
	}

	// 5. ops admits the holders as operators (role enough to hold shares),
	// each once it has registered.
	for _, n := range b.holders {
		for i := 0; ; i++ {
			_, err := b.client.AddOperator(ctx, fps[n], relay.RoleOperator)
			if err == nil {
				break
			}
			if i > 200 {
				return b.tailLogs(fmt.Errorf("admit %s: %w", n, err))
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		p, err := b.ops.Resolve(n)
		if err != nil {
			return err
		}
		b.parties = append(b.parties, p)
	}
	return nil
}

// presignaturesLeft is holder name's presignatures left per wallet, as
// `share list` shows them.
func (b *bench) presignaturesLeft(ctx context.Context, name string) (map[string]int, error) {
	out, err := b.paratroCmd(ctx, "share", "list", "--home", b.home(name), "--output", "json")
	if err != nil {
		return nil, err
	}
	var rows []struct {
		WalletID          string `json:"wallet_id"`
		PresignaturesLeft *int   `json:"presignatures_left"`
	}
	if err := json.Unmarshal(out, &rows); err != nil {
		return nil, fmt.Errorf("share list: %w", err)
	}
	left := map[string]int{}
	for _, r := range rows {
		if r.PresignaturesLeft != nil {
			left[r.WalletID] = *r.PresignaturesLeft
		}
	}
	return left, nil
}

// profileParties fetches a CPU profile and an execution trace of secs
// seconds from each party's pprof listener (by label) into
// -presig-profile; the returned function waits for them.
func (b *bench) profileParties(addrs map[string]string, secs int) func() {
	if err := os.MkdirAll(b.o.presigProf, 0o700); err != nil {
		logf("presig-profile: %v", err)
		return func() {}
	}
	var wg sync.WaitGroup
	for label, addr := range addrs {
		for kind, path := range map[string]string{"cpu": "profile", "trace": "trace"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", addr, path, secs)
				resp, err := http.Get(url)
				if err != nil {
					logf("presig-profile %s: %v", url, err)
					return
				}
				defer resp.Body.Close()
				out := filepath.Join(b.o.presigProf, label+"."+kind)
				f, err := os.Create(out)
				if err != nil {
					logf("presig-profile: %v", err)
					return
				}
				defer f.Close()
				if _, err := io.Copy(f, resp.Body); err != nil {
					logf("presig-profile %s: %v", url, err)
				}
			}()
		}
	}
	time.Sleep(100 * time.Millisecond) // let the profiles start before the signs
	return func() { wg.Wait(); logf("presig-profile: profiles of %d s written to %s", secs, b.o.presigProf) }
}

// startParty starts holder n's `paratro party run`, with extra arguments.
func (b *bench) startParty(n string, extra ...string) (*proc, error) {
	args := append([]string{"party", "run", "--no-tui", "--policy", b.policy, "--home", b.home(n)}, extra...)
	p, err := b.start(n, n+".party.log", args...)
	if err == nil {
		logf("party %s: pid %d", n, p.cmd.Process.Pid)
	}
	return p, err
}

func (b *bench) home(name string) string { return filepath.Join(b.dir, name) }

// tailLogs adds the end of every party's log to err.
func (b *bench) tailLogs(err error) error {
	var sb strings.Builder
	for _, p := range b.procs {
		raw, _ := os.ReadFile(p.log)
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		fmt.Fprintf(&sb, "\n--- %s (%s), last lines:\n%s", p.name, p.log, strings.Join(lines[max(0, len(lines)-8):], "\n"))
	}
	return fmt.Errorf("%w%s", err, sb.String())
}

// ---- one ceremony each ----

// relayRun is one ceremony through the relay, as its initiator saw it.
type relayRun struct {
	total     time.Duration // coord.Report.Elapsed: request posted → every outcome arrived
	approvals time.Duration // request posted → start posted (approvals collected)
	running   time.Duration // start posted → every outcome arrived
	engine    time.Duration // longest ceremony.Run inside a participant (its outcome's elapsed_ms)
	cpu       time.Duration // CPU time of the relay, the parties and the initiator
	signers   []string
}

func (r relayRun) String() string {
	return fmt.Sprintf("%s (approvals %s, run %s, engine in parties %s, signers %s)",
		ms(r.total), ms(r.approvals), ms(r.running), ms(r.engine), strings.Join(r.signers, "+"))
}

// initiate runs req with coord.Initiate and splits its time at the start.
func (b *bench) initiate(ctx context.Context, req *coord.Request) (*coord.Report, relayRun, error) {
	var r relayRun
	t0 := time.Now()
	var startAt time.Time
	cpu0 := b.cpu()
	rep, err := coord.Initiate(ctx, b.client, b.ops.ID, req, func(st coord.Status) {
		if st.Phase != "approvals" && startAt.IsZero() {
			startAt = time.Now()
		}
	})
	if err != nil {
		return nil, r, b.tailLogs(fmt.Errorf("%s through the relay: %w", req.Kind, err))
	}
	r.cpu = b.cpu() - cpu0
	r.total = rep.Elapsed // Initiate's own clock starts as it is called, at t0
	r.approvals = startAt.Sub(t0)
	r.running = r.total - r.approvals
	for _, p := range rep.Signers {
		r.signers = append(r.signers, p.Name)
		r.engine = max(r.engine, time.Duration(rep.Outcomes[p.Fingerprint()].ElapsedMS)*time.Millisecond)
	}
	return rep, r, nil
}

func (b *bench) relayKeygen(ctx context.Context, parties []identity.Public, required int) (relayRun, *home.Wallet, error) {
	now := time.Now()
	req := &coord.Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeECDSA, WalletID: holder.NewWalletID(),
		WalletName: fmt.Sprintf("bench-%dof%d", required, len(parties)), Chain: "ethereum", Parties: parties, Required: required,
		Deadline: now.Add(3 * time.Minute), CreatedAt: now.UTC()}
	rep, r, err := b.initiate(ctx, req)
	if err != nil {
		return r, nil, err
	}
	res := rep.Result()
	w := &home.Wallet{ID: req.WalletID, Name: req.WalletName, Chain: req.Chain, Scheme: string(req.Scheme),
		Required: req.Required, Parties: req.Parties, Epoch: res.Epoch, PublicKey: res.PublicKey,
		ConfigDigest: res.ConfigDigest, Address: coord.AddressOf(req.Chain, req.Scheme, hexBytes(res.PublicKey)),
		CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	return r, w, nil
}

func (b *bench) relaySign(ctx context.Context, w *home.Wallet) (relayRun, error) {
	digest := randomDigest()
	now := time.Now()
	// A short deadline keeps the initiator under the relay's limit of open
	// ceremonies however many signs are asked for.
	req := &coord.Request{Kind: ceremony.KindSign, Scheme: ceremony.Scheme(w.Scheme), WalletID: w.ID, WalletName: w.Name,
		Chain: w.Chain, Parties: w.Parties, Required: w.Required, Epoch: w.Epoch, ConfigDigest: w.ConfigDigest,
		Digest: hex.EncodeToString(digest), Deadline: now.Add(30 * time.Second), CreatedAt: now.UTC(),
		NoPresignature: true} // the full protocol, even where the parties hold presignatures
	rep, r, err := b.initiate(ctx, req)
	if err != nil {
		return r, err
	}
	if err := ethereum.VerifyDigest(w.Address, digest, hexBytes(rep.Result().Signature)); err != nil {
		return r, fmt.Errorf("relay signature does not verify: %w", err)
	}
	return r, nil
}

// cliRun is one `paratro wallet sign --output json`.
type cliRun struct {
	wall      time.Duration
	elapsedMS int64
}

func (b *bench) cliSign(ctx context.Context, w *home.Wallet) (cliRun, error) {
	t0 := time.Now()
	out, err := b.paratroCmd(ctx, "wallet", "sign", w.ID, "--home", b.home("ops"), "--digest", hex.EncodeToString(randomDigest()),
		"--timeout", "30s", "--output", "json")
	wall := time.Since(t0)
	if err != nil {
		return cliRun{}, b.tailLogs(err)
	}
	var js struct {
		ElapsedMS int64 `json:"elapsed_ms"`
	}
	if err := json.Unmarshal(out, &js); err != nil {
		return cliRun{}, fmt.Errorf("wallet sign output: %w: %q", err, out)
	}
	return cliRun{wall: wall, elapsedMS: js.ElapsedMS}, nil
}

// memRun is one ceremony over the in-memory transport.
type memRun struct {
	total  time.Duration // ceremonytest.RunAll: every party's ceremony.Run started → all returned
	engine time.Duration // longest ceremony.Run (Result.Elapsed)
	cpu    time.Duration // CPU time of this process
}

func (m memRun) String() string { return ms(m.total) }

// signers of the in-memory and bare signs: two of the fixture's three.
var memSigners = []party.ID{"alice", "bob"}

func memRunAll(ctx context.Context, d *ceremony.Descriptor, sh map[party.ID]*ceremony.Share) (memRun, error) {
	cpu0 := selfCPU()
	t0 := time.Now()
	out, _ := ceremonytest.RunAll(ctx, d, sh)
	m := memRun{total: time.Since(t0), cpu: selfCPU() - cpu0}
	for id, o := range out {
		if o.Err != nil {
			return m, fmt.Errorf("memory %s: %s: %w", d.Kind, id, o.Err)
		}
		m.engine = max(m.engine, o.Result.Elapsed)
	}
	return m, nil
}

func memSign(ctx context.Context, sh map[party.ID]*ceremony.Share) (memRun, error) {
	return memRunAll(ctx, ceremonytest.Sign(sh, randomDigest(), memSigners...), sh)
}

func memKeygen(ctx context.Context, required, n int) (memRun, error) {
	return memRunAll(ctx, ceremonytest.Keygen(ceremony.SchemeECDSA, required, keygenParties(n)...), nil)
}

// keygenParties names the n parties of an in-memory or bare key generation.
func keygenParties(n int) []party.ID {
	ids := slices.Clone(ceremonytest.FixtureParties)
	for _, extra := range []party.ID{"dave", "erin", "frank", "grace"} {
		if len(ids) >= n {
			break
		}
		ids = append(ids, extra)
	}
	return ids[:n]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func hexBytes(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

func randomDigest() []byte {
	d := make([]byte, 32)
	_, _ = rand.Read(d)
	return d
}

// presigSigns measures n one-round signs with a presignature. The keeper
// of the signer set of the two lowest fingerprints (ana, ben and vault's)
// is restarted with --presign n --presign-with the other one, so that
// exactly that set's pool fills; once the keeper holds n, n signs naming
// those signers run back to back (the pool refills only after a second of
// idleness, so the refill does not compete with them). Afterwards the
// keeper runs without a pool again.
func (b *bench) presigSigns(ctx context.Context, w *home.Wallet, n int) ([]relayRun, error) {
	pair := slices.Clone(b.parties[:3])
	slices.SortFunc(pair, func(x, y identity.Public) int { return strings.Compare(x.Fingerprint(), y.Fingerprint()) })
	keeper, other := pair[0], pair[1]
	restartOne := func(name string, extra ...string) error {
		for _, p := range b.procs {
			if p.name == name {
				b.stop(p)
				break
			}
		}
		_, err := b.startParty(name, extra...)
		return err
	}
	restart := func(extra ...string) error { return restartOne(keeper.Name, extra...) }
	if b.o.presigProf != "" {
		b.pprofAddr = map[string]string{keeper.Name: "127.0.0.1:16061", other.Name: "127.0.0.1:16062"}
		if err := restartOne(other.Name); err != nil {
			return nil, err
		}
		defer func() { b.pprofAddr = nil; _ = restartOne(other.Name) }()
	}
	if err := restart("--presign", strconv.Itoa(n), "--presign-with", other.Name); err != nil {
		return nil, err
	}
	defer restart()
	logf("filling %s's presignature pool for %s+%s to %d", keeper.Name, keeper.Name, other.Name, n)
	t0 := time.Now()
	for last := -1; ; {
		left, err := b.presignaturesLeft(ctx, keeper.Name)
		if err != nil {
			return nil, err
		}
		have := left[w.ID]
		if have >= n {
			break
		}
		if have != last && have%10 == 0 {
			logf("  %d/%d presignatures after %s", have, n, time.Since(t0).Round(time.Second))
		}
		last = have
		if time.Since(t0) > time.Duration(n)*20*time.Second {
			return nil, b.tailLogs(fmt.Errorf("the pool holds %d of %d presignatures after %s", have, n, time.Since(t0).Round(time.Second)))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	logf("pool filled in %s; %d one-round signs", time.Since(t0).Round(time.Second), n)
	signers := []string{keeper.Fingerprint(), other.Fingerprint()}
	if b.o.presigProf != "" {
		// Long enough for the n signs at ~30 ms each, and a margin.
		secs := max(2, n*40/1000+1)
		done := b.profileParties(map[string]string{"keeper": b.pprofAddr[keeper.Name], "other": b.pprofAddr[other.Name]}, secs)
		defer done()
	}
	var runs []relayRun
	for i := range n {
		digest := randomDigest()
		now := time.Now()
		req := &coord.Request{Kind: ceremony.KindSign, Scheme: ceremony.Scheme(w.Scheme), WalletID: w.ID, WalletName: w.Name,
			Chain: w.Chain, Parties: w.Parties, Signers: signers, Required: w.Required, Epoch: w.Epoch, ConfigDigest: w.ConfigDigest,
			Digest: hex.EncodeToString(digest), Deadline: now.Add(30 * time.Second), CreatedAt: now.UTC()}
		rep, r, err := b.initiate(ctx, req)
		if err != nil {
			return nil, err
		}
		if rep.Result().Presignature == "" {
			return nil, fmt.Errorf("one-round sign %d ran the full protocol: no presignature was offered", i+1)
		}
		if err := ethereum.VerifyDigest(w.Address, digest, hexBytes(rep.Result().Signature)); err != nil {
			return nil, fmt.Errorf("one-round signature does not verify: %w", err)
		}
		runs = append(runs, r)
		if (i+1)%10 == 0 || i+1 == n || r.total > 100*time.Millisecond {
			logf("one-round sign %2d/%d: %s", i+1, n, r)
		}
	}
	return runs, nil
}
