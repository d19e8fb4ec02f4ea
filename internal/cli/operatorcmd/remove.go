package operatorcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// removeOptions are the inputs of removeRun.
type removeOptions struct {
	IO     *iostreams.IOStreams
	Open   func() (*cmdutil.Operator, error)
	Format output.Format

	Who string
}

func newCmdRemove(f *cmdutil.Factory, runF func(context.Context, *removeOptions) error) *cobra.Command {
	opts := &removeOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Take an operator's access to the relay away (owners only)",
		Long: `Take the operator NAME (name or fingerprint) off the relay: it can no
longer call the relay's API or start ceremonies, and its API keys stop
working. Its identity stays registered, so an owner can admit it again.
Only owners may do this; the relay refuses to remove its last owner.`,
		Example: `  $ paratro operator remove ben`,
		Args:    cmdutil.ExactArgs(1, "the operator's name or fingerprint"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Who = args[0]
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return removeRun(cmd.Context(), opts)
		},
	}
	return cmd
}

// removedJSON is the --output json of operator remove.
type removedJSON struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Role        string `json:"role"`
	Removed     bool   `json:"removed"`
}

func removeRun(ctx context.Context, opts *removeOptions) error {
	return cmdutil.WithOperator(ctx, opts.Open, func(ctx context.Context, op *cmdutil.Operator) error {
		m, err := op.Client.RemoveOperator(ctx, opts.Who)
		if err != nil {
			return cmdutil.RelayHint(fmt.Errorf("operator remove %s: %w", opts.Who, err), op.URL)
		}
		if opts.Format == output.FormatJSON {
			return output.JSON(opts.IO.Out, removedJSON{Name: m.Name, Fingerprint: m.Fingerprint, Role: string(m.Role), Removed: true})
		}
		fmt.Fprintf(opts.IO.Out, "removed %s (was %s)\n", label(m.Name, m.Fingerprint), m.Role)
		return nil
	})
}
