package auditcmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// LogOptions are the inputs of logRun.
type LogOptions struct {
	IO     *iostreams.IOStreams
	Output output.Format

	File   string
	Wallet string
	Kind   string
	Since  time.Time
}

func newCmdLog(f *cmdutil.Factory, runF func(*LogOptions) error) *cobra.Command {
	opts := &LogOptions{IO: f.IO}
	var file, since string
	cmd := &cobra.Command{
		Use:   "log [--wallet W] [--kind K] [--since TIME] [--file PATH]",
		Short: "List the audit log's entries",
		Long: `List the entries of the audit log, oldest first: when (UTC), what
happened, by whom, for which wallet and parties, and the outcome.

--wallet, --kind (keygen, sign or refresh) and --since (RFC 3339, e.g.
2026-11-01T00:00:00Z) keep the matching entries only. With --output json
the entries are printed whole, as a JSON array, hashes included.

Listing does not check the chain: a warning is printed when it is broken;
run "paratro audit verify" for the details.`,
		Example: `  $ paratro audit log
  $ paratro audit log --kind sign --since 2026-11-01T00:00:00Z
  $ paratro audit log --output json | jq '.[] | select(.event == "ceremony.rejected")'
  $ paratro audit log --output json | jq '.[].evidence[]?'   # envelopes kept from misbehaving members`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if since != "" {
				t, err := time.Parse(time.RFC3339, since)
				if err != nil {
					return cmdutil.FlagErrorf("invalid --since %q: want an RFC 3339 time, e.g. 2026-11-01T00:00:00Z", since)
				}
				opts.Since = t
			}
			var err error
			if opts.File, err = logFile(cmd, f, file); err != nil {
				return err
			}
			opts.Output = cmdutil.OutputFormat(cmd)
			if runF != nil {
				return runF(opts)
			}
			return logRun(opts)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "the audit log to read (default: <home>/audit.log)")
	cmd.Flags().StringVar(&opts.Wallet, "wallet", "", "only entries of this wallet id")
	cmd.Flags().StringVar(&opts.Kind, "kind", "", "only entries of this ceremony kind: keygen, sign or refresh")
	cmd.Flags().StringVar(&since, "since", "", "only entries at or after this RFC 3339 time")
	return cmd
}

func logRun(opts *LogOptions) error {
	all, err := audit.ReadAll(opts.File)
	if err != nil {
		return err
	}
	if _, err := audit.Verify(opts.File); err != nil && len(all) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "paratro: warning: %v\nparatro: hint: the entries from there on cannot be trusted\n", err)
	}
	entries := []audit.Entry{}
	for _, e := range all {
		if (opts.Wallet == "" || e.Wallet == opts.Wallet) && (opts.Kind == "" || e.Kind == opts.Kind) &&
			!e.Time.Before(opts.Since) {
			entries = append(entries, e)
		}
	}
	if opts.Output == output.FormatJSON {
		return output.JSON(opts.IO.Out, entries)
	}
	rows := make([][]string, len(entries))
	for i, e := range entries {
		rows[i] = []string{e.Time.UTC().Format("2006-01-02 15:04:05"), e.Event, name(e.Actor),
			e.Wallet, names(e.Parties), e.Outcome}
	}
	return output.Table(opts.IO.Out, []string{"TIME (UTC)", "EVENT", "BY", "WALLET", "PARTIES", "OUTCOME"}, rows)
}

// name is the name in "name (fingerprint)".
func name(label string) string {
	n, _, _ := strings.Cut(label, " (")
	return n
}

func names(labels []string) string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = name(l)
	}
	return strings.Join(out, ",")
}
