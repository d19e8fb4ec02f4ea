//go:build linux

package hygiene

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// scrubChildEnv marks the test binary started by TestScrubEnviron; its
// value says whether the child makes itself non-dumpable first.
const scrubChildEnv = "PARATRO_HYGIENE_SCRUB_CHILD"

// TestScrubEnviron starts this test binary as a child with secrets in its
// environment and reads /proc/<child>/environ (the kernel's copy of the
// environment) from here: before the child scrubs, the secrets are there
// (the check can see them); after ScrubEnviron, each named variable is
// still listed with its value blanked to NUL bytes of the same length, and
// nothing else of the block changed (a variable whose name only starts
// like a scrubbed one, values holding '=', the entries around them). The
// child also checks its own view (/proc/self/environ) and that its Go
// environment (os.Getenv) is untouched. Once as a dumpable process, once
// made non-dumpable first, as every paratro command is (a process may
// always write its own memory; it becomes so after the first read, and
// only root can read its environ then: as another user that subtest checks
// only what the child sees).
func TestScrubEnviron(t *testing.T) {
	for _, mode := range []string{"dumpable", "non-dumpable"} {
		t.Run(mode, func(t *testing.T) {
			secret, other := randomHex(t), randomHex(t)
			vars := []string{
				"PARATRO_TEST_BEFORE=before",
				"PARATRO_TEST_SECRET=" + secret,
				"PARATRO_TEST_SECRET_NOT=" + other, // not named: a longer name
				"PARATRO_TEST_EQ=a=b=" + secret,    // named: its whole value
				"PARATRO_TEST_EMPTY=",
				"PARATRO_TEST_AFTER=after",
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestScrubEnvironChild$", "-test.count=1")
			cmd.Env = append(append(os.Environ(), scrubChildEnv+"="+mode), vars...)
			cmd.Stderr = os.Stderr
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			outPipe, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			out := bufio.NewScanner(outPipe)
			expect := func(prefix string) string {
				t.Helper()
				for out.Scan() {
					if s, ok := strings.CutPrefix(out.Text(), prefix); ok {
						return s
					}
				}
				t.Fatalf("the child ended before saying %q", prefix)
				return ""
			}
			environ := func() []byte {
				t.Helper()
				b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid))
				if errors.Is(err, fs.ErrPermission) && mode == "non-dumpable" && os.Geteuid() != 0 {
					return nil // only root reads a non-dumpable process's; the child checked its own
				}
				if err != nil {
					t.Fatalf("read the child's environ: %v", err)
				}
				return b
			}

			expect("READY")
			before := environ()
			for _, kv := range vars {
				if !bytes.Contains(before, []byte("\x00"+kv+"\x00")) {
					t.Fatalf("before the scrub, the child's /proc environ does not hold %q: the check cannot see anything", kv)
				}
			}
			fmt.Fprintln(in, "scrub")
			if msg := expect("SCRUBBED "); msg != "ok" {
				t.Fatalf("the child: %s", msg)
			}
			after := environ()
			if after == nil {
				t.Log("not root: the non-dumpable child's environ is not readable from here; the child checked its own")
				return
			}

			want := bytes.Replace(before, []byte("PARATRO_TEST_SECRET="+secret+"\x00"),
				[]byte("PARATRO_TEST_SECRET="+strings.Repeat("\x00", len(secret))+"\x00"), 1)
			want = bytes.Replace(want, []byte("PARATRO_TEST_EQ=a=b="+secret+"\x00"),
				[]byte("PARATRO_TEST_EQ="+strings.Repeat("\x00", len("a=b="+secret))+"\x00"), 1)
			if bytes.Equal(want, before) {
				t.Fatal("the expected block is the old one")
			}
			if !bytes.Equal(after, want) {
				t.Errorf("after the scrub the child's /proc environ is\n%q\nwant\n%q", after, want)
			}
			if bytes.Contains(after, []byte(secret)) {
				t.Error("the secret is still in the child's /proc environ")
			}
			in.Close()
			if msg := expect("DONE "); msg != "ok" {
				t.Errorf("the child: %s", msg)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("the child: %v", err)
			}
		})
	}
}

// TestScrubEnvironChild is the child of TestScrubEnviron: it says READY,
// scrubs PARATRO_TEST_SECRET, PARATRO_TEST_EQ, PARATRO_TEST_EMPTY and an
// unset name when told to, checks its own /proc/self/environ and Go
// environment, and says what it found.
func TestScrubEnvironChild(t *testing.T) {
	mode := os.Getenv(scrubChildEnv)
	if mode == "" {
		t.Skip("run by TestScrubEnviron in a child process")
	}
	secret := os.Getenv("PARATRO_TEST_SECRET")
	fmt.Println("READY")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() {
		t.Fatal("no go-ahead")
	}
	if mode == "non-dumpable" {
		if err := notDumpable(); err != nil {
			t.Fatal(err)
		}
	}
	msg := "ok"
	if err := ScrubEnviron("PARATRO_TEST_SECRET", "PARATRO_TEST_EQ", "PARATRO_TEST_EMPTY", "PARATRO_TEST_UNSET"); err != nil {
		msg = err.Error()
	} else if b, err := ownEnviron(); err != nil {
		msg = err.Error()
	} else if bytes.Contains(b, []byte(secret)) || !bytes.Contains(b, []byte("\x00PARATRO_TEST_SECRET=\x00")) {
		msg = "the secret is still in /proc/self/environ, or the name is gone"
	}
	fmt.Println("SCRUBBED " + msg)
	for in.Scan() { // until the parent closes stdin
	}
	msg = "ok"
	if os.Getenv("PARATRO_TEST_SECRET") != secret || os.Getenv("PARATRO_TEST_AFTER") != "after" || os.Getenv("PARATRO_TEST_EQ") != "a=b="+secret {
		msg = "the Go environment changed"
	}
	fmt.Println("DONE " + msg)
}

// ownEnviron is /proc/self/environ or, where this process may not open it
// (not dumpable, not root), the same bytes read from its memory.
func ownEnviron() ([]byte, error) {
	b, err := os.ReadFile("/proc/self/environ")
	if !errors.Is(err, fs.ErrPermission) {
		return b, err
	}
	start, end, err := environBounds()
	if err != nil {
		return nil, err
	}
	b = make([]byte, end-start)
	return b, selfMem{fd: -1}.rw(b, start, false)
}

// TestSelfMemWithoutProcMem checks the fallback of a process that cannot
// open /proc/self/mem (process_vm_readv and process_vm_writev): it reads
// the environment block as /proc/self/environ shows it and writes memory.
func TestSelfMemWithoutProcMem(t *testing.T) {
	start, end, err := environBounds()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Fatal(err)
	}
	m := selfMem{fd: -1}
	got := make([]byte, end-start)
	if err := m.rw(got, start, false); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) {
			t.Skipf("process_vm_readv refused here (seccomp?): %v", err)
		}
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("process_vm_readv read %q, /proc/self/environ is %q", got, want)
	}
	buf := []byte("0123456789")
	if err := m.rw([]byte("abc"), uint64(uintptr(unsafe.Pointer(&buf[2]))), true); err != nil {
		t.Fatal(err)
	}
	if string(buf) != "01abc56789" {
		t.Errorf("process_vm_writev: %q", buf)
	}
}

func TestScrubEnvironNothing(t *testing.T) {
	before, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Fatal(err)
	}
	if err := ScrubEnviron(); err != nil {
		t.Error(err)
	}
	if err := ScrubEnviron("PARATRO_TEST_NO_SUCH_VARIABLE"); err != nil {
		t.Error(err)
	}
	if after, _ := os.ReadFile("/proc/self/environ"); !bytes.Equal(before, after) {
		t.Error("scrubbing unset names changed the environment block")
	}
}

func TestEnvironBounds(t *testing.T) {
	start, end, err := environBounds()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Fatal(err)
	}
	if int(end-start) != len(b) {
		t.Errorf("env_end-env_start = %d, /proc/self/environ has %d bytes", end-start, len(b))
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "s3cr3t-" + hex.EncodeToString(b)
}
