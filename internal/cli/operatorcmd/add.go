package operatorcmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
)

// addOptions are the inputs of addRun.
type addOptions struct {
	IO     *iostreams.IOStreams
	Open   func() (*cmdutil.Operator, error)
	Format output.Format

	Who  string     // registered name or fingerprint
	Role relay.Role // valid
}

func newCmdAdd(f *cmdutil.Factory, runF func(context.Context, *addOptions) error) *cobra.Command {
	opts := &addOptions{IO: f.IO}
	var role string
	cmd := &cobra.Command{
		Use:     "add NAME --role owner|admin|operator|viewer",
		Aliases: []string{"set-role"},
		Short:   "Admit a registered identity with a role, or change its role (owners only)",
		Long: `Admit the identity NAME (a name or fingerprint registered with the relay)
as an operator with --role, or give an operator another role. Only owners
may do this. The relay refuses to demote its last owner.

Check the fingerprint the command prints against the one the operator
read to you: the relay knows identities by what they registered.`,
		Example: `  $ paratro operator add ben --role admin
  $ paratro operator add 8c1e40d2a9b3f761 --role operator
  $ paratro operator set-role ben --role viewer`,
		Args: cmdutil.ExactArgs(1, "the operator's name or fingerprint"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if role == "" {
				return cmdutil.FlagErrorf("give --role: owner, admin, operator or viewer")
			}
			r, err := relay.ParseRole(strings.ToLower(role))
			if err != nil {
				return cmdutil.FlagErrorf("invalid --role %q: use owner, admin, operator or viewer", role)
			}
			opts.Who, opts.Role = args[0], r
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return addRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "owner, admin, operator or viewer")
	_ = cmd.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"owner", "admin", "operator", "viewer"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func addRun(ctx context.Context, opts *addOptions) error {
	return cmdutil.WithOperator(ctx, opts.Open, func(ctx context.Context, op *cmdutil.Operator) error {
		v, err := op.Client.AddOperator(ctx, opts.Who, opts.Role)
		if err != nil {
			return cmdutil.RelayHint(fmt.Errorf("operator add %s: %w", opts.Who, err), op.URL)
		}
		if opts.Format == output.FormatJSON {
			return output.JSON(opts.IO.Out, toJSON(*v))
		}
		fmt.Fprintf(opts.IO.Out, "%s is %s\n", label(v.Name, v.Fingerprint), v.Role)
		return nil
	})
}
