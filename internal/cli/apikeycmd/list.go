package apikeycmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
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
		Short: "List your API keys (an owner sees everyone's); never the keys themselves",
		Long: `List API keys: your own, or every operator's if you are an owner. Each
has an ID (to revoke it), the name it was given, the operator it acts as,
when it was made and last used, and when it was revoked. The keys
themselves are not kept by the relay and cannot be listed.`,
		Example: `  $ paratro apikey list
  $ paratro apikey list --output json | jq -r '.[] | select(.revoked_at == null) | .id'`,
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
		keys, err := op.Client.APIKeys(ctx)
		if err != nil {
			return cmdutil.RelayHint(fmt.Errorf("apikey list: %w", err), op.URL)
		}
		if opts.Format == output.FormatJSON {
			out := make([]keyJSON, 0, len(keys))
			for _, k := range keys {
				out = append(out, toJSON(k))
			}
			return output.JSON(opts.IO.Out, out)
		}
		names := map[string]string{} // fingerprint -> name, best effort
		if ops, err := op.Client.Operators(ctx); err == nil {
			for _, o := range ops {
				names[o.Fingerprint] = o.Name
			}
		}
		rows := make([][]string, 0, len(keys))
		for _, k := range keys {
			who := k.Operator
			if n, ok := names[k.Operator]; ok {
				who = n
			}
			rows = append(rows, []string{k.ID, k.Name, who, when(&k.CreatedAt), when(k.LastUsedAt), when(k.RevokedAt)})
		}
		return output.Table(opts.IO.Out, []string{"ID", "NAME", "OPERATOR", "CREATED", "LAST USED", "REVOKED"}, rows)
	})
}
