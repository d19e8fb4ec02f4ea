// Package version implements "paratro version".
package version

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/build"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// VersionOptions are the inputs of versionRun: the stamp of the binary and
// of the toolchain that built it, filled by the command from internal/build
// and runtime.
type VersionOptions struct {
	IO     *iostreams.IOStreams
	Output output.Format

	Version   string // release version, "dev" for local builds
	Commit    string // git commit
	Date      string // build time, RFC 3339
	GoVersion string // e.g. "go1.26.8"
	Platform  string // GOOS/GOARCH, e.g. "linux/amd64"
}

// NewCmdVersion returns the "version" command. runF replaces versionRun in
// tests; pass nil for the real one.
func NewCmdVersion(f *cmdutil.Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the paratro version",
		Long: `Print the version of this paratro binary, the git commit and date it was
built from, and the Go toolchain and platform it was built for.

Include this line when you report a problem. With --output json the same
facts are printed as an object with the keys version, commit, date, go and
platform.`,
		Example: `  $ paratro version
  paratro 1.2.0 (commit 3f9c2e1, built 2026-11-21T10:00:00Z, go1.26.8 linux/amd64)

  $ paratro version --output json | jq -r .version
  1.2.0`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Output = cmdutil.OutputFormat(cmd)
			opts.Version, opts.Commit, opts.Date = build.Version, build.Commit, build.Date
			opts.GoVersion = runtime.Version()
			opts.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
	return cmd
}

// versionJSON is the --output json form; its keys never change meaning.
type versionJSON struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Date     string `json:"date"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// versionRun prints the version line, the same on a terminal and in a pipe
// so that scripts may read it, or the JSON object.
func versionRun(opts *VersionOptions) error {
	if opts.Output == output.FormatJSON {
		return output.JSON(opts.IO.Out, versionJSON{
			Version:  opts.Version,
			Commit:   opts.Commit,
			Date:     opts.Date,
			Go:       opts.GoVersion,
			Platform: opts.Platform,
		})
	}
	_, err := fmt.Fprintf(opts.IO.Out, "paratro %s (commit %s, built %s, %s %s)\n",
		opts.Version, opts.Commit, opts.Date, opts.GoVersion, opts.Platform)
	return err
}
