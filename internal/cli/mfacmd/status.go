package mfacmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
)

// statusOptions are the inputs of statusRun.
type statusOptions struct {
	IO     *iostreams.IOStreams
	Open   func() (*cmdutil.Operator, error)
	Format output.Format
}

func newCmdStatus(f *cmdutil.Factory, runF func(context.Context, *statusOptions) error) *cobra.Command {
	opts := &statusOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether you have enrolled TOTP with the relay",
		Long: `Show your TOTP status on the relay: enrolled (and since when), an
enrolment waiting for its first code (pending: run paratro mfa confirm),
and whether too many wrong codes locked you out, until when.`,
		Example: `  $ paratro mfa status
  $ paratro mfa status --output json | jq .enrolled`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func statusRun(ctx context.Context, opts *statusOptions) error {
	return cmdutil.WithOperator(ctx, opts.Open, func(ctx context.Context, op *cmdutil.Operator) error {
		st, err := op.Client.MFAStatus(ctx)
		if err != nil {
			return cmdutil.RelayHint(fmt.Errorf("mfa status: %w", err), op.URL)
		}
		if opts.Format == output.FormatJSON {
			return output.JSON(opts.IO.Out, toJSON(*st))
		}
		return output.KeyValues(opts.IO.Out, statusPairs(st))
	})
}

func statusPairs(st *relay.MFAStatus) [][2]string {
	enrolled := "no: paratro mfa enroll"
	if st.Enrolled {
		enrolled = "yes, since " + st.EnrolledAt.UTC().Format("2006-01-02 15:04") + " UTC"
	}
	pairs := [][2]string{{"operator", st.Operator}, {"enrolled", enrolled}}
	if st.Pending {
		pairs = append(pairs, [2]string{"pending", "an enrolment waits for its first code: paratro mfa confirm"})
	}
	if st.LockedUntil != nil {
		pairs = append(pairs, [2]string{"locked", "until " + st.LockedUntil.UTC().Format("2006-01-02 15:04:05") + " UTC (too many wrong codes)"})
	}
	return pairs
}
