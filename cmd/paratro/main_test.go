package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paratro/paratro/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script/*.txtar")

// TestMain lets the test binary act as paratro: scripts run "exec paratro …"
// and get the real entry point, exit status included.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"paratro": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs the user journeys in testdata/script, one txtar each.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Setup:               setup,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exitcode": cmdExitcode,
		},
	})
}

// setup gives every script a home of its own under $WORK, the headless
// keyring and plain output.
func setup(env *testscript.Env) error {
	dirs := map[string]string{
		"HOME":            "home",
		"XDG_CONFIG_HOME": "home/.config",
		"XDG_DATA_HOME":   "home/.local/share",
		"XDG_CACHE_HOME":  "home/.cache",
	}
	for name, rel := range dirs {
		dir := filepath.Join(env.WorkDir, rel)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		env.Setenv(name, dir)
	}
	env.Setenv("PARATRO_KEYRING", "file")
	env.Setenv("NO_COLOR", "1")
	return nil
}

// cmdExitcode is the script command
//
//	exitcode N program [args...]
//
// It runs program like exec does, keeping its stdout and stderr for the
// stdout, stderr and cmp commands that follow, and fails unless the program
// exits with status N exactly ("! exec" only tells zero from non-zero).
// It takes no "!": the status already says what is expected.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("exitcode does not take '!': give the expected status")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
