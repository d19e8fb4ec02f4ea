package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/hygiene"
)

// Main runs paratro on the process's arguments, streams and environment and
// returns the exit status; cmd/paratro passes it to os.Exit. The first
// SIGINT or SIGTERM cancels the command's context (exit status 130 if the
// command then fails); a second one kills the process.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default action: a second signal kills
	}()
	f := New()
	// New took the secret variables out of the Go environment; blank their
	// values in the kernel's copy too (/proc/<pid>/environ), before
	// NoCoreDumps makes /proc/self/mem root's. Best effort: a failure only
	// leaves that copy as it was.
	if err := hygiene.ScrubEnviron(cmdutil.SecretEnv...); err != nil && os.Getenv("PARATRO_DEBUG") == "1" {
		fmt.Fprintf(f.IO.ErrOut, "paratro: debug: %v\n", err)
	}
	// No core dumps from any command: most read a share, a key or a TOTP
	// secret into memory (party run and relay serve also lock memory).
	if err := hygiene.NoCoreDumps(); err != nil {
		fmt.Fprintf(f.IO.ErrOut, "paratro: error: %v\n", err)
		return exitcode.Failure
	}
	return run(ctx, f, os.Args[1:], os.Getenv("PARATRO_DEBUG") == "1")
}

// run executes one command line with f and reports the outcome on
// f.IO.ErrOut. A command that fails after ctx was cancelled was interrupted;
// one that succeeds anyway (a server shutting down cleanly) exits 0. A panic
// on this goroutine is reported as an internal error, with its stack only
// when debugging.
func run(ctx context.Context, f *cmdutil.Factory, args []string, debugOn bool) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(f.IO.ErrOut, "paratro: error: internal error: %v\n", r)
			if debugOn {
				printLines(f.IO.ErrOut, "paratro: debug: ", string(debug.Stack()))
			}
			code = exitcode.Failure
		}
	}()
	root := NewCmdRoot(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitcode.OK
	}
	if ctx.Err() != nil {
		fmt.Fprintln(f.IO.ErrOut, "paratro: error: interrupted")
		printDebug(f.IO.ErrOut, err, debugOn)
		return exitcode.Interrupted
	}
	printError(f.IO.ErrOut, cmd, err, debugOn)
	return exitcode.For(err)
}

// printError writes err as people read it: the message, the hints found
// along its chain, a pointer to --help for usage mistakes and, when asked
// for, every error of the chain.
func printError(w io.Writer, cmd *cobra.Command, err error, debugOn bool) {
	fmt.Fprintf(w, "paratro: error: %s\n", err)
	for _, h := range cmdutil.Hints(err) {
		printLines(w, "paratro: hint: ", h)
	}
	if cmdutil.IsUsageError(err) {
		if s := suggest(cmd, err); s != "" {
			fmt.Fprintf(w, "paratro: hint: did you mean %s?\n", s)
		}
		fmt.Fprintf(w, "paratro: hint: see '%s --help'\n", cmd.CommandPath())
	}
	printDebug(w, err, debugOn)
}

// printDebug writes each error of err's chain, outermost first, with its
// Go type, when debugging is on.
func printDebug(w io.Writer, err error, debugOn bool) {
	if !debugOn {
		return
	}
	for _, e := range chain(err) {
		fmt.Fprintf(w, "paratro: debug: %T: %s\n", e, oneLine(e.Error()))
	}
}

// chain flattens err and everything it wraps, depth first, including the
// branches of errors.Join.
func chain(err error) []error {
	if err == nil {
		return nil
	}
	all := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		all = append(all, chain(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			all = append(all, chain(e)...)
		}
	}
	return all
}

// suggest names the commands close to the one cobra did not know, as
// "'paratro version'", or returns "" for any other error.
func suggest(cmd *cobra.Command, err error) string {
	var typed, path string
	if _, serr := fmt.Sscanf(err.Error(), "unknown command %q for %q", &typed, &path); serr != nil {
		return ""
	}
	var names []string
	for _, s := range cmd.SuggestionsFor(typed) {
		names = append(names, fmt.Sprintf("'%s %s'", cmd.CommandPath(), s))
	}
	return strings.Join(names, " or ")
}

// printLines writes each line of text after prefix.
func printLines(w io.Writer, prefix, text string) {
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(w, "%s%s\n", prefix, l)
	}
}

// oneLine folds a multi-line message onto one line for the debug listing.
func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", " ")
}
