//go:build unix

package hygiene

import (
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv marks the test binary started by TestHarden: only there does
// TestHardenChild harden its own process.
const childEnv = "PARATRO_HYGIENE_TEST_CHILD"

// TestHarden runs Harden in a child process (so that this process keeps
// its limits for the other tests) and checks what the child saw.
func TestHarden(t *testing.T) {
	got := runChild(t)
	check(t, got)
}

// TestHardenWithoutIPCLock runs the child without CAP_IPC_LOCK (as root,
// through setpriv): under a finite RLIMIT_MEMLOCK it must not lock and say
// why; with the limit lifted it locks, and keeps working.
func TestHardenWithoutIPCLock(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux to drop CAP_IPC_LOCK")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv")
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		t.Fatal(err)
	}
	drop := []string{setpriv, "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "--"}
	if lim.Cur != unix.RLIM_INFINITY {
		t.Run("limited", func(t *testing.T) {
			got := runChild(t, drop...)
			check(t, got)
			if got.Report.MemoryLocked || !strings.Contains(got.Report.Reason, "RLIMIT_MEMLOCK") {
				t.Errorf("without CAP_IPC_LOCK under RLIMIT_MEMLOCK %d: %+v, want not locked because of the limit", lim.Cur, got.Report)
			}
		})
	}
	if prlimit, err := exec.LookPath("prlimit"); err == nil {
		t.Run("unlimited", func(t *testing.T) {
			if lim.Max != unix.RLIM_INFINITY {
				t.Skipf("the hard RLIMIT_MEMLOCK (%d) cannot be lifted here", lim.Max)
			}
			got := runChild(t, append([]string{prlimit, "--memlock=unlimited:unlimited", "--"}, drop...)...)
			check(t, got)
			if !got.Report.MemoryLocked {
				t.Errorf("without CAP_IPC_LOCK, RLIMIT_MEMLOCK unlimited: %+v, want locked", got.Report)
			}
		})
	}
}

// runChild runs TestHardenChild in a child process, through wrapper (a
// command and its arguments, then the test binary) when given.
func runChild(t *testing.T, wrapper ...string) childResult {
	t.Helper()
	args := append(wrapper, os.Args[0], "-test.run=^TestHardenChild$", "-test.count=1", "-test.v")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var got childResult
	found := false
	for line := range strings.SplitSeq(string(out), "\n") {
		if s, ok := strings.CutPrefix(line, "RESULT "); ok {
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatal(err)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("child printed no result:\n%s", out)
	}
	t.Logf("child: %s (VmLck %d kB)", got.Report, got.VmLckKiB)
	return got
}

// check checks what holds whatever the child could lock.
func check(t *testing.T, got childResult) {
	t.Helper()
	if !got.Report.CoreDumpsOff {
		t.Errorf("report: core dumps not off: %+v", got.Report)
	}
	if got.Core != [2]uint64{0, 0} {
		t.Errorf("RLIMIT_CORE after Harden = %v, want 0/0", got.Core)
	}
	if runtime.GOOS != "linux" {
		return
	}
	if got.Dumpable != 0 {
		t.Errorf("PR_GET_DUMPABLE after Harden = %d, want 0", got.Dumpable)
	}
	if got.Report.MemoryLocked != (got.VmLckKiB > 0) {
		t.Errorf("report says memory locked %v, but VmLck is %d kB", got.Report.MemoryLocked, got.VmLckKiB)
	}
	if !got.Report.MemoryLocked && got.Report.Reason == "" {
		t.Errorf("memory not locked and no reason given")
	}
}

type childResult struct {
	Report   Report
	Core     [2]uint64
	Dumpable int
	VmLckKiB int64
}

// TestHardenChild is the child of TestHarden: it hardens itself, keeps
// working (allocates and touches 128 MiB: with memory locked, new memory
// must still be available) and prints what it sees. (VmLck counts the
// size of the locked mappings, touched or not: with MCL_ONFAULT it is far
// more than is resident.)
func TestHardenChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestHarden in a child process")
	}
	rep, err := Harden()
	if err != nil {
		t.Fatal(err)
	}
	if rep.String() == "" {
		t.Fatal("empty report")
	}
	// Work as a party would after hardening: allocate, touch, collect.
	var keep [][]byte
	for range 32 {
		b := make([]byte, 4<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
	}
	runtime.GC()
	var res childResult
	res.Report = rep
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		t.Fatal(err)
	}
	res.Core = [2]uint64{uint64(lim.Cur), uint64(lim.Max)}
	if runtime.GOOS == "linux" {
		d, err := dumpable()
		if err != nil {
			t.Fatal(err)
		}
		res.Dumpable = d
		res.VmLckKiB = vmLck(t)
	}
	runtime.KeepAlive(keep)
	b, _ := json.Marshal(res)
	t.Logf("report: %s", rep)
	os.Stdout.WriteString("\nRESULT " + string(b) + "\n")
}

// vmLck is the VmLck line of /proc/self/status, in kB.
func vmLck(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if s, ok := strings.CutPrefix(line, "VmLck:"); ok {
			var n int64
			for _, c := range strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "kB")) {
				n = n*10 + int64(c-'0')
			}
			return n
		}
	}
	t.Fatal("no VmLck in /proc/self/status")
	return 0
}

func TestReportString(t *testing.T) {
	for _, c := range []struct {
		r    Report
		want string
	}{
		{Report{CoreDumpsOff: true, MemoryLocked: true}, "core dumps off; memory locked"},
		{Report{CoreDumpsOff: true, Reason: "RLIMIT_MEMLOCK is 8 MiB and no CAP_IPC_LOCK"}, "core dumps off; memory not locked (RLIMIT_MEMLOCK is 8 MiB and no CAP_IPC_LOCK)"},
		{Report{Reason: "not supported on plan9"}, "core dumps not disabled; memory not locked (not supported on plan9)"},
	} {
		if got := c.r.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}
