package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// helpTimes runs `paratro --help` n times (after two untimed runs, so the
// binary is in the page cache) and returns each run's wall time, from
// fork to exit as this program sees it.
func (b *bench) helpTimes(ctx context.Context, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := range n + 2 {
		cmd := exec.CommandContext(ctx, b.o.paratro, "--help")
		cmd.Env = b.env
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("paratro --help: %w", err)
		}
		if i >= 2 {
			out = append(out, time.Since(t0))
		}
	}
	return out, nil
}

// rss is a process's resident memory in KiB, now and at its peak.
type rss struct {
	name      string
	now, peak int64 // VmRSS, VmHWM
}

// partyRSS reads VmRSS and VmHWM of the running parties from /proc
// (Linux; none elsewhere).
func (b *bench) partyRSS() []rss {
	var out []rss
	for _, p := range b.procs {
		if p == b.relay {
			continue
		}
		if r, ok := procRSS(p.cmd.Process.Pid); ok {
			r.name = p.name
			out = append(out, r)
		}
	}
	return out
}

func procRSS(pid int) (rss, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rss{}, false
	}
	var r rss
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64) // "1234 kB"
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			r.now = n
		case "VmHWM":
			r.peak = n
		}
	}
	return r, r.now > 0
}
