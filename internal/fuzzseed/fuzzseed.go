// Package fuzzseed adds seed inputs to Go fuzz targets and, on request,
// writes them into the package's testdata/fuzz/<Target>/ corpus in Go's
// corpus format ("go test fuzz v1"), so the seeds made by real encoders are
// committed and replayed by every plain `go test`. Test code only.
//
// Regenerate a package's corpus with
//
//	PARATRO_WRITE_FUZZ_SEEDS=1 go test -run='^Fuzz' ./pkg
package fuzzseed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Env is the variable that makes Add write the corpus files.
const Env = "PARATRO_WRITE_FUZZ_SEEDS"

// Writing reports whether seeds are being written to testdata.
func Writing() bool { return os.Getenv(Env) == "1" }

// Add calls f.Add(args...) and, when Writing, also writes the seed to
// testdata/fuzz/<f.Name()>/seed-<hash>.
func Add(f *testing.F, args ...any) {
	f.Helper()
	f.Add(args...)
	if Writing() {
		Write(f, args...)
	}
}

// Write writes one corpus file for f without adding it as a seed (for
// inputs too costly to make on every run).
func Write(f *testing.F, args ...any) {
	f.Helper()
	WriteFor(f, f.Name(), args...)
}

// WriteFor writes one corpus file for the fuzz target named target of the
// current package (a generator test can fill another target's corpus).
func WriteFor(tb testing.TB, target string, args ...any) {
	tb.Helper()
	b := Marshal(args...)
	sum := sha256.Sum256(b)
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "seed-"+hex.EncodeToString(sum[:8])), b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Marshal encodes args as a corpus file, as the go command does.
func Marshal(args ...any) []byte {
	b := bytes.NewBufferString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(b, "string(%q)\n", v)
		case byte:
			fmt.Fprintf(b, "byte(%q)\n", v)
		case int, int8, int16, int64, uint, uint16, uint32, uint64, bool:
			fmt.Fprintf(b, "%T(%v)\n", v, v)
		default:
			panic(fmt.Sprintf("fuzzseed: unsupported seed type %T", a))
		}
	}
	return b.Bytes()
}
