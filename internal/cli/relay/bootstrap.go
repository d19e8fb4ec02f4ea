package relaycmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
)

// BootstrapOptions are the inputs of bootstrapRun.
type BootstrapOptions struct {
	IO     *iostreams.IOStreams
	Format output.Format

	DataDir     string        // absolute
	Owner       string        // FILE, or - for stdin
	Fingerprint string        // the owner's, lower case without spaces; "" to ask
	Wait        time.Duration // for a running relay to take the file
	Poll        time.Duration // how often to look while waiting
}

// NewCmdBootstrap returns the "relay bootstrap" command. runF replaces
// bootstrapRun in tests; pass nil for the real one.
func NewCmdBootstrap(f *cmdutil.Factory, runF func(context.Context, *BootstrapOptions) error) *cobra.Command {
	opts := &BootstrapOptions{IO: f.IO, Poll: 100 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "bootstrap --owner FILE|- [--data DIR] [--fingerprint FP]",
		Short: "Make the relay's first owner, on the relay host",
		Long: `Make the first owner of a relay that has none: the operator whose public
identity is in FILE (what "paratro identity show --output json" printed on
their machine; - reads it from stdin). That owner then admits everyone
else with paratro operator add.

Run it on the relay host, with the relay's --data directory. It leaves the
identity in bootstrap-owner.json there; a running relay takes it within a
second, and a relay that is not running takes it when it starts. This
command waits up to --wait for a running relay and says what happened.
The relay accepts a bootstrap only while it has no owner: once it has
one, the file is renamed bootstrap-owner.json.refused and the relay's log
says why.

Check the fingerprint with the future owner over another channel first,
and give it with --fingerprint (spaces allowed); on a terminal without
--fingerprint, paratro shows it and asks.

Security: nothing secret is involved, and no request goes over the
network: whoever can write the relay's data directory (the relay host's
administrator) can bootstrap, and nobody else can. Keep that directory
mode 0700, owned by the relay's user (the relay refuses one that others
can write).`,
		Example: `  $ paratro relay bootstrap --data /var/lib/paratro --owner ana.json --fingerprint "3f9a 11c2 7e04 b8d1"
  $ ssh ana@laptop paratro identity show --output json | paratro relay bootstrap --owner - --fingerprint 3f9a11c27e04b8d1`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := fillBootstrapOptions(cmd, f, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return bootstrapRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Owner, "owner", "", "the first owner's public identity, in `FILE` (- for stdin)")
	fl.StringVar(&opts.DataDir, "data", "", "the relay's data `DIR` (default: as for relay serve)")
	fl.StringVar(&opts.Fingerprint, "fingerprint", "", "the fingerprint the owner read to you; the identity must match it")
	fl.DurationVar(&opts.Wait, "wait", 10*time.Second, "wait this long for a running relay to take the owner (0: do not wait)")
	return cmd
}

// fillBootstrapOptions checks the flags and completes opts.
func fillBootstrapOptions(cmd *cobra.Command, f *cmdutil.Factory, opts *BootstrapOptions) error {
	if opts.Owner == "" {
		return cmdutil.FlagErrorf("give --owner FILE: the first owner's identity (paratro identity show --output json), or - for stdin")
	}
	if opts.Wait < 0 {
		return cmdutil.FlagErrorf("--wait must not be negative")
	}
	opts.Fingerprint = strings.ToLower(strings.Join(strings.Fields(opts.Fingerprint), ""))
	if opts.Fingerprint == "" && opts.Owner == "-" {
		return cmdutil.FlagErrorf("give --fingerprint with --owner -: stdin carries the identity, so there is no way to ask")
	}
	if opts.Fingerprint == "" && !f.IO.CanPrompt() {
		return cmdutil.FlagErrorf("give --fingerprint FP: the fingerprint the owner read to you (there is no terminal to ask)")
	}
	dir := opts.DataDir
	if dir == "" {
		var err error
		if dir, err = defaultDataDir(homeFlag(cmd), f.Getenv, os.UserHomeDir, runtime.GOOS); err != nil {
			return cmdutil.WithHint(err, "give --data DIR")
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	opts.DataDir, opts.Format = abs, cmdutil.OutputFormat(cmd)
	return nil
}

// bootstrapJSON is the --output json of relay bootstrap.
type bootstrapJSON struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	DataDir     string `json:"data_dir"`
	// Status is "owner" (a running relay made them owner) or "waiting"
	// (no relay took the file in time: the next relay started on DataDir will).
	Status string `json:"status"`
}

// bootstrapRun leaves the owner for the relay and waits for its verdict.
func bootstrapRun(ctx context.Context, opts *BootstrapOptions) error {
	pub, err := readOwner(opts)
	if err != nil {
		return err
	}
	if err := checkOwnerFingerprint(opts, pub); err != nil {
		return err
	}
	if err := relay.WriteBootstrap(opts.DataDir, pub); err != nil {
		return fmt.Errorf("relay bootstrap: %w", err)
	}
	taken, err := awaitBootstrap(ctx, opts)
	if err != nil {
		return err
	}
	status := "waiting"
	if taken {
		status = "owner"
	}
	if opts.Format == output.FormatJSON {
		return output.JSON(opts.IO.Out, bootstrapJSON{Name: pub.Name, Fingerprint: pub.Fingerprint(), DataDir: opts.DataDir, Status: status})
	}
	if taken {
		fmt.Fprintf(opts.IO.Out, "%s (%s) is now the owner of this relay\n", pub.Name, pub.DisplayFingerprint())
		fmt.Fprintf(opts.IO.ErrOut, "next: %s admits the other operators with paratro operator add NAME --role ROLE\n", pub.Name)
		return nil
	}
	fmt.Fprintf(opts.IO.Out, "the relay is not running; %s becomes the owner when it starts\n", pub.Name)
	fmt.Fprintf(opts.IO.ErrOut, "(no relay on %s took %s within %s)\n", opts.DataDir, relay.BootstrapFile, opts.Wait)
	return nil
}

// readOwner reads and checks the owner's public identity.
func readOwner(opts *BootstrapOptions) (identity.Public, error) {
	var r io.Reader = opts.IO.In
	if opts.Owner != "-" {
		f, err := os.Open(opts.Owner)
		if err != nil {
			return identity.Public{}, fmt.Errorf("relay bootstrap: %w", err)
		}
		defer f.Close()
		r = f
	}
	var pub identity.Public
	if err := json.NewDecoder(io.LimitReader(r, 64<<10)).Decode(&pub); err != nil {
		return identity.Public{}, cmdutil.WithHint(fmt.Errorf("%s is not an identity: %w", opts.Owner, err),
			"the owner makes it with paratro identity show --output json")
	}
	return pub, nil
}

// checkOwnerFingerprint compares pub with --fingerprint, or asks.
func checkOwnerFingerprint(opts *BootstrapOptions, pub identity.Public) error {
	if opts.Fingerprint != "" {
		if opts.Fingerprint != pub.Fingerprint() {
			return fmt.Errorf("the identity of %s has fingerprint %s, not %s: do not make it owner; ask %s to send it again",
				pub.Name, pub.DisplayFingerprint(), identity.GroupFingerprint(opts.Fingerprint), pub.Name)
		}
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s's fingerprint is %s\nDoes it match what %s read to you? [y/N] ", pub.Name, pub.DisplayFingerprint(), pub.Name)
	line, _ := cmdutil.ReadLine(opts.IO.In, 16)
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return fmt.Errorf("not bootstrapped: %s's fingerprint was not confirmed", pub.Name)
	}
	return nil
}

// awaitBootstrap waits up to opts.Wait for a running relay to take the
// bootstrap file: true once it did, an error if it refused it, false if
// the file is still there.
func awaitBootstrap(ctx context.Context, opts *BootstrapOptions) (bool, error) {
	path := filepath.Join(opts.DataDir, relay.BootstrapFile)
	deadline := time.Now().Add(opts.Wait)
	for {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(path + relay.RefusedSuffix); err == nil {
				return false, refused(opts.DataDir)
			}
			return true, nil
		}
		if !time.Now().Before(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(opts.Poll):
		}
	}
}

// refused is the error for a bootstrap the relay refused, with its reason
// from the relay's audit log when it can be read.
func refused(dir string) error {
	reason := "the relay's log says why"
	entries, _ := audit.ReadAll(filepath.Join(dir, "audit.log"))
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Event == audit.EventBootstrap {
			if e.Outcome == "refused" && e.Detail != "" {
				reason = e.Detail
			}
			break
		}
	}
	return fmt.Errorf("the relay refused the bootstrap: %s", reason)
}

// keepServer returns a relay.Config.Setup that records the relay's Server
// in *srv and then runs setup (when not nil), so that relay serve can
// describe the relay once it listens.
func keepServer(setup func(*relay.Server) error, srv **relay.Server) func(*relay.Server) error {
	return func(s *relay.Server) error {
		*srv = s
		if setup != nil {
			return setup(s)
		}
		return nil
	}
}

// startupNotes tells the relay host's administrator the relay's own
// identity (which parties trust to accept ceremonies it starts on API
// requests) and, while the relay has no owner, how to make one.
func startupNotes(w io.Writer, srv *relay.Server, dataDir string) {
	if srv == nil {
		return
	}
	if self := srv.Self(); self != nil {
		fmt.Fprintf(w, "relay identity  %s (%s): parties that accept API requests trust it with paratro identity add --from-relay --fingerprint %s\n",
			self.Name, self.DisplayFingerprint(), self.Fingerprint())
	}
	if owner, err := srv.HasOwner(); err == nil && !owner {
		fmt.Fprintf(w, "bootstrap: no owner yet; run \"paratro relay bootstrap --data %s --owner IDENTITY.json\" on this host\n", dataDir)
	}
}
