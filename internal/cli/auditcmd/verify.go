package auditcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
)

// VerifyOptions are the inputs of verifyRun.
type VerifyOptions struct {
	IO   *iostreams.IOStreams
	File string
}

func newCmdVerify(f *cmdutil.Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IO}
	var file string
	cmd := &cobra.Command{
		Use:   "verify [--file PATH]",
		Short: "Check that no audit entry was edited, removed or reordered",
		Long: `Recompute the hash of every entry of the audit log and the link from
each entry to the one before it. An intact log prints "ok: N entries,
chain intact" and exits 0.

Otherwise it names the first bad entry (its line number and seq) and what
is wrong with it, and exits 1:
  - the entry was edited: its hash does not match its contents;
  - broken link or seq gap: an entry before it was removed, inserted or
    the entries were reordered;
  - truncated last line: the file was cut short.
Entries after the first bad one cannot be trusted either.

Entries of ceremonies that failed because a member misbehaved name the
member's signed envelopes this party kept as evidence (files under
evidence/ beside the log, by SHA-256): each must still be there, unchanged.

A log that verifies can still have lost entries at its end; compare the
count with an earlier run, or with another party's log.`,
		Example: `  $ paratro audit verify
  ok: 42 entries, chain intact
  $ paratro audit verify --file /var/lib/paratro/relay/audit.log`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.File, err = logFile(cmd, f, file); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return verifyRun(opts)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "the audit log to check (default: <home>/audit.log)")
	return cmd
}

func verifyRun(opts *VerifyOptions) error {
	n, err := audit.Verify(opts.File)
	if err != nil {
		return err
	}
	// The chain covers the evidence files through their hashes: each one
	// must still be there with the content its entry names.
	entries, err := audit.ReadAll(opts.File)
	if err != nil {
		return err
	}
	kept := 0
	for i, e := range entries {
		for _, ev := range e.Evidence {
			if _, err := audit.ReadEvidence(opts.File, ev); err != nil {
				return fmt.Errorf("line %d (seq %d): evidence from %s: %w", i+1, e.Seq, ev.Sender, err)
			}
			kept++
		}
	}
	line := fmt.Sprintf("ok: %d entries, chain intact", n)
	if kept > 0 {
		line += fmt.Sprintf(", %d evidence files intact", kept)
	}
	fmt.Fprintln(opts.IO.Out, line)
	return nil
}
