package apikeycmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// createOptions are the inputs of createRun.
type createOptions struct {
	IO     *iostreams.IOStreams
	Open   func() (*cmdutil.Operator, error)
	Format output.Format

	Name string
}

func newCmdCreate(f *cmdutil.Factory, runF func(context.Context, *createOptions) error) *cobra.Command {
	opts := &createOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Make an API key acting as you; it is shown this once",
		Long: `Make an API key that acts as you, with your role, and print it on stdout.
The key is shown this once: the relay keeps only its hash. Store it in
your secret store straight away (pipe it there rather than onto the
screen); if it is lost, revoke it and make another.

--name says what uses the key (1 to 64 printable characters), so that
paratro apikey list tells keys apart.`,
		Example: `  $ paratro apikey create --name ci-payouts
  $ paratro apikey create --name ci-payouts | gh secret set PARATRO_API_KEY
  $ paratro apikey create --name ci-payouts --output json | jq -r .key`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = strings.TrimSpace(opts.Name)
			if opts.Name == "" {
				return cmdutil.FlagErrorf("give --name: what will use the key, e.g. ci-payouts")
			}
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return createRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "what will use the key, e.g. ci-payouts")
	return cmd
}

// createdJSON is the --output json of apikey create: the key, once.
type createdJSON struct {
	keyJSON
	Key string `json:"key"`
}

func createRun(ctx context.Context, opts *createOptions) error {
	return cmdutil.WithOperator(ctx, opts.Open, func(ctx context.Context, op *cmdutil.Operator) error {
		k, err := op.Client.CreateAPIKey(ctx, opts.Name)
		if err != nil {
			return cmdutil.RelayHint(fmt.Errorf("apikey create: %w", err), op.URL)
		}
		fmt.Fprintf(opts.IO.ErrOut, "api key %s (%s) acts as %s: store it now; it cannot be shown again\n", k.ID, k.Name, op.Name())
		if opts.Format == output.FormatJSON {
			return output.JSON(opts.IO.Out, createdJSON{keyJSON: toJSON(k.APIKey), Key: k.Key})
		}
		_, err = fmt.Fprintln(opts.IO.Out, k.Key)
		return err
	})
}
