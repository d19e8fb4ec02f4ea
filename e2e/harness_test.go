//go:build unix

package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares"
)

// backupDelay is the relay's --backup-delay: short, so that a backup
// export is released within the test.
const backupDelay = 3 * time.Second

// The holders, in the order they are started.
var holders = []string{"ana", "ben", "vault"}

var (
	bin     string // the paratro binary under test
	workDir string // homes, relay data, logs

	envOnce sync.Once
	theEnv  *env
	envErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // every test skips itself
	}
	dir, err := os.MkdirTemp("", "paratro-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	workDir = dir
	bin = os.Getenv("PARATRO_E2E_BIN")
	if bin == "" {
		bin = filepath.Join(dir, "paratro")
		start := time.Now()
		out, err := exec.Command("go", "build", "-o", bin, "github.com/paratro/paratro/cmd/paratro").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/paratro: %v\n%s", err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "e2e: built paratro in %s\n", time.Since(start).Round(100*time.Millisecond))
	}
	code := m.Run()
	if n := otpWaits.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "e2e: waited %d times for a TOTP time step, %s in all\n", n, time.Duration(otpWaited.Load()).Round(time.Second))
	}
	if theEnv != nil {
		theEnv.stop()
	}
	if code != 0 || os.Getenv("PARATRO_E2E_KEEP") != "" {
		fmt.Fprintf(os.Stderr, "e2e: homes and logs kept in %s\n", dir)
	} else {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// env is the shared world: a relay, three holders running their parties,
// an outsider (eve) and the wallet the holders created.
type env struct {
	dir     string
	pass    string // every home's keyring passphrase (throwaway)
	relay   *relayProc
	parties map[string]*partyProc
	eve     string // eve's home: an identity no ceremony includes
	wallet  createJSON
	setup   time.Duration

	totpSecret string // ben's
	enrolled   bool   // ben confirmed his TOTP enrolment
	lastStep   int64  // the time step of ben's last code

	// otherTOTP are the TOTP enrolments of other homes (EnrolTOTP), by home.
	otherTOTP map[string]*totp

	// transcript is every command's result since the world was made: the
	// secret-hygiene test searches all of it (the whole lifecycle).
	transcriptMu sync.Mutex
	transcript   []result

	// tampered are the ceremonies whose stored envelopes a fault test
	// changed on purpose in the relay's database (TestTamperedEnvelope):
	// the secret-hygiene scan of the store expects them not to verify.
	tampered map[string]bool
}

// totp is one operator's TOTP secret and the time step of its last code.
type totp struct {
	secret   string
	lastStep int64
}

// setup returns the shared world, making it on first use, and makes sure
// every process is up (a failed test may have left one killed or stopped).
func setup(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: real processes and CMP ceremonies (a minute and more); skipped under -short")
	}
	first := false
	envOnce.Do(func() {
		first = true
		theEnv, envErr = newEnv(workDir)
	})
	if envErr != nil {
		t.Fatalf("e2e setup: %v", envErr)
	}
	if first {
		t.Logf("setup (relay, 3 parties, eve, 2-of-3 ECDSA wallet %s at %s): %s", theEnv.wallet.ID, theEnv.wallet.Address, theEnv.setup.Round(10*time.Millisecond))
	}
	theEnv.healthy(t)
	return theEnv
}

func newEnv(dir string) (*env, error) {
	started := time.Now()
	e := &env{dir: dir, pass: "e2e-" + rand.Text(), parties: map[string]*partyProc{}, eve: filepath.Join(dir, "eve")}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	e.relay = &relayProc{env: e, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		data: filepath.Join(dir, "relay"), logPath: filepath.Join(dir, "relay.log")}
	if err := e.relay.start(); err != nil {
		return nil, err
	}
	// Identities, and each holder trusts the others (eve is trusted by nobody).
	for _, n := range append(holders, "eve") {
		home := filepath.Join(dir, n)
		if r := e.cmd(home, "init", "--name", n); r.code != 0 {
			return nil, fmt.Errorf("init %s: %s", n, r)
		}
		r := e.cmd(home, "identity", "show", "--output", "json")
		if r.code != 0 {
			return nil, fmt.Errorf("identity show %s: %s", n, r)
		}
		if err := os.WriteFile(filepath.Join(dir, n+".id.json"), []byte(r.stdout), 0o600); err != nil {
			return nil, err
		}
		if n == "eve" {
			continue
		}
		var pub struct{ Fingerprint string }
		if err := json.Unmarshal([]byte(r.stdout), &pub); err != nil {
			return nil, fmt.Errorf("identity show %s: %w", n, err)
		}
		e.parties[n] = &partyProc{env: e, name: n, home: home, fp: pub.Fingerprint,
			logPath: filepath.Join(dir, n+".party.log"), notify: make(chan struct{})}
	}
	for _, n := range holders {
		for _, o := range holders {
			if n == o {
				continue
			}
			if r := e.cmd(e.parties[n].home, "identity", "add", filepath.Join(dir, o+".id.json"), "--fingerprint", e.parties[o].fp); r.code != 0 {
				return nil, fmt.Errorf("%s trusts %s: %s", n, o, r)
			}
		}
	}
	// Presign requests come from the keeper of a signer set's pool: any holder.
	policy := "rules:\n  - action: approve\n    kinds: [keygen, sign, refresh]\n    initiators: [ben]\n" +
		"  - action: approve\n    kinds: [presign]\n    initiators: [ana, ben, vault]\n"
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o600); err != nil {
		return nil, err
	}
	for _, n := range holders {
		if err := e.parties[n].start(); err != nil {
			return nil, err
		}
	}
	// A ceremony may only include identities the relay knows.
	for _, n := range holders {
		if _, err := e.relay.waitLog(20*time.Second, func(l map[string]any) bool {
			return l["msg"] == "identity registered" && l["name"] == n
		}); err != nil {
			return nil, fmt.Errorf("party %s did not register with the relay: %w\n%s", n, err, e.parties[n].logTail())
		}
	}
	// The relay host makes ana the owner; she admits ben (admin) and vault.
	if r := e.cmd("", "relay", "bootstrap", "--data", e.relay.data, "--owner", filepath.Join(dir, "ana.id.json"),
		"--fingerprint", e.parties["ana"].fp); r.code != 0 {
		return nil, fmt.Errorf("relay bootstrap: %s", r)
	}
	for _, op := range [][2]string{{"ben", "admin"}, {"vault", "operator"}} {
		if r := e.cmd(e.parties["ana"].home, "operator", "add", op[0], "--role", op[1]); r.code != 0 {
			return nil, fmt.Errorf("operator add %s: %s", op[0], r)
		}
	}
	r := e.cmd(e.parties["ben"].home, "wallet", "create", "--name", "ops", "--chain", "ethereum", "--threshold", "2-of-3",
		"--parties", "ana,ben,vault", "--timeout", "2m", "--output", "json")
	if r.code != 0 {
		return nil, fmt.Errorf("wallet create: %s", r)
	}
	if err := json.Unmarshal([]byte(r.stdout), &e.wallet); err != nil || e.wallet.ID == "" || e.wallet.Address == "" {
		return nil, fmt.Errorf("wallet create printed %q: %v", r.stdout, err)
	}
	// ben enrols TOTP: rotate-keys needs a code.
	r = e.cmd(e.parties["ben"].home, "mfa", "enroll", "--output", "json")
	var en struct{ Secret string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &en) != nil || en.Secret == "" {
		return nil, fmt.Errorf("mfa enroll: %s", r)
	}
	e.totpSecret = en.Secret
	if r := e.cmd(e.parties["ben"].home, "mfa", "confirm"); r.code != 0 {
		return nil, fmt.Errorf("mfa confirm: %s", r)
	}
	e.enrolled = true
	e.setup = time.Since(started)
	return e, nil
}

// nextCode returns the next TOTP code of secret, made by oathtool (not
// paratro's library): of the earliest time step after lastStep, the last
// one used, that the relay accepts now (one step of skew either side),
// waiting for one when the next step is too far ahead. A code is good once.
// otpWaits and otpWaited count nextCode's waits for a time step and their
// total: TestMain reports them, the e2e run's largest idle time.
var otpWaits, otpWaited atomic.Int64

func nextCode(secret string, lastStep *int64) (string, error) {
	t := time.Now().Unix()
	now := t / 30
	// A code of the step before the current one is good only until the
	// current step ends: take it only with 10 s or more to go, since the
	// command starting and reaching the relay takes time on a busy machine.
	oldest := now - 1
	if t%30 >= 20 {
		oldest = now
	}
	step := max(*lastStep+1, oldest)
	if step > now+1 {
		d := time.Until(time.Unix((step-1)*30, 0))
		otpWaits.Add(1)
		otpWaited.Add(int64(d))
		time.Sleep(d)
	}
	*lastStep = step
	at := time.Unix(step*30+1, 0).UTC().Format("2006-01-02 15:04:05 UTC")
	out, err := exec.Command("oathtool", "--totp", "-b", secret, "--now="+at).Output()
	if err != nil {
		return "", fmt.Errorf("oathtool (scripts/setup-test-tools.sh installs it): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// needsOTP reports whether a command asks for ben's TOTP code: wallet
// create does once he has enrolled (enrolled).
func needsOTP(args []string, enrolled bool) bool {
	return len(args) > 0 && args[0] == "rotate-keys" || len(args) > 1 && args[0] == "mfa" && args[1] == "confirm" ||
		len(args) > 2 && args[0] == "share" && args[1] == "backup" && args[2] == "export" ||
		enrolled && len(args) > 1 && args[0] == "wallet" && args[1] == "create"
}

// createJSON is what wallet create --output json prints.
type createJSON struct {
	ID         string `json:"id"`
	Address    string `json:"address"`
	PublicKey  string `json:"public_key"`
	Epoch      uint64 `json:"epoch"`
	CeremonyID string `json:"ceremony_id"`
}

// healthy restarts what is dead and continues what is stopped.
func (e *env) healthy(t *testing.T) {
	t.Helper()
	if e.relay.stopped {
		e.relay.cont(t)
	}
	if !e.relay.running() {
		if err := e.relay.start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range holders {
		p := e.parties[n]
		if p.stopped {
			p.cont(t)
		}
		if !p.running() {
			if err := p.start(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (e *env) stop() {
	for _, p := range e.parties {
		p.kill()
	}
	e.relay.kill()
}

// childEnv is the environment of every paratro process: file keyrings with
// the throwaway passphrase, this relay, and nothing of the user's own
// paratro setup.
func (e *env) childEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PARATRO_") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") || strings.HasPrefix(kv, "XDG_DATA_HOME=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "PARATRO_KEYRING=file", "PARATRO_KEYRING_PASSPHRASE="+e.pass,
		"PARATRO_RELAY=http://"+e.relay.addr, "XDG_CONFIG_HOME="+filepath.Join(e.dir, "xdg-config"),
		"XDG_DATA_HOME="+filepath.Join(e.dir, "xdg-data"))
}

// result is how a paratro command ended.
type result struct {
	args    []string
	code    int // exit status; -1 if killed
	stdout  string
	stderr  string
	elapsed time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("paratro %s: exit %d after %s\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code,
		r.elapsed.Round(10*time.Millisecond), strings.TrimSpace(r.stdout), strings.TrimSpace(r.stderr))
}

// running is a paratro command in progress.
type running struct {
	args   []string
	cmd    *exec.Cmd
	out    bytes.Buffer
	errb   bytes.Buffer
	start  time.Time
	done   chan struct{}
	res    result
	cancel context.CancelFunc
}

// maxCommand is the longest any command may run before the harness kills it.
const maxCommand = 3 * time.Minute

// begin starts paratro args... with --home home (when not empty).
func (e *env) begin(home string, args ...string) *running { return e.beginEnv(nil, home, args...) }

// beginEnv is begin with extra environment variables (KEY=value).
func (e *env) beginEnv(extra []string, home string, args ...string) *running {
	if home != "" {
		args = append(args, "--home", home)
	}
	ctx, cancel := context.WithTimeout(context.Background(), maxCommand)
	r := &running{args: args, cmd: exec.CommandContext(ctx, bin, args...), start: time.Now(), done: make(chan struct{}), cancel: cancel}
	r.cmd.Env, r.cmd.SysProcAttr = append(e.childEnv(), extra...), childAttr()
	// Ben's code (his enrolment is e.enrolled), or that of the home's own
	// enrolment (EnrolTOTP).
	secret, lastStep, enrolled := e.totpSecret, &e.lastStep, e.enrolled
	if o := e.otherTOTP[home]; o != nil {
		secret, lastStep, enrolled = o.secret, &o.lastStep, true
	}
	if needsOTP(args, enrolled) {
		code, err := nextCode(secret, lastStep)
		if err != nil {
			cancel()
			r.res = result{args: args, code: -1, stderr: err.Error()}
			close(r.done)
			return r
		}
		r.cmd.Env = append(r.cmd.Env, "PARATRO_OTP="+code)
	}
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.errb
	if err := r.cmd.Start(); err != nil {
		r.res = result{args: args, code: -1, stderr: err.Error()}
		close(r.done)
		return r
	}
	go func() {
		err := r.cmd.Wait()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		r.res = result{args: args, code: code, stdout: r.out.String(), stderr: r.errb.String(), elapsed: time.Since(r.start)}
		e.transcriptMu.Lock()
		e.transcript = append(e.transcript, r.res)
		e.transcriptMu.Unlock()
		cancel()
		close(r.done)
	}()
	return r
}

// wait waits for the command to end.
func (r *running) wait() result {
	<-r.done
	return r.res
}

// exited reports whether the command has ended.
func (r *running) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// cmd runs paratro args... with --home home and waits for it.
func (e *env) cmd(home string, args ...string) result { return e.begin(home, args...).wait() }

// cmdEnv is cmd with extra environment variables (KEY=value).
func (e *env) cmdEnv(extra []string, home string, args ...string) result {
	return e.beginEnv(extra, home, args...).wait()
}

// enrolTOTP enrols the operator of home in TOTP (mfa enroll, then mfa
// confirm with a code), once: afterwards its commands that need a code
// (needsOTP) get one in PARATRO_OTP, from its own secret.
func (e *env) enrolTOTP(t *testing.T, home string) {
	t.Helper()
	if e.otherTOTP[home] != nil {
		return
	}
	r := e.cmd(home, "mfa", "enroll", "--output", "json")
	var en struct{ Secret string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &en) != nil || en.Secret == "" {
		t.Fatalf("mfa enroll: %s", r)
	}
	if e.otherTOTP == nil {
		e.otherTOTP = map[string]*totp{}
	}
	// The first code is of the current step: one before it may be two
	// steps behind the relay's clock by the time it checks.
	e.otherTOTP[home] = &totp{secret: en.Secret, lastStep: time.Now().Unix()/30 - 1}
	if r := e.cmd(home, "mfa", "confirm"); r.code != 0 {
		delete(e.otherTOTP, home)
		t.Fatalf("mfa confirm: %s", r)
	}
}

// relayProc is the relay process, restartable on the same address and data.
type relayProc struct {
	env     *env
	addr    string
	data    string
	logPath string
	cmd     *exec.Cmd
	exit    chan struct{}
	stopped bool
	starts  int
}

func (r *relayProc) url() string { return "http://" + r.addr }

func (r *relayProc) start() error {
	addrFile := filepath.Join(r.env.dir, "relay.addr")
	os.Remove(addrFile)
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "relay", "serve", "--listen", r.addr, "--data", r.data, "--addr-file", addrFile, "--log-format", "json",
		"--backup-delay", backupDelay.String())
	cmd.Env, cmd.SysProcAttr = r.env.childEnv(), childAttr()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	r.cmd, r.exit, r.stopped = cmd, make(chan struct{}), false
	r.starts++
	go func(exit chan struct{}) { cmd.Wait(); close(exit) }(r.exit)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if b, _ := os.ReadFile(addrFile); len(bytes.TrimSpace(b)) > 0 {
			return nil
		}
		select {
		case <-r.exit:
			return fmt.Errorf("the relay exited at start:\n%s", tail(r.logPath, 20))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the relay is not listening after 15 s:\n%s", tail(r.logPath, 20))
		}
	}
}

func (r *relayProc) running() bool {
	if r.cmd == nil {
		return false
	}
	select {
	case <-r.exit:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits until the process is gone (its lock on
// relay.db with it).
func (r *relayProc) kill() {
	if r.running() {
		r.cmd.Process.Kill()
		<-r.exit
	}
	r.stopped = false
}

func (r *relayProc) cont(t *testing.T) {
	if r.running() {
		if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatalf("SIGCONT relay: %v", err)
		}
	}
	r.stopped = false
}

// logLines returns the relay's JSON log lines (its log on stderr, across restarts).
func (r *relayProc) logLines() []map[string]any {
	b, _ := os.ReadFile(r.logPath)
	var out []map[string]any
	for line := range strings.SplitSeq(string(b), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// waitLog waits for a log line that match accepts.
func (r *relayProc) waitLog(timeout time.Duration, match func(map[string]any) bool) (map[string]any, error) {
	deadline := time.Now().Add(timeout)
	for {
		for _, l := range r.logLines() {
			if match(l) {
				return l, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no such line in the relay's log after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// event is one line of party run --output json.
type event struct {
	Time     time.Time `json:"time"`
	Event    string    `json:"event"`
	Ceremony string    `json:"ceremony"`
	Kind     string    `json:"kind"`
	Wallet   string    `json:"wallet"`
	From     string    `json:"from"`
	Detail   string    `json:"detail"`
	Error    string    `json:"error"`
	run      int       // which start of the process printed it
}

func (ev event) String() string {
	s := fmt.Sprintf("%s %s %.12s", ev.Event, ev.Kind, ev.Ceremony)
	if ev.Detail != "" {
		s += " " + ev.Detail
	}
	if ev.Error != "" {
		s += " error: " + ev.Error
	}
	return s
}

// partyProc is one holder's paratro party run, restartable.
type partyProc struct {
	env     *env
	name    string
	home    string
	fp      string
	logPath string // stderr, and a copy of the events
	cmd     *exec.Cmd
	exit    chan struct{}
	stopped bool
	starts  int
	// extraEnv is added to the environment of the next start only (a
	// PARATRO_FAILPOINT for the kill -9 tests).
	extraEnv []string
	// args are added to every start's party run (--presign N).
	args []string

	mu     sync.Mutex
	events []event
	notify chan struct{} // closed and replaced at each event
}

func (p *partyProc) start() error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.starts++
	fmt.Fprintf(logf, "--- e2e: start %d of %s's party\n", p.starts, p.name)
	p.mu.Unlock()
	cmd := exec.Command(bin, "party", "run", "--no-tui", "--policy", filepath.Join(p.env.dir, "policy.yaml"),
		"--output", "json", "--home", p.home)
	cmd.Args = append(cmd.Args, p.args...)
	cmd.Env, cmd.SysProcAttr = append(p.env.childEnv(), p.extraEnv...), childAttr()
	p.extraEnv = nil
	cmd.Stderr = logf
	cmd.Stdout = &lineWriter{copyTo: logf, line: func(s string) { p.add(s) }}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	p.cmd, p.exit, p.stopped = cmd, make(chan struct{}), false
	go func(exit chan struct{}) { cmd.Wait(); logf.Close(); close(exit) }(p.exit)
	return nil
}

func (p *partyProc) add(line string) {
	var ev event
	if json.Unmarshal([]byte(line), &ev) != nil || ev.Event == "" {
		return
	}
	p.mu.Lock()
	ev.run = p.starts
	p.events = append(p.events, ev)
	close(p.notify)
	p.notify = make(chan struct{})
	p.mu.Unlock()
}

func (p *partyProc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exit:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (p *partyProc) kill() {
	if p.running() {
		p.cmd.Process.Kill()
		<-p.exit
	}
	p.stopped = false
}

// pause sends SIGSTOP: the process keeps its connections but does nothing.
func (p *partyProc) pause(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP %s's party: %v", p.name, err)
	}
	p.stopped = true
}

func (p *partyProc) cont(t *testing.T) {
	t.Helper()
	if p.running() {
		if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatalf("SIGCONT %s's party: %v", p.name, err)
		}
	}
	p.stopped = false
}

// mark is a position in the party's events: wait from there.
func (p *partyProc) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

// find returns the first event from position from that match accepts.
func (p *partyProc) find(from int, match func(event) bool) (event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range p.events[min(from, len(p.events)):] {
		if match(ev) {
			return ev, true
		}
	}
	return event{}, false
}

// waitEvent waits for an event from position from that match accepts.
func (p *partyProc) waitEvent(t *testing.T, from int, timeout time.Duration, what string, match func(event) bool) event {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		p.mu.Lock()
		ch := p.notify
		p.mu.Unlock()
		if ev, ok := p.find(from, match); ok {
			return ev
		}
		select {
		case <-ch:
		case <-timer.C:
			t.Fatalf("%s's party did not report %s within %s; its log:\n%s", p.name, what, timeout, p.logTail())
		}
	}
}

func (p *partyProc) logTail() string { return tail(p.logPath, 30) }

// is matches events by name, kind and (when not empty) ceremony.
func is(name, kind, ceremony string) func(event) bool {
	return func(ev event) bool {
		return ev.Event == name && ev.Kind == kind && (ceremony == "" || ev.Ceremony == ceremony)
	}
}

// lineWriter hands each complete line to line and copies everything.
type lineWriter struct {
	copyTo *os.File
	line   func(string)
	buf    []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.copyTo.Write(b)
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// openKeyring opens a home's file keyring, as a process of that holder
// would; the caller closes it.
func (e *env) openKeyring(t *testing.T, home string) *shares.FileKeyring {
	t.Helper()
	kr, err := shares.OpenFileKeyring(filepath.Join(home, "keyring.json"), []byte(e.pass))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// openHome opens a home with its file keyring (closed when the test
// ends), as a process of that holder would.
func (e *env) openHome(t *testing.T, dir string) (*home.Home, *shares.FileKeyring) {
	t.Helper()
	kr := e.openKeyring(t, dir)
	t.Cleanup(func() { kr.Close() })
	h, err := home.Open(dir, kr)
	if err != nil {
		t.Fatal(err)
	}
	return h, kr
}

// loadIdentity opens a home's file keyring (as a process of that holder
// would) and returns its identity, secret half included.
func (e *env) loadIdentity(t *testing.T, home string) *identity.Identity {
	t.Helper()
	kr := e.openKeyring(t, home)
	defer kr.Close()
	id, err := identity.Load(home, kr)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// client is a relay client acting as the identity of home.
func (e *env) client(t *testing.T, home string) (*relay.Client, *identity.Identity) {
	t.Helper()
	id := e.loadIdentity(t, home)
	c, err := relay.NewClient(e.relay.url(), id, relay.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c, id
}

// freePort returns a loopback port nobody listens on now, below the usual
// ephemeral range (Linux 32768-60999, BSD 49152-65535) so that no outgoing
// connection takes it while the relay is down between restarts.
func freePort() (int, error) {
	for range 50 {
		port := 20000 + mrand.IntN(12000)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			ln.Close()
			return port, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// digest is a fresh 32-byte digest to sign, in hex.
func digest() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
