// Package clitest runs paratro commands in tests: a Factory on buffers and a
// fixed clock, Run to execute a command line through the real root command,
// and Golden to compare output with files under testdata.
//
// A test package that imports clitest gets its -update flag; it must not
// define another flag of that name.
package clitest

import (
	"bytes"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/cli"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
)

// Now is the fixed time of every factory made by NewFactory.
var Now = time.Date(2026, time.November, 21, 9, 30, 0, 0, time.UTC)

// NewFactory returns a Factory whose streams are buffers (none of them a
// terminal; flip them with f.IO.SetStdoutTTY and friends) and whose clock
// always says Now. It returns the stdout and stderr buffers too; stdin is
// empty.
func NewFactory(t testing.TB) (f *cmdutil.Factory, stdout, stderr *bytes.Buffer) {
	t.Helper()
	ios, _, stdout, stderr := iostreams.Test()
	f = &cmdutil.Factory{
		IO:     ios,
		Now:    func() time.Time { return Now },
		Getenv: func(string) string { return "" },
	}
	return f, stdout, stderr
}

// Run executes argv, a command line without the leading "paratro", through
// the real root command built on f, and returns what was written to stdout
// and stderr and the error the command returned (not printed: Main prints
// errors, and Main is tested by the scripts in cmd/paratro). argv is split
// as by a shell: on blanks, with single or double quotes grouping words and
// a backslash escaping the next character outside single quotes.
//
// f's streams must be the buffers of NewFactory; Run empties them first.
func Run(t testing.TB, f *cmdutil.Factory, argv string) (stdout, stderr string, err error) {
	t.Helper()
	args, splitErr := Split(argv)
	if splitErr != nil {
		t.Fatalf("clitest.Run(%q): %v", argv, splitErr)
	}
	out, errOut := buffer(t, f.IO.Out), buffer(t, f.IO.ErrOut)
	out.Reset()
	errOut.Reset()
	root := cli.NewCmdRoot(f)
	root.SetArgs(args)
	_, err = root.ExecuteContextC(t.Context())
	return out.String(), errOut.String(), err
}

func buffer(t testing.TB, w any) *bytes.Buffer {
	t.Helper()
	b, ok := w.(*bytes.Buffer)
	if !ok {
		t.Fatalf("clitest.Run: factory stream is %T, want the *bytes.Buffer of NewFactory", w)
	}
	return b
}
