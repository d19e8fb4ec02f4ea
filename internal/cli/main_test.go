package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/iostreams"
)

func testFactory() (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	return &cmdutil.Factory{IO: ios, Now: time.Now}, out, errOut
}

func TestRunReportsOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		debug      bool
		wantCode   int
		wantStderr string
	}{
		{"success prints nothing on stderr", []string{"version"}, false, exitcode.OK, ""},
		{"a usage error points at the command's help", []string{"version", "--nope"}, false, exitcode.Usage,
			"paratro: error: unknown flag: --nope\nparatro: hint: see 'paratro version --help'\n"},
		{"an unknown command gets suggestions", []string{"verson"}, false, exitcode.Usage,
			"paratro: error: unknown command \"verson\" for \"paratro\"\nparatro: hint: did you mean 'paratro version'?\nparatro: hint: see 'paratro --help'\n"},
		{"debug lists the chain", []string{"version", "--nope"}, true, exitcode.Usage,
			"paratro: error: unknown flag: --nope\nparatro: hint: see 'paratro version --help'\n" +
				"paratro: debug: *cmdutil.FlagError: unknown flag: --nope\nparatro: debug: *pflag.NotExistError: unknown flag: --nope\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, errOut := testFactory()
			if code := run(t.Context(), f, tt.args, tt.debug); code != tt.wantCode {
				t.Errorf("exit status %d, want %d", code, tt.wantCode)
			}
			if errOut.String() != tt.wantStderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", errOut, tt.wantStderr)
			}
		})
	}
}

func TestRunAfterAnInterruptExits130(t *testing.T) {
	f, _, errOut := testFactory()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if code := run(ctx, f, []string{"no-such-command"}, false); code != exitcode.Interrupted {
		t.Errorf("exit status %d, want %d", code, exitcode.Interrupted)
	}
	if got, want := errOut.String(), "paratro: error: interrupted\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	f, _, _ = testFactory()
	if code := run(ctx, f, []string{"version"}, false); code != exitcode.OK {
		t.Errorf("a command that succeeds despite the interrupt exited %d, want 0", code)
	}
}

// panicWriter fails like a bug would.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom") }

func TestRunTurnsAPanicIntoAnInternalError(t *testing.T) {
	for _, debugOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("debug=%v", debugOn), func(t *testing.T) {
			f, _, errOut := testFactory()
			f.IO.Out = panicWriter{}
			if code := run(t.Context(), f, []string{"version"}, debugOn); code != exitcode.Failure {
				t.Errorf("exit status %d, want 1", code)
			}
			first, rest, _ := strings.Cut(errOut.String(), "\n")
			if first != "paratro: error: internal error: boom" {
				t.Errorf("first line %q", first)
			}
			if hasStack := strings.Contains(rest, "goroutine"); hasStack != debugOn {
				t.Errorf("stack trace printed=%v, want %v:\n%s", hasStack, debugOn, rest)
			}
		})
	}
}

func TestPrintErrorShowsHintsAndDebugChain(t *testing.T) {
	cmd := &cobra.Command{Use: "paratro"}
	cause := &ceremony.Error{Code: ceremony.CodeTimeout, Reason: "waiting for bob"}
	err := cmdutil.WithHint(fmt.Errorf("wallet create: %w", cause), "check that bob runs 'paratro party run'\nthen try again")
	var buf bytes.Buffer
	printError(&buf, cmd, err, true)
	want := `paratro: error: wallet create: timed out: waiting for bob
paratro: hint: check that bob runs 'paratro party run'
paratro: hint: then try again
paratro: debug: *cmdutil.hintError: wallet create: timed out: waiting for bob
paratro: debug: *fmt.wrapError: wallet create: timed out: waiting for bob
paratro: debug: *ceremony.Error: timed out: waiting for bob
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestChainFollowsJoinedErrors(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	got := chain(fmt.Errorf("top: %w", errors.Join(a, b)))
	if len(got) != 4 || got[2] != a || got[3] != b {
		t.Errorf("chain = %v", got)
	}
}

func TestNewBuildsEveryDependency(t *testing.T) {
	f := New()
	if f.IO == nil || f.Now == nil {
		t.Fatalf("New() left a dependency nil: %+v", f)
	}
}
