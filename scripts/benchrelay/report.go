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

// trio is one ceremony measured three ways in the same run.
type trio struct {
	relay     []relayRun
	mem, bare []memRun
}

type results struct {
	sign, dkg3, dkg5 trio
	// signPresig is the relay sign with a presignature (one round): not
	// measured until the presignature pool exists (issue 8); the table
	// shows the row as not measured while it is empty.
	signPresig []relayRun
	cli        []cliRun
	help       []time.Duration
	idleRSS    []rss     // parties registered, no ceremony yet
	busyRSS    []rss     // the same parties, idle again after every ceremony
	load       [2]string // load averages before and after
	traffic    *traffic
	hop        *hopResult
}

// stats of a sample, in milliseconds. Percentiles are nearest-rank: with
// fewer than 20 runs p95 is the largest, with fewer than 100 so is p99.
type stats struct {
	n                             int
	p50, p95, p99, mean, min, max float64
	sd                            float64
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
	s := stats{n: len(v), p50: rank(0.50), p95: rank(0.95), p99: rank(0.99), min: v[0], max: v[len(v)-1]}
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

// row is one line of the table: wall times of a measurement and the CPU
// time of each run (user+sys of every process it involved), or why it has
// no figures.
type row struct {
	name    string
	wall    []time.Duration
	cpu     []time.Duration // nil: not measured
	missing string          // why there are no figures
	target  string
}

func relayRow(name string, rs []relayRun) row {
	return row{name: name, wall: column(rs, func(x relayRun) time.Duration { return x.total }),
		cpu: column(rs, func(x relayRun) time.Duration { return x.cpu })}
}

func memRow(name string, ms []memRun) row {
	return row{name: name, wall: column(ms, func(x memRun) time.Duration { return x.total }),
		cpu: column(ms, func(x memRun) time.Duration { return x.cpu })}
}

// cpuMean is the mean CPU time in ms, or 0 where it was not measured (no
// /proc: every run reads 0).
func (r row) cpuMean() float64 { return statsOf(r.cpu).mean }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func (r *results) print(w io.Writer, o options) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	const wide = 46
	// unit is 1 for ms, 1000 for s
	line := func(unit float64, x row) {
		if len(x.wall) == 0 {
			p("  %-*s %4s  %-44s %s", wide, x.name, "-", "not measured: "+x.missing, x.target)
			return
		}
		s := statsOf(x.wall)
		cpu := "      -"
		if c := x.cpuMean(); c > 0 {
			cpu = fmt.Sprintf("%7.2f", c/1000)
		}
		p("  %-*s %4d %9.*f %9.*f %9.*f %s %s", wide, x.name, s.n, prec(unit), s.p50/unit, prec(unit), s.p95/unit,
			prec(unit), s.p99/unit, cpu, x.target)
	}
	ratio := func(name string, num, den row, target float64) {
		if len(num.wall) == 0 || len(den.wall) == 0 {
			return
		}
		n, d := statsOf(num.wall), statsOf(den.wall)
		cpu := ""
		if nc, dc := num.cpuMean(), den.cpuMean(); nc > 0 && dc > 0 {
			cpu = fmt.Sprintf("CPU %.3f", nc/dc)
		}
		t := ""
		if target > 0 {
			t = fmt.Sprintf("target <= %.2fx (p50): %s", target, verdict(n.p50/d.p50 <= target))
		}
		p("  %-*s      p50 %.3f  mean %.3f  %-10s %s", wide, name, n.p50/d.p50, n.mean/d.mean, cpu, t)
	}
	head := func(title, unit string) {
		p("")
		p("%-*s %4s %9s %9s %9s %7s %s", wide+2, title, "n", "p50 "+unit, "p95 "+unit, "p99 "+unit, "CPU s", "target")
	}

	p("")
	p("PARATRO BENCHMARKS  (%d CPUs, %s/%s, %s; load average %s before, %s after)", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		runtime.Version(), orDash(r.load[0]), orDash(r.load[1]))
	p("relay: relay and every party a separate `paratro` process on 127.0.0.1; in-memory: the ceremony engine, every")
	p("party in this process; bare: the threshold library alone. Wall time request -> result; CPU s: mean user+sys")
	p("per run of every process involved. Runs of the three alternate.")

	head("SIGN 2-of-3 ECDSA (CMP)", "ms")
	signRelay := relayRow("relay, full protocol (request -> signature)", r.sign.relay)
	presig := relayRow("relay, with a presignature", r.signPresig)
	presig.target = "p50 <= 10 ms, p99 <= 30 ms"
	if len(r.signPresig) == 0 {
		presig.missing = "skipped (-presigs 0)"
	}
	signMem := memRow("in-memory engine, one process", r.sign.mem)
	signBare := memRow("bare library, one process", r.sign.bare)
	for _, x := range []row{signRelay, presig, signMem, signBare} {
		line(1, x)
	}
	ratio("relay / in-memory", signRelay, signMem, o.target)
	if len(r.sign.relay) > 0 {
		p("  %-*s      %.3f", wide, "  median of per-round ratios (back to back)", pairRatio(r.sign.relay, r.sign.mem))
	}
	ratio("in-memory / bare library", signMem, signBare, 0)
	if len(r.cli) > 0 {
		line(1, row{name: "`wallet sign` command, whole (not in ratio)", wall: column(r.cli, func(x cliRun) time.Duration { return x.wall })})
	}

	for _, d := range []struct {
		title string
		t     trio
		n     int
	}{{"DKG 2-of-3 ECDSA (CMP keygen)", r.dkg3, 3}, {"DKG 3-of-5 ECDSA (CMP keygen)", r.dkg5, 5}} {
		head(d.title, "s")
		rr := relayRow(fmt.Sprintf("relay, %d party processes", d.n), d.t.relay)
		mr := memRow("in-memory engine, one process", d.t.mem)
		br := memRow("bare library, one process", d.t.bare)
		if len(d.t.relay) == 0 {
			rr.missing, mr.missing, br.missing = "-dkgs/-dkgs5 0", "-dkgs/-dkgs5 0", "-dkgs/-dkgs5 0"
		}
		for _, x := range []row{rr, mr, br} {
			line(1000, x)
		}
		ratio("relay / in-memory", rr, mr, o.target)
		ratio("in-memory / bare library", mr, br, 0)
	}
	if len(r.dkg3.relay)+len(r.dkg5.relay) > 0 {
		p("  Keygen draws Paillier safe primes: its wall and CPU time vary by seconds from run to run, so with few")
		p("  runs the DKG ratios are indications; the CPU ratio is the steadier of the two.")
	}

	p("")
	p("START-UP AND MEMORY")
	if len(r.help) > 0 {
		h := statsOf(r.help)
		med := median(r.help)
		p("  %-*s %4d %9.1f ms (min %.1f, max %.1f)              target <= 20 ms: %s", wide, "`paratro --help`, fork to exit (median)",
			h.n, med, h.min, h.max, verdict(med <= 20))
	}
	rssLine := func(name string, rs []rss, target bool) {
		if len(rs) == 0 {
			p("  %-*s    -  not measured: no /proc", wide, name)
			return
		}
		var now, peak int64
		var who []string
		for _, x := range rs {
			now, peak = max(now, x.now), max(peak, x.peak)
			who = append(who, x.name)
		}
		t := ""
		if target {
			t = "target <= 40 MB: " + verdict(mb(now) <= 40)
		}
		p("  %-*s %4d %9.1f MB (VmHWM %.1f MB; max of %s)  %s", wide, name, len(rs), mb(now), mb(peak), strings.Join(who, ", "), t)
	}
	rssLine("idle `party run` VmRSS, registered, no ceremony", r.idleRSS, true)
	rssLine("idle `party run` VmRSS after every ceremony", r.busyRSS, false)

	if r.hop != nil {
		r.hop.print(w, r.traffic, statsOf(signRelay.wall).p50, statsOf(signMem.wall).p50)
	}
}

func prec(unit float64) int {
	if unit >= 1000 {
		return 2
	}
	return 0
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// mb is KiB in megabytes (10^6 bytes).
func mb(kib int64) float64 { return float64(kib) * 1024 / 1e6 }

// median of ds in milliseconds.
func median(ds []time.Duration) float64 {
	v := column(ds, func(d time.Duration) time.Duration { return d })
	slices.Sort(v)
	n := len(v)
	m := v[n/2]
	if n%2 == 0 {
		m = (v[n/2-1] + v[n/2]) / 2
	}
	return float64(m) / float64(time.Millisecond)
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
