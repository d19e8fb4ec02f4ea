package main

// The soak (-soak; scripts/soak.sh runs it): SECURITY.md release case 30
// and issue 9. Many signs (FROST, ECDSA one-round with a presignature,
// ECDSA full protocol) and key generations and refreshes (FROST and CMP)
// run one after another through one `paratro relay serve` and the three
// `paratro party run` processes of benchrelay's setup (ana, ben, vault,
// each its own home, file keyring and approving policy; ops initiates with
// coord.Initiate). The keeper of the signer set of the two lowest
// fingerprints runs with --presign N --presign-with the other, so its pool
// refills in the background between the bursts of one-round signs.
//
// Every process serves pprof on a loopback port (PARATRO_PPROF). At the
// start (after a warm-up) and after every tenth of the work, once the
// presignature pools are full again and the processes idle, the soak reads
// each one's goroutine count (/debug/pprof/goroutine?debug=1) and VmRSS
// (/proc/PID/status). It fails (non-zero exit) if a ceremony fails or does
// not finish by its deadline (a hang: the logs' tails are printed), if a
// pool does not refill in time, if a signature does not verify with code
// other than the threshold library (go-ethereum's ecrecover for ECDSA,
// btcd's BIP-340 and BIP-86 code for FROST), or if the end sample exceeds
// the limits below.

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/txscript"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
)

// soakKind is one kind of ceremony the soak runs.
type soakKind int

const (
	frostSign soakKind = iota
	presigSign
	fullSign
	frostKeygen
	frostRefresh
	cmpRefresh
	cmpKeygen
	numSoakKinds
)

var soakKindNames = [numSoakKinds]string{
	"FROST sign (bare key and BIP-86 taproot)", "ECDSA sign, one round with a presignature", "ECDSA sign, full protocol (CMP)",
	"FROST keygen 2-of-3", "FROST refresh", "CMP refresh", "CMP keygen 2-of-3",
}

// soakDeadline is each kind's ceremony deadline: generous (20x to 100x the
// usual time on 2 idle cores: on a shared machine with a load average of
// 30, a CMP keygen took 143 s and a full sign 10 s), and short enough that
// ops stays under the relay's limit of open ceremonies (a finished one
// counts until its deadline; the soak waits when it would exceed it).
var soakDeadline = [numSoakKinds]time.Duration{
	10 * time.Second, 30 * time.Second, 2 * time.Minute,
	time.Minute, time.Minute, 10 * time.Minute, 10 * time.Minute,
}

// soakOptions are the -soak-* flags; a count of -1 takes the mode's default.
type soakOptions struct {
	enabled, quick bool
	counts         [numSoakKinds]int
	pool           int
	steps          int
	goroutineSlack int
	rssFactor      float64
	rssSlackMB     float64
	out            string
}

var soakOpt soakOptions

// soak defaults: the full soak (27 minutes on 2 shared cores at a load
// average of 8-18, 19 CPU-minutes; most of it the ECDSA full signs and the
// presign ceremonies refilling the pool) and -soak-quick (CI: 6 minutes at
// a load average of 15, 2.6 CPU-minutes).
var (
	soakFull  = [numSoakKinds]int{700, 200, 100, 8, 6, 4, 2}
	soakQuick = [numSoakKinds]int{72, 20, 8, 2, 1, 1, 0}
)

func init() {
	flag.BoolVar(&soakOpt.enabled, "soak", false, "run the soak (SECURITY.md case 30) instead of the benchmark: many signs and keygens/refreshes through one relay and the parties, goroutines and RSS sampled; fails if they grow or a ceremony hangs")
	flag.BoolVar(&soakOpt.quick, "soak-quick", false, "the soak's CI size: about 100 signs and 4 keygens/refreshes")
	flags := [numSoakKinds]string{"frost-signs", "presig-signs", "full-signs", "frost-keygens", "frost-refreshes", "cmp-refreshes", "cmp-keygens"}
	for k := range numSoakKinds {
		flag.IntVar(&soakOpt.counts[k], "soak-"+flags[k], -1, fmt.Sprintf("soak: %s ceremonies (-1: %d, quick %d)", soakKindNames[k], soakFull[k], soakQuick[k]))
	}
	flag.IntVar(&soakOpt.pool, "soak-pool", -1, "soak: the keeper's --presign N (-1: 10, quick 4); a step's one-round signs run in bursts of N, the pool refilled between them")
	flag.IntVar(&soakOpt.steps, "soak-steps", 10, "soak: samples after every 1/N of the work")
	flag.IntVar(&soakOpt.goroutineSlack, "soak-goroutine-slack", 10, "soak: a process fails if it ends with more goroutines than at the start plus this")
	flag.Float64Var(&soakOpt.rssFactor, "soak-rss-factor", 1.5, "soak: a process fails if its VmRSS ends above max(factor x start, start + slack)")
	flag.Float64Var(&soakOpt.rssSlackMB, "soak-rss-slack-mb", 40, "soak: see -soak-rss-factor (MB, 10^6 bytes)")
	flag.StringVar(&soakOpt.out, "soak-out", "", "soak: also write the table to this file")
}

type soakWallet struct {
	*home.Wallet
	pub []byte
}

// soakSample is one reading of every process.
type soakSample struct {
	label      string
	goroutines map[string]int
	rss        map[string]int64 // VmRSS, KiB
	anon       map[string]int64 // RssAnon, KiB (the heap and stacks; VmRSS less mapped files)
	store      map[string]int64 // resident pages of a mapped *.db file (the relay's bbolt store), KiB
	heap       map[string]int64 // live heap right after a forced GC (HeapAlloc), bytes; -1 unknown
	dbSize     int64            // the relay's store file, bytes
}

type soak struct {
	b        *bench
	o        soakOptions
	frost    []*soakWallet
	ecdsa    []*soakWallet
	keeper   identity.Public
	other    identity.Public
	pprof    map[string]string // process name -> pprof address
	runs     [numSoakKinds][]time.Duration
	warm     [numSoakKinds]int
	next     [numSoakKinds]int // round robin over the wallets
	open     []time.Time       // deadlines of ops's ceremonies not yet past
	throttle time.Duration     // waited for the relay's open-ceremony limit
	poolWait time.Duration     // waited for the pools to refill
	otpWait  time.Duration     // waited for a fresh TOTP step
	totp     string            // ops's TOTP secret
	lastStep int64             // the last TOTP step used
	samples  []soakSample
	failures []string
	started  time.Time
	load     [2]string
}

func runSoak(ctx context.Context, o options) error {
	so := soakOpt
	for k := range numSoakKinds {
		if so.counts[k] < 0 {
			so.counts[k] = soakFull[k]
			if so.quick {
				so.counts[k] = soakQuick[k]
			}
		}
	}
	if so.pool < 0 {
		so.pool = 10
		if so.quick {
			so.pool = 4
		}
	}
	if so.pool < 1 && so.counts[presigSign] > 0 {
		return errors.New("-soak-pool must be at least 1 for one-round signs")
	}
	so.steps = max(so.steps, 1)
	paratro, err := filepath.Abs(o.paratro)
	if err != nil {
		return err
	}
	o.paratro = paratro
	b := &bench{o: o, holders: []string{"ana", "ben", "vault"}}
	if b.dir = o.dir; b.dir == "" {
		if b.dir, err = os.MkdirTemp("", "soak-"); err != nil {
			return err
		}
		defer os.RemoveAll(b.dir)
	} else if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return err
	}
	s := &soak{b: b, o: so, pprof: map[string]string{}, started: time.Now(), load: [2]string{loadavg()}}
	for _, n := range append([]string{"relay"}, b.holders...) {
		if s.pprof[n], err = freeLoopback(); err != nil {
			return err
		}
	}
	b.pprofAddr = s.pprof
	defer b.stopAll()
	if err := b.setup(ctx); err != nil {
		return err
	}
	// the keeper: the lowest fingerprint of the first two, as in presigSigns
	pair := slices.Clone(b.parties[:3])
	slices.SortFunc(pair, func(x, y identity.Public) int { return strings.Compare(x.Fingerprint(), y.Fingerprint()) })
	s.keeper, s.other = pair[0], pair[1]
	if so.pool > 0 {
		for _, p := range b.procs {
			if p.name == s.keeper.Name {
				b.stop(p)
				break
			}
		}
		if _, err := b.startParty(s.keeper.Name, "--presign", strconv.Itoa(so.pool), "--presign-with", s.other.Name); err != nil {
			return err
		}
	}
	err = s.enrollTOTP(ctx)
	if err == nil {
		err = s.run(ctx)
	}
	if err != nil {
		s.failures = append(s.failures, err.Error())
	}
	s.load[1] = loadavg()
	var out strings.Builder
	verdictErr := s.print(&out)
	fmt.Print(out.String())
	if so.out != "" {
		if werr := os.WriteFile(so.out, []byte(out.String()), 0o644); werr != nil {
			logf("soak: %v", werr)
		}
	}
	return verdictErr
}

// freeLoopback is a loopback address with a port free a moment ago.
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (s *soak) run(ctx context.Context) error {
	c := s.o.counts
	// warm-up: the first wallets, a full pool, a few of each sign
	logf("soak: warm-up (%d signs, %d keygens/refreshes planned after it)", c[frostSign]+c[presigSign]+c[fullSign],
		c[frostKeygen]+c[frostRefresh]+c[cmpRefresh]+c[cmpKeygen])
	warm := []soakKind{cmpKeygen, frostKeygen}
	if c[presigSign] > 0 {
		warm = append(warm, presigSign, presigSign)
	}
	warm = append(warm, fullSign, frostRefresh)
	for range 6 {
		warm = append(warm, frostSign)
	}
	for i, k := range warm {
		if k == presigSign && i > 0 && warm[i-1] != presigSign {
			if err := s.quiesce(ctx); err != nil {
				return err
			}
		}
		if err := s.do(ctx, k); err != nil {
			return err
		}
		s.warm[k]++
		s.runs[k] = s.runs[k][:0] // warm-up runs are not counted
	}
	if err := s.quiesce(ctx); err != nil {
		return err
	}
	s.sample(ctx, "start")

	// The work, in steps: each step's one-round signs first (the pool is
	// full), then its signs (FROST and ECDSA full protocol interleaved),
	// then its keygens and refreshes (kinds interleaved).
	signs := spread(map[soakKind]int{frostSign: c[frostSign], fullSign: c[fullSign]})
	dkgs := spread(map[soakKind]int{frostKeygen: c[frostKeygen], frostRefresh: c[frostRefresh], cmpRefresh: c[cmpRefresh], cmpKeygen: c[cmpKeygen]})
	part := func(n, i int) (int, int) { return n * i / s.o.steps, n * (i + 1) / s.o.steps }
	for i := range s.o.steps {
		var step []soakKind
		a, z := part(c[presigSign], i)
		for range z - a {
			step = append(step, presigSign)
		}
		a, z = part(len(signs), i)
		step = append(step, signs[a:z]...)
		a, z = part(len(dkgs), i)
		step = append(step, dkgs[a:z]...)
		t0 := time.Now()
		oneRound := 0
		for _, k := range step {
			if k == presigSign {
				if oneRound > 0 && oneRound%s.o.pool == 0 {
					if err := s.quiesce(ctx); err != nil { // the pool refills
						return err
					}
				}
				oneRound++
			}
			if err := s.do(ctx, k); err != nil {
				return err
			}
		}
		logf("soak: step %d/%d: %d ceremonies in %s", i+1, s.o.steps, len(step), time.Since(t0).Round(time.Millisecond))
		if err := s.quiesce(ctx); err != nil {
			return err
		}
		s.sample(ctx, fmt.Sprintf("%d%%", (i+1)*100/s.o.steps))
	}
	return nil
}

// spread orders counts[k] of each kind so that every kind is spread
// evenly over the sequence.
func spread(counts map[soakKind]int) []soakKind {
	type at struct {
		k soakKind
		x float64
	}
	var all []at
	for k, n := range counts {
		for i := range n {
			all = append(all, at{k, (float64(i) + 0.5) / float64(n)})
		}
	}
	slices.SortStableFunc(all, func(a, b at) int {
		if a.x != b.x {
			if a.x < b.x {
				return -1
			}
			return 1
		}
		return int(a.k) - int(b.k)
	})
	out := make([]soakKind, len(all))
	for i, a := range all {
		out[i] = a.k
	}
	return out
}

// pick is the next wallet of ws, round robin per kind.
func (s *soak) pick(k soakKind, ws []*soakWallet) *soakWallet {
	w := ws[s.next[k]%len(ws)]
	s.next[k]++
	return w
}

// do runs one ceremony of kind k and checks its result with independent
// code. A failure or a missed deadline ends the soak.
func (s *soak) do(ctx context.Context, k soakKind) error {
	var req *coord.Request
	var w *soakWallet
	var digest []byte
	switch k {
	case frostKeygen, cmpKeygen:
		scheme, chain := ceremony.SchemeSchnorr, "bitcoin"
		if k == cmpKeygen {
			scheme, chain = ceremony.SchemeECDSA, "ethereum"
		}
		req = &coord.Request{Kind: ceremony.KindKeygen, Scheme: scheme, WalletID: holder.NewWalletID(),
			WalletName: fmt.Sprintf("soak-%s-%d", scheme, len(s.frost)+len(s.ecdsa)+1), Chain: chain,
			Parties: s.b.parties[:3], Required: 2}
	case frostRefresh, cmpRefresh:
		ws := s.frost
		if k == cmpRefresh {
			ws = s.ecdsa
		}
		w = s.pick(k, ws)
		req = &coord.Request{Kind: ceremony.KindRefresh}
	default:
		ws := s.ecdsa
		if k == frostSign {
			ws = s.frost
		}
		w = s.pick(k, ws)
		digest = randomDigest()
		req = &coord.Request{Kind: ceremony.KindSign, Digest: hex.EncodeToString(digest)}
		switch k {
		case frostSign:
			req.Taproot = s.next[k]%2 == 0 // alternately under the BIP-86 output key
		case fullSign:
			req.NoPresignature = true
		case presigSign:
			req.Signers = []string{s.keeper.Fingerprint(), s.other.Fingerprint()}
		}
	}
	if w != nil {
		req.Scheme, req.WalletID, req.WalletName, req.Chain = ceremony.Scheme(w.Scheme), w.ID, w.Name, w.Chain
		req.Parties, req.Required, req.Epoch, req.ConfigDigest = w.Parties, w.Required, w.Epoch, w.ConfigDigest
	}
	if err := s.waitOpen(ctx); err != nil {
		return err
	}
	if k >= frostKeygen {
		// every refresh needs a TOTP code, and so does a keygen by an
		// operator who enrolled one
		code, err := s.nextOTP(ctx)
		if err != nil {
			return err
		}
		s.b.client.SetOTP(code)
	}
	now := time.Now()
	deadline := now.Add(soakDeadline[k])
	s.open = append(s.open, deadline)
	req.Deadline, req.CreatedAt = deadline, now.UTC()
	// Initiate gives up itself a moment after the deadline; this context
	// only guards against a hang in the initiator.
	ictx, cancel := context.WithDeadline(ctx, deadline.Add(30*time.Second))
	defer cancel()
	rep, r, err := s.b.initiate(ictx, req)
	if err != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not finish by its deadline (%s): %w", soakKindNames[k], soakDeadline[k], err)
		}
		return err
	}
	res := rep.Result()
	switch k {
	case frostKeygen, cmpKeygen:
		nw := &home.Wallet{ID: req.WalletID, Name: req.WalletName, Chain: req.Chain, Scheme: string(req.Scheme),
			Required: req.Required, Parties: req.Parties, Epoch: res.Epoch, PublicKey: res.PublicKey, ConfigDigest: res.ConfigDigest,
			Address: coord.AddressOf(req.Chain, req.Scheme, hexBytes(res.PublicKey)), CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
		sw := &soakWallet{Wallet: nw, pub: hexBytes(res.PublicKey)}
		if k == frostKeygen {
			if _, err := schnorr.ParsePubKey(sw.pub); err != nil {
				return fmt.Errorf("FROST keygen: the public key is no BIP-340 key: %w", err)
			}
			s.frost = append(s.frost, sw)
		} else {
			if _, err := ethereum.Address(sw.pub); err != nil {
				return fmt.Errorf("CMP keygen: the public key is no secp256k1 key: %w", err)
			}
			s.ecdsa = append(s.ecdsa, sw)
		}
	case frostRefresh, cmpRefresh:
		if res.PublicKey != w.PublicKey || res.Epoch != w.Epoch+1 {
			return fmt.Errorf("%s of %s: public key %s epoch %d, want %s epoch %d", soakKindNames[k], w.Name, res.PublicKey, res.Epoch, w.PublicKey, w.Epoch+1)
		}
		w.Epoch, w.ConfigDigest = res.Epoch, res.ConfigDigest
	default:
		sig := hexBytes(res.Signature)
		if err := verifySoak(w, req.Taproot, digest, sig); err != nil {
			return fmt.Errorf("%s with %s: %w", soakKindNames[k], w.Name, err)
		}
		if k == presigSign && res.Presignature == "" {
			return fmt.Errorf("one-round sign with %s ran the full protocol: no presignature was offered", w.Name)
		}
		if k == fullSign && res.Presignature != "" {
			return fmt.Errorf("a full-protocol sign used presignature %s", res.Presignature)
		}
	}
	s.runs[k] = append(s.runs[k], r.total)
	if r.total > soakDeadline[k]/2 {
		logf("soak: slow %s: %s", soakKindNames[k], r)
	}
	return nil
}

// enrollTOTP enrols ops in TOTP at the relay, as an owner would be in
// production: every refresh needs a code then, and so does every keygen.
func (s *soak) enrollTOTP(ctx context.Context) error {
	e, err := s.b.client.MFAEnroll(ctx)
	if err != nil {
		return fmt.Errorf("mfa enroll: %w", err)
	}
	s.totp = e.Secret
	code, err := s.nextOTP(ctx)
	if err != nil {
		return err
	}
	s.b.client.SetOTP(code)
	if _, err := s.b.client.MFAConfirm(ctx); err != nil {
		return fmt.Errorf("mfa confirm: %w", err)
	}
	return nil
}

// nextOTP is a code the relay accepts: it takes each 30 s step once, and
// one step either side of its own (clock shared with this program). A
// step ahead is used when the current one is spent; beyond that the soak
// waits (at most about one code per 30 s on average, a burst of three).
func (s *soak) nextOTP(ctx context.Context) (string, error) {
	const period = 30
	for {
		now := time.Now()
		cur := now.Unix() / period
		lo := cur - 1
		if now.Unix()%period >= period-5 {
			lo = cur // the previous step would be out of reach by the time the relay checks
		}
		step := max(s.lastStep+1, lo)
		if step <= cur+1 {
			s.lastStep = step
			return totp.GenerateCodeCustom(s.totp, time.Unix(step*period, 0).UTC(),
				totp.ValidateOpts{Period: period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		}
		wait := time.Until(time.Unix((step-1)*period+1, 0))
		wait = max(wait, 100*time.Millisecond)
		s.otpWait += wait
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
	}
}

// verifySoak checks sig with code other than the threshold library's:
// go-ethereum's ecrecover (through internal/chain/ethereum) for ECDSA;
// btcd's BIP-340 verification for FROST, under btcd's BIP-86 output key
// for a Taproot sign.
func verifySoak(w *soakWallet, taproot bool, digest, sig []byte) error {
	if ceremony.Scheme(w.Scheme) == ceremony.SchemeECDSA {
		return ethereum.VerifyDigest(w.Address, digest, sig)
	}
	key, err := schnorr.ParsePubKey(w.pub)
	if err != nil {
		return err
	}
	if taproot {
		key = txscript.ComputeTaprootKeyNoScript(key)
	}
	sg, err := schnorr.ParseSignature(sig)
	if err != nil {
		return err
	}
	if !sg.Verify(digest, key) {
		return fmt.Errorf("BIP-340 signature does not verify (taproot %v)", taproot)
	}
	return nil
}

// waitOpen waits until ops has fewer open ceremonies (s.open: their
// deadlines) than the relay allows (relay.DefaultMaxOpenCeremonies = 64;
// a few kept in reserve).
func (s *soak) waitOpen(ctx context.Context) error {
	const limit = 60
	for {
		now := time.Now()
		s.open = slices.DeleteFunc(s.open, func(t time.Time) bool { return !t.After(now) })
		if len(s.open) < limit {
			return nil
		}
		wait := time.Until(slices.MinFunc(s.open, time.Time.Compare)) + 10*time.Millisecond
		s.throttle += wait
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// quiesce waits until the keeper's pool holds a full N for every ECDSA
// wallet (so it starts no presign) and the processes have settled. A pool
// that does not refill in time fails the soak: a leaked pool worker or a
// stuck presign would show so.
func (s *soak) quiesce(ctx context.Context) error {
	t0 := time.Now()
	defer func() { s.poolWait += time.Since(t0) }()
	if s.o.pool > 0 && len(s.ecdsa) > 0 {
		limit := 2*time.Minute + time.Duration(s.o.pool*len(s.ecdsa))*30*time.Second
		for {
			left, err := s.poolLeft(ctx)
			if err != nil {
				return err
			}
			full := true
			for _, w := range s.ecdsa {
				full = full && left[w.ID] >= s.o.pool
			}
			if full {
				break
			}
			if time.Since(t0) > limit {
				return s.b.tailLogs(fmt.Errorf("the presignature pool did not refill in %s: %v (want %d each)", limit, left, s.o.pool))
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(300 * time.Millisecond):
			}
		}
	}
	// the last presign's tail at the other signer, idle long-polls
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(1500 * time.Millisecond):
	}
	return nil
}

// poolLeft is the keeper's presignatures left per wallet (`share list`).
func (s *soak) poolLeft(ctx context.Context) (map[string]int, error) {
	return s.b.presignaturesLeft(ctx, s.keeper.Name)
}

// sample reads every process's goroutines (the least of three readings
// 200 ms apart, so that a request being served does not count) and RSS.
func (s *soak) sample(ctx context.Context, label string) {
	sm := soakSample{label: label, goroutines: map[string]int{}, rss: map[string]int64{}, anon: map[string]int64{}, store: map[string]int64{},
		heap: map[string]int64{}}
	if fi, err := os.Stat(filepath.Join(s.b.dir, "relay", "relay.db")); err == nil {
		sm.dbSize = fi.Size()
	}
	for _, p := range s.b.procs {
		select {
		case <-p.done:
			s.failures = append(s.failures, fmt.Sprintf("%s exited before the %s sample; see %s", p.name, label, p.log))
			continue
		default:
		}
		// the live heap after a garbage collection (heap?gc=1 runs one)
		sm.heap[p.name] = -1
		if h, err := heapAfterGC(ctx, s.pprof[p.name]); err == nil {
			sm.heap[p.name] = h
		} else {
			logf("soak: %s heap: %v", p.name, err)
		}
		g := -1
		for i := range 3 {
			if i > 0 {
				time.Sleep(200 * time.Millisecond)
			}
			n, err := goroutines(ctx, s.pprof[p.name])
			if err != nil {
				logf("soak: %s goroutines: %v", p.name, err)
				continue
			}
			if g < 0 || n < g {
				g = n
			}
		}
		sm.goroutines[p.name] = g
		sm.rss[p.name], sm.anon[p.name] = procMem(p.cmd.Process.Pid)
		sm.store[p.name] = mappedDB(p.cmd.Process.Pid)
	}
	s.samples = append(s.samples, sm)
	var parts []string
	for _, n := range s.names() {
		parts = append(parts, fmt.Sprintf("%s %d g %.1f MB (heap %.1f MB)", n, sm.goroutines[n], mb(sm.rss[n]), float64(sm.heap[n])/1e6))
	}
	logf("soak: sample %s: %s", label, strings.Join(parts, ", "))
}

// heapAfterGC forces a garbage collection in the process behind a pprof
// listener (/debug/pprof/heap?gc=1) and reads its live heap (HeapAlloc of
// the runtime's MemStats, printed with debug=1), in bytes.
func heapAfterGC(ctx context.Context, addr string) (int64, error) {
	body, err := pprofGet(ctx, addr, "heap?gc=1&debug=1", 64<<20)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, "# HeapAlloc = "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errors.New("no HeapAlloc in the heap profile")
}

// pprofGet reads up to limit bytes of /debug/pprof/<path> from the pprof
// listener at addr, and drains the rest.
func pprofGet(ctx context.Context, addr, path string, limit int64) ([]byte, error) {
	if addr == "" {
		return nil, errors.New("no pprof listener")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	_, _ = io.Copy(io.Discard, resp.Body)
	return body, err
}

// goroutines reads "goroutine profile: total N" from a pprof listener.
func goroutines(ctx context.Context, addr string) (int, error) {
	head, err := pprofGet(ctx, addr, "goroutine?debug=1", 200)
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(head), "\n")
	n, ok := strings.CutPrefix(line, "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("unexpected goroutine profile %q", line)
	}
	return strconv.Atoi(strings.TrimSpace(n))
}

// mappedDB is the resident size in KiB of pid's mappings of *.db files
// (the relay's bbolt store, mapped whole; none in a party), from
// /proc/PID/smaps.
func mappedDB(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return 0
	}
	var kib int64
	in := false
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping's header: address perms offset dev inode [path]
			in = len(f) >= 6 && strings.HasSuffix(f[5], ".db")
			continue
		}
		if in && f[0] == "Rss:" && len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			kib += n
		}
	}
	return kib
}

// procMem is VmRSS and RssAnon of pid in KiB (0 where unknown).
func procMem(pid int) (rssKiB, anonKiB int64) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(l, ":")
		f := strings.Fields(v)
		if !ok || len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rssKiB = n
		case "RssAnon":
			anonKiB = n
		}
	}
	return rssKiB, anonKiB
}

// names are the sampled processes: the relay, then the parties.
func (s *soak) names() []string { return append([]string{"relay"}, s.b.holders...) }

// print writes the table and returns an error if an invariant failed.
//
// Limits, per process, comparing the end sample with the start one (both
// taken idle, pools full, after a warm-up that ran every kind of ceremony
// once, so that the heap has grown to its working size):
//   - goroutines: end <= start + 10 (-soak-goroutine-slack). An idle party
//     or relay has a fixed set (inbox long-poll, pool and keyring loops,
//     HTTP keep-alive connections); a few come and go with connections
//     the HTTP client pools, so the end may differ from the start by some.
//     A leak of one per ceremony (a pool worker, a handler, a reader of a
//     ceremony's messages) would add hundreds over the soak.
//   - RSS: end <= max(1.5 x start, start + 40 MB), where RSS is VmRSS less
//     the resident pages of a mapped *.db file. Go returns freed heap to
//     the OS lazily (the scavenger) and the keygens' Paillier work peaks
//     at tens of MB; a leak of the state of each ceremony (a few to tens
//     of KB each for a sign, more for a keygen) over 1,000 of them would
//     exceed this. The relay's bbolt store is mapped whole and grows with
//     every ceremony (the relay deletes none: about 45 KB each, with the
//     presigns), so its pages raise the relay's VmRSS by about as much as
//     the file grows: clean file pages the kernel can drop, not heap. They
//     are shown apart (store map), with the file's growth.
func (s *soak) print(w io.Writer) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	var errs []error
	total, dkgs := 0, 0
	for k := range numSoakKinds {
		if k <= fullSign {
			total += len(s.runs[k])
		} else {
			dkgs += len(s.runs[k])
		}
	}
	p("")
	p("PARATRO SOAK  (SECURITY.md case 30, issue 9; %d CPUs, %s/%s, %s; load average %s before, %s after)", runtime.NumCPU(),
		runtime.GOOS, runtime.GOARCH, runtime.Version(), orDash(s.load[0]), orDash(s.load[1]))
	p("%d signs and %d keygens/refreshes, one after another, through one `relay serve` and three `party run` (2-of-3;", total, dkgs)
	p("%s keeps --presign %d with %s); every signature verified with go-ethereum / btcd; %s in all", s.keeper.Name, s.o.pool, s.other.Name,
		time.Since(s.started).Round(time.Second))
	p("")
	p("%-44s %5s %5s %9s %9s %9s %9s %9s", "CEREMONY (after the warm-up)", "n", "warm", "p50 ms", "p95 ms", "p99 ms", "max ms", "sum s")
	for k := range numSoakKinds {
		st := statsOf(s.runs[k])
		var sum time.Duration
		for _, d := range s.runs[k] {
			sum += d
		}
		p("%-44s %5d %5d %9.0f %9.0f %9.0f %9.0f %9.1f", soakKindNames[k], st.n, s.warm[k], st.p50, st.p95, st.p99, st.max, sum.Seconds())
	}
	p("waited for the pools to refill and settle: %s; for the relay's open-ceremony limit: %s; for fresh TOTP steps: %s",
		s.poolWait.Round(time.Second), s.throttle.Round(time.Second), s.otpWait.Round(time.Second))
	want := s.o.counts
	for k := range numSoakKinds {
		if len(s.runs[k]) != want[k] {
			errs = append(errs, fmt.Errorf("%s: %d of %d done", soakKindNames[k], len(s.runs[k]), want[k]))
		}
	}

	p("")
	if len(s.samples) < 2 {
		p("PROCESSES: fewer than two samples")
		errs = append(errs, errors.New("the soak ended before its second sample"))
	} else {
		first, last := s.samples[0], s.samples[len(s.samples)-1]
		p("%-10s %-28s %-35s %-20s %s", "PROCESS", "GOROUTINES start min max end", "VmRSS MB start min max end",
			"store map/anon end", "LIMITS (end; RSS: VmRSS less the store map)")
		for _, n := range s.names() {
			var gs []int
			var rs []int64
			for _, x := range s.samples {
				gs, rs = append(gs, x.goroutines[n]), append(rs, x.rss[n])
			}
			g0, g1 := first.goroutines[n], last.goroutines[n]
			// the relay's store file is mapped whole: its resident pages
			// grow with the store (every ceremony is kept), not with the heap
			r0, r1 := first.rss[n]-first.store[n], last.rss[n]-last.store[n]
			gLimit := g0 + s.o.goroutineSlack
			rLimit := max(int64(float64(r0)*s.o.rssFactor), r0+int64(s.o.rssSlackMB*1e6/1024))
			gOK, rOK := g0 >= 0 && g1 >= 0 && g1 <= gLimit, r0 > 0 && r1 > 0 && r1 <= rLimit
			label := n
			if n == s.keeper.Name {
				label += " (k)"
			}
			p("%-10s %6d %6d %6d %6d   %8.1f %7.1f %7.1f %7.1f   %7.1f / %5.1f    goroutines <= %d: %s; RSS %.1f -> %.1f <= %.1f MB: %s",
				label, g0, slices.Min(gs), slices.Max(gs), g1, mb(first.rss[n]), mb(slices.Min(rs)), mb(slices.Max(rs)), mb(last.rss[n]),
				mb(last.store[n]), mb(last.anon[n]), gLimit, verdict(gOK), mb(r0), mb(r1), mb(rLimit), verdict(rOK))
			if !gOK {
				errs = append(errs, fmt.Errorf("%s: %d goroutines at the end, %d at the start (limit %d)", n, g1, g0, gLimit))
			}
			if !rOK {
				errs = append(errs, fmt.Errorf("%s: RSS %.1f MB at the end, %.1f MB at the start (limit %.1f MB)", n, mb(r1), mb(r0), mb(rLimit)))
			}
		}
		p("")
		p("%-10s %s", "LIVE HEAP", "MB after a forced GC (pprof heap?gc=1; HeapAlloc): start min max end (reported, not a limit)")
		for _, n := range s.names() {
			var hs []float64
			for _, x := range s.samples {
				hs = append(hs, float64(x.heap[n])/1e6)
			}
			p("%-10s %7.2f %7.2f %7.2f %7.2f", n, hs[0], slices.Min(hs), slices.Max(hs), hs[len(hs)-1])
		}
		if first.dbSize > 0 && last.dbSize > 0 {
			p("the relay's store (relay.db) grew from %.1f to %.1f MB over the soak: the relay keeps every ceremony and its messages",
				float64(first.dbSize)/1e6, float64(last.dbSize)/1e6)
		}
		p("")
		p("SAMPLES (goroutines / VmRSS MB; pools full, processes idle)")
		head := fmt.Sprintf("%-10s", "")
		for _, sm := range s.samples {
			head += fmt.Sprintf(" %10s", sm.label)
		}
		p("%s", head)
		for _, n := range s.names() {
			line := fmt.Sprintf("%-10s", n)
			for _, sm := range s.samples {
				line += fmt.Sprintf(" %4d/%5.1f", sm.goroutines[n], mb(sm.rss[n]))
			}
			p("%s", line)
		}
	}
	for _, f := range s.failures {
		errs = append(errs, errors.New(f))
	}
	p("")
	if len(errs) == 0 {
		p("SOAK PASSED: every ceremony finished and verified; goroutines and RSS within their limits")
		return nil
	}
	p("SOAK FAILED:")
	for _, e := range errs {
		first, _, _ := strings.Cut(e.Error(), "\n")
		p("  - %s", first)
	}
	return errors.Join(errs...)
}
