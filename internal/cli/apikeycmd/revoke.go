package apikeycmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// revokeOptions are the inputs of revokeRun.
type revokeOptions struct {
	IO     *iostreams.IOStreams
	Open   func() (*cmdutil.Operator, error)
	Format output.Format

	ID string
}

func newCmdRevoke(f *cmdutil.Factory, runF func(context.Context, *revokeOptions) error) *cobra.Command {
	opts := &revokeOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key: it stops working at once",
		Long: `Revoke the API key with this ID (paratro apikey list shows them): the
relay refuses it from now on. You may revoke your own keys; an owner may
revoke anyone's. Revoking a key twice changes nothing.`,
		Example: `  $ paratro apikey revoke 3kq7x2m4p5r6s7t8`,
		Args:    cmdutil.ExactArgs(1, "the key's ID (paratro apikey list)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return revokeRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func revokeRun(ctx context.Context, opts *revokeOptions) error {
	return cmdutil.WithOperator(ctx, opts.Open, func(ctx context.Context, op *cmdutil.Operator) error {
		k, err := op.Client.RevokeAPIKey(ctx, opts.ID)
		if err != nil {
			return cmdutil.RelayHint(fmt.Errorf("apikey revoke %s: %w", opts.ID, err), op.URL)
		}
		if opts.Format == output.FormatJSON {
			return output.JSON(opts.IO.Out, toJSON(*k))
		}
		fmt.Fprintf(opts.IO.Out, "revoked api key %s (%s)\n", k.ID, k.Name)
		return nil
	})
}
