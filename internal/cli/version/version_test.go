package version_test

import (
	"encoding/json"
	"errors"
	"runtime"
	"testing"

	"github.com/paratro/paratro/internal/build"
	"github.com/paratro/paratro/internal/cli/clitest"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/version"
	"github.com/paratro/paratro/internal/output"
)

// stamped returns options as a release build would fill them.
func stamped(f *cmdutil.Factory, format output.Format) *version.VersionOptions {
	return &version.VersionOptions{
		IO: f.IO, Output: format,
		Version: "1.2.0", Commit: "3f9c2e1", Date: "2026-11-21T10:00:00Z",
		GoVersion: "go1.26.8", Platform: "linux/amd64",
	}
}

func TestVersionRunPrintsOneLineOnTerminalsAndPipesAlike(t *testing.T) {
	const want = "paratro 1.2.0 (commit 3f9c2e1, built 2026-11-21T10:00:00Z, go1.26.8 linux/amd64)\n"
	for _, tty := range []bool{true, false} {
		name := map[bool]string{true: "on a terminal", false: "in a pipe"}[tty]
		t.Run(name, func(t *testing.T) {
			f, stdout, stderr := clitest.NewFactory(t)
			f.IO.SetStdoutTTY(tty)
			if err := version.Run(stamped(f, output.FormatTable)); err != nil {
				t.Fatal(err)
			}
			if stdout.String() != want || stderr.Len() != 0 {
				t.Errorf("stdout=%q stderr=%q, want %q and nothing", stdout, stderr, want)
			}
		})
	}
}

func TestVersionRunPrintsJSON(t *testing.T) {
	f, stdout, _ := clitest.NewFactory(t)
	if err := version.Run(stamped(f, output.FormatJSON)); err != nil {
		t.Fatal(err)
	}
	clitest.Golden(t, "version-json", stdout.Bytes())
}

func TestNewCmdVersionFillsOptionsFromTheBuild(t *testing.T) {
	f, _, _ := clitest.NewFactory(t)
	var got *version.VersionOptions
	cmd := version.NewCmdVersion(f, func(o *version.VersionOptions) error { got = o; return nil })
	cmd.SetArgs([]string{})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := version.VersionOptions{
		IO: f.IO, Output: output.FormatTable,
		Version: build.Version, Commit: build.Commit, Date: build.Date,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	if *got != want {
		t.Errorf("options = %+v\nwant %+v", *got, want)
	}
}

func TestVersionThroughTheRootCommand(t *testing.T) {
	t.Run("--output json reaches the command", func(t *testing.T) {
		f, _, _ := clitest.NewFactory(t)
		stdout, stderr, err := clitest.Run(t, f, "version --output json")
		if err != nil || stderr != "" {
			t.Fatalf("err=%v stderr=%q", err, stderr)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		if got["version"] != build.Version || got["go"] != runtime.Version() || len(got) != 5 {
			t.Errorf("json = %v", got)
		}
	})
	t.Run("an argument is a usage error", func(t *testing.T) {
		f, _, _ := clitest.NewFactory(t)
		stdout, _, err := clitest.Run(t, f, "version extra")
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) || stdout != "" {
			t.Errorf("err=%T %v stdout=%q, want a FlagError and no output", err, err, stdout)
		}
	})
}
