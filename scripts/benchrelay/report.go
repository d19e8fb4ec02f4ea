package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ---- CPU time ----

// cpu is the CPU time (user + system) used so far by this program and the
// processes it started (relay, parties); 10 ms resolution for the latter.
// It is 0 where that cannot be read (no /proc).
func (b *bench) cpu() time.Duration {
	t := selfCPU()
	for _, p := range b.procs {
		c, ok := procCPU(p.cmd.Process.Pid)
		if !ok {
			return 0
		}
		t += c
	}
	return t
}

// procCPU reads utime and stime of process pid from /proc (Linux).
// USER_HZ is 100 on every Linux platform Go supports.
func procCPU(pid int) (time.Duration, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(raw[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, false
	}
	var ticks int64
	for _, s := range f[11:13] { // utime, stime
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, true
}

// loadavg is the first line of /proc/loadavg, or "" where there is none.
func loadavg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// ---- figures ----

type results struct {
	dkgRelay, signRelay []relayRun
	dkgMem, signMem     []memRun
	cli                 []cliRun
	warm                [][2]time.Duration
	load                [2]string // load averages before and after
	traffic             *traffic
	hop                 *hopResult
}

// stats of a sample, in milliseconds. p50 and p95 are nearest-rank.
type stats struct {
	n                        int
	p50, p95, mean, min, max float64
	sd                       float64
}

func statsOf(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	v := make([]float64, len(ds))
	for i, d := range ds {
		v[i] = float64(d) / float64(time.Millisecond)
	}
	slices.Sort(v)
	rank := func(p float64) float64 { return v[max(0, int(math.Ceil(p*float64(len(v))))-1)] }
	s := stats{n: len(v), p50: rank(0.50), p95: rank(0.95), min: v[0], max: v[len(v)-1]}
	for _, x := range v {
		s.mean += x
	}
	s.mean /= float64(len(v))
	for _, x := range v {
		s.sd += (x - s.mean) * (x - s.mean)
	}
	if len(v) > 1 {
		s.sd = math.Sqrt(s.sd / float64(len(v)-1))
	}
	return s
}

func column[T any](xs []T, f func(T) time.Duration) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func (r *results) print(w io.Writer, o options) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	row := func(name string, s stats) {
		p("  %-40s %5d %9.0f %9.0f %9.0f %9.0f %9.0f %7.1f%%", name, s.n, s.p50, s.p95, s.mean, s.min, s.max, 100*s.sd/s.mean)
	}
	head := func() {
		p("  %-40s %5s %9s %9s %9s %9s %9s %8s", "ms", "n", "p50", "p95", "mean", "min", "max", "sd/mean")
	}
	p("")
	p("RELAY vs IN-MEMORY: 2-of-3 ECDSA (CMP), one machine (%d CPUs, %s/%s), relay and memory runs alternating", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	p("  relay : `paratro relay serve` + 3 `paratro party run --no-tui --policy` processes (ana, ben, vault; file")
	p("          keyrings, unlocked once at party start) over 127.0.0.1. The initiator (ops, not a party) is this")
	p("          program calling coord.Initiate, the code `paratro wallet sign|create` runs: time from posting the")
	p("          request until every participant's outcome arrived (= the CLI's elapsed_ms). It includes the")
	p("          approvals round trip; process start and keyring unlock of the CLI are not in it (see CLI below).")
	p("  memory: ceremony.Run for each party in this process over ceremony.NewMemoryNetwork (ceremonytest.RunAll),")
	p("          wall time from starting the parties until all returned; sign with the TEST-ONLY fixture shares")
	p("          (alice+bob), keygen among alice, bob, carol. Same scheme and threshold; the shares differ.")
	p("  p50/p95 are nearest-rank over the runs; warm-up runs (%d each) are not counted.", len(r.warm))
	if r.load[0] != "" {
		p("  load average before %s, after %s (on %d CPUs): other work on the machine slows both sides alike,", r.load[0], r.load[1], runtime.NumCPU())
		p("  but under contention the scheduler shares CPUs per thread, which may favour the side with more")
		p("  processes (relay); the CPU rows do not depend on load.")
	}

	p("")
	p("SIGN (2 of 3 sign; on the relay the first two parties to approve)")
	head()
	sr := statsOf(column(r.signRelay, func(x relayRun) time.Duration { return x.total }))
	sm := statsOf(column(r.signMem, func(x memRun) time.Duration { return x.total }))
	row("relay  (request → all outcomes)", sr)
	row("memory (ceremony.Run × 2)", sm)
	row("  relay: approvals (→ start posted)", statsOf(column(r.signRelay, func(x relayRun) time.Duration { return x.approvals })))
	row("  relay: run (start → all outcomes)", statsOf(column(r.signRelay, func(x relayRun) time.Duration { return x.running })))
	row("  relay: ceremony.Run in a party", statsOf(column(r.signRelay, func(x relayRun) time.Duration { return x.engine })))
	row("  memory: ceremony.Run (longest)", statsOf(column(r.signMem, func(x memRun) time.Duration { return x.engine })))
	cr := statsOf(column(r.signRelay, func(x relayRun) time.Duration { return x.cpu }))
	cm := statsOf(column(r.signMem, func(x memRun) time.Duration { return x.cpu }))
	if cr.mean > 0 {
		row("  relay: CPU, all 5 processes", cr)
		row("  memory: CPU", cm)
	}
	ratio := sr.p50 / sm.p50
	verdict := "met"
	if ratio > o.target {
		verdict = "missed"
	}
	p("  ratio relay/memory: p50 %.3f, mean %.3f   (relay − memory, p50: %+.0f ms)", ratio, sr.mean/sm.mean, sr.p50-sm.p50)
	p("  median of the %d per-round ratios (each relay sign over the memory sign right after it): %.3f", sr.n, pairRatio(r.signRelay, r.signMem))
	p("  ratio of the fastest runs (min relay / min memory), the least disturbed by other work: %.3f", sr.min/sm.min)
	p("  target ≤ %.2f (p50 ratio): %s", o.target, verdict)
	if noisy := 100 * sm.sd / sm.mean; noisy > 10 {
		p("  NOTE: the memory signs alone vary by %.0f%% (sd/mean; a few %% on an idle machine): other work was", noisy)
		p("  competing for the CPUs, so these wall-time ratios are noisy. Rerun on an idle machine, or read")
		p("  the ratio of the fastest runs and the CPU time below.")
	}
	if cr.mean > 0 {
		p("  CPU time per sign (user+sys, whatever the machine's load): relay/memory mean %.3f (%+.0f ms)", cr.mean/cm.mean, cr.mean-cm.mean)
	}
	if len(r.cli) > 0 {
		c := statsOf(column(r.cli, func(x cliRun) time.Duration { return x.wall }))
		e := statsOf(column(r.cli, func(x cliRun) time.Duration { return time.Duration(x.elapsedMS) * time.Millisecond }))
		p("")
		p("  `paratro wallet sign --output json` as a command (not in the ratio):")
		head()
		row("CLI wall time (whole command)", c)
		row("CLI elapsed_ms (same measure as relay)", e)
		p("  the difference (p50 %.0f ms) is process start, argon2id unlock of the file keyring, reading the", c.p50-e.p50)
		p("  home, and checking the signature: paid once per command, not by the ceremony.")
	}

	if r.hop != nil {
		r.hop.print(w, r.traffic, sr.p50, sm.p50)
	}
	if len(r.dkgRelay) > 0 {
		p("")
		p("DKG (2-of-3 keygen, every party takes part)")
		head()
		dr := statsOf(column(r.dkgRelay, func(x relayRun) time.Duration { return x.total }))
		dm := statsOf(column(r.dkgMem, func(x memRun) time.Duration { return x.total }))
		row("relay  (request → all outcomes)", dr)
		row("memory (ceremony.Run × 3)", dm)
		row("  relay: approvals (→ start posted)", statsOf(column(r.dkgRelay, func(x relayRun) time.Duration { return x.approvals })))
		row("  relay: ceremony.Run in a party", statsOf(column(r.dkgRelay, func(x relayRun) time.Duration { return x.engine })))
		p("  ratio relay/memory: p50 %.3f, mean %.3f   (relay − memory, p50: %+.0f ms)", dr.p50/dm.p50, dr.mean/dm.mean, dr.p50-dm.p50)
		p("  CMP keygen draws Paillier safe primes: its time varies run to run by seconds (see sd/mean, min,")
		p("  max), so with %d runs each this ratio is a rough indication only; the sign ratio is the measure.", dr.n)
	}
}

// pairRatio is the median of relay[i]/memory[i]: each pair ran back to back,
// so it is less sensitive than the ratio of p50s to load that changes
// during the run.
func pairRatio(relay []relayRun, memory []memRun) float64 {
	var rs []float64
	for i := range min(len(relay), len(memory)) {
		rs = append(rs, float64(relay[i].total)/float64(memory[i].total))
	}
	if len(rs) == 0 {
		return math.NaN()
	}
	slices.Sort(rs)
	if len(rs)%2 == 1 {
		return rs[len(rs)/2]
	}
	return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
}
