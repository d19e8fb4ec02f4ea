package operatorcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// listOptions are the inputs of listRun.
type listOptions struct {
	IO     *iostreams.IOStreams
	Open   func() (*cmdutil.Operator, error)
	Format output.Format
}

func newCmdList(f *cmdutil.Factory, runF func(context.Context, *listOptions) error) *cobra.Command {
	opts := &listOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the relay's operators, their roles and TOTP status",
		Long: `List the operators admitted to the relay: name, fingerprint, role,
whether they have enrolled TOTP (enrolled, pending a first code, locked
out, or "-" for none) and when they were admitted. Any operator may list
them.`,
		Example: `  $ paratro operator list
  $ paratro operator list --output json | jq -r '.[] | select(.role == "owner") | .name'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func listRun(ctx context.Context, opts *listOptions) error {
	return cmdutil.WithOperator(ctx, opts.Open, func(ctx context.Context, op *cmdutil.Operator) error {
		list, err := op.Client.Operators(ctx)
		if err != nil {
			return cmdutil.RelayHint(fmt.Errorf("operator list: %w", err), op.URL)
		}
		if opts.Format == output.FormatJSON {
			out := make([]operatorJSON, 0, len(list))
			for _, v := range list {
				out = append(out, toJSON(v))
			}
			return output.JSON(opts.IO.Out, out)
		}
		rows := make([][]string, 0, len(list))
		for _, v := range list {
			rows = append(rows, []string{v.Name, identity.GroupFingerprint(v.Fingerprint), string(v.Role), mfaCell(v.MFA),
				v.AddedAt.UTC().Format("2006-01-02 15:04")})
		}
		return output.Table(opts.IO.Out, []string{"NAME", "FINGERPRINT", "ROLE", "MFA", "ADDED"}, rows)
	})
}
