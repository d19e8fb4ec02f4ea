// Command gen-docs writes paratro's man pages and shell completion scripts
// from the cobra command tree. scripts/gen-docs.sh runs it into man/ and
// completions/, which are committed; main_test.go fails when they are stale.
//
// Usage:
//
//	gen-docs --man DIR --completions DIR
//
// The output depends on nothing but the command tree: the same sources give
// the same bytes, on any machine, on any day.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/paratro/paratro/internal/cli"
	"github.com/paratro/paratro/internal/iostreams"
)

// manDate is the date in the header of every man page. It is fixed, not
// taken from the clock or SOURCE_DATE_EPOCH, so that regenerating the pages
// gives the same bytes and the staleness test only fails when the commands
// changed. Move it forward when a release changes the pages, if you like.
const manDate = "2026-11-01"

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "gen-docs: %v\n", err)
		os.Exit(1)
	}
}

// run parses args and writes what they ask for.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen-docs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manDir := fs.String("man", "", "write man pages (section 1) into `DIR`")
	compDir := fs.String("completions", "", "write bash, zsh, fish and PowerShell completions into `DIR`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || (*manDir == "" && *compDir == "") {
		return errors.New("usage: gen-docs --man DIR --completions DIR")
	}
	if *manDir != "" {
		if err := genMan(newRoot(), *manDir); err != nil {
			return fmt.Errorf("man pages: %w", err)
		}
	}
	if *compDir != "" {
		if err := genCompletions(newRoot(), *compDir); err != nil {
			return fmt.Errorf("completions: %w", err)
		}
	}
	return nil
}

// newRoot returns the real command tree, built on the real factory but with
// streams that are not a terminal, so nothing about this machine leaks in.
func newRoot() *cobra.Command {
	f := cli.New()
	f.IO, _, _, _ = iostreams.Test()
	root := cli.NewCmdRoot(f)
	disableAutoGenTag(root)
	return root
}

// disableAutoGenTag drops cobra's "Auto generated … on <date>" lines.
func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}

// genMan writes one page per available command, paratro.1,
// paratro-version.1 and so on.
func genMan(root *cobra.Command, dir string) error {
	date, err := time.Parse(time.DateOnly, manDate)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return doc.GenManTree(root, &doc.GenManHeader{
		Title:   "PARATRO",
		Section: "1",
		Date:    &date,
		Source:  "paratro",
		Manual:  "paratro manual",
	}, dir)
}

// genCompletions writes paratro.bash (bash-completion V2, with
// descriptions), paratro.zsh, paratro.fish and paratro.ps1.
func genCompletions(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gens := []struct {
		file string
		gen  func() error
	}{
		{"paratro.bash", func() error { return root.GenBashCompletionFileV2(filepath.Join(dir, "paratro.bash"), true) }},
		{"paratro.zsh", func() error { return root.GenZshCompletionFile(filepath.Join(dir, "paratro.zsh")) }},
		{"paratro.fish", func() error { return root.GenFishCompletionFile(filepath.Join(dir, "paratro.fish"), true) }},
		{"paratro.ps1", func() error { return root.GenPowerShellCompletionFileWithDesc(filepath.Join(dir, "paratro.ps1")) }},
	}
	for _, g := range gens {
		if err := g.gen(); err != nil {
			return fmt.Errorf("%s: %w", g.file, err)
		}
	}
	return nil
}
