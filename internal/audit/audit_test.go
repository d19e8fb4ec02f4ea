package audit_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/paratro/paratro/internal/audit"
)

// writeLog appends n entries to a fresh log and returns its path.
func writeLog(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "audit.log")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range n {
		if _, err := l.Append(audit.Entry{Event: audit.EventRequest, Actor: "ana", Wallet: fmt.Sprintf("w%d", i),
			Kind: "sign", Parties: []string{"ana", "ben"}}); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b[:len(b)-1], []byte("\n"))
}

func write(t *testing.T, path string, ls [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(ls, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantBad checks that Verify fails naming line.
func wantBad(t *testing.T, path string, line int, problem string) {
	t.Helper()
	n, err := audit.Verify(path)
	var ve *audit.VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("Verify = %d, %v; want a VerifyError", n, err)
	}
	if ve.Line != line || n != line-1 || !strings.Contains(ve.Problem, problem) {
		t.Fatalf("Verify = %d, %v; want line %d (%q) after %d good entries", n, err, line, problem, line-1)
	}
}

func TestAppendThenVerify(t *testing.T) {
	path := writeLog(t, 5)
	n, err := audit.Verify(path)
	if err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v; want 5, nil", n, err)
	}
	es, err := audit.ReadAll(path)
	if err != nil || len(es) != 5 || es[0].Prev != audit.ZeroHash || es[4].Seq != 5 || es[2].Wallet != "w2" {
		t.Fatalf("ReadAll = %+v, %v", es, err)
	}
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, _ := os.Stat(p)
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; want no access for group or others", p, fi.Mode())
		}
	}
}

func TestVerifyNamesTheFirstBadLine(t *testing.T) {
	t.Run("editing any one byte of any line is found on that line", func(t *testing.T) {
		path := writeLog(t, 4)
		orig := lines(t, path)
		for li := range orig {
			for bi := 0; bi < len(orig[li])-1; bi++ {
				ls := lines(t, path)
				ls[li] = bytes.Clone(orig[li])
				ls[li][bi] ^= 0x01
				cp := filepath.Join(t.TempDir(), "edited.log")
				write(t, cp, ls)
				n, err := audit.Verify(cp)
				var ve *audit.VerifyError
				if !errors.As(err, &ve) || ve.Line != li+1 || n != li {
					t.Fatalf("line %d byte %d flipped: Verify = %d, %v", li+1, bi, n, err)
				}
			}
		}
	})
	t.Run("deleting a line breaks the link of the next", func(t *testing.T) {
		path := writeLog(t, 4)
		ls := lines(t, path)
		write(t, path, append(ls[:1:1], ls[2:]...))
		wantBad(t, path, 2, "broken link")
	})
	t.Run("deleting the first line is found", func(t *testing.T) {
		path := writeLog(t, 3)
		write(t, path, lines(t, path)[1:])
		wantBad(t, path, 1, "first entry")
	})
	t.Run("swapping two lines is found at the first", func(t *testing.T) {
		path := writeLog(t, 4)
		ls := lines(t, path)
		ls[1], ls[2] = ls[2], ls[1]
		write(t, path, ls)
		wantBad(t, path, 2, "broken link")
	})
	t.Run("truncating the last line is found", func(t *testing.T) {
		path := writeLog(t, 3)
		b, _ := os.ReadFile(path)
		os.WriteFile(path, b[:len(b)-10], 0o600)
		wantBad(t, path, 3, "truncated")
		if _, err := audit.Open(path); err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("Open of a truncated log = %v; want a refusal", err)
		}
	})
}

func TestReopenContinuesTheChain(t *testing.T) {
	path := writeLog(t, 2)
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := l.Append(audit.Entry{Event: audit.EventOutcome, Outcome: "ok"})
	l.Close()
	if err != nil || e.Seq != 3 {
		t.Fatalf("Append after reopen = %+v, %v; want seq 3", e, err)
	}
	if n, err := audit.Verify(path); err != nil || n != 3 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func TestConcurrentAppendsKeepAValidChain(t *testing.T) {
	path := writeLog(t, 0)
	l1, _ := audit.Open(path)
	l2, _ := audit.Open(path) // a second handle: only the flock orders it with l1
	defer l1.Close()
	defer l2.Close()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := l1
			if i%2 == 1 {
				l = l2
			}
			if _, err := l.Append(audit.Entry{Event: audit.EventApproved, Detail: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, err := audit.Verify(path); err != nil || n != 40 {
		t.Fatalf("Verify = %d, %v; want 40, nil", n, err)
	}
}

func TestTextIsSanitised(t *testing.T) {
	path := writeLog(t, 0)
	l, _ := audit.Open(path)
	defer l.Close()
	e, err := l.Append(audit.Entry{Event: audit.EventRejected, Detail: "no\x1b[31m\nway", Parties: []string{"a\x07b"}})
	if err != nil || e.Detail != "no[31m way" || e.Parties[0] != "ab" {
		t.Fatalf("Append = %+v, %v", e, err)
	}
}
