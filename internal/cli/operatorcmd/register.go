package operatorcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// registerOptions are the inputs of registerRun.
type registerOptions struct {
	IO     *iostreams.IOStreams
	Open   func() (*cmdutil.Operator, error)
	Format output.Format
}

func newCmdRegister(f *cmdutil.Factory, runF func(context.Context, *registerOptions) error) *cobra.Command {
	opts := &registerOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Make your identity known to the relay, so that an owner can admit you",
		Long: `Register this operator's identity (its public keys only) with the relay,
so that an owner can admit it with paratro operator add. Registering
again is harmless; every command that talks to the relay does it first.

Then read your fingerprint to an owner over another channel (voice, in
person); they check it in paratro operator list after admitting you.`,
		Example: `  $ paratro operator register --relay https://relay.example:8700`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return registerRun(cmd.Context(), opts)
		},
	}
	return cmd
}

// registerJSON is the --output json of operator register.
type registerJSON struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Relay       string `json:"relay"`
}

func registerRun(ctx context.Context, opts *registerOptions) error {
	return cmdutil.WithOperator(ctx, opts.Open, func(_ context.Context, op *cmdutil.Operator) error {
		id := op.Home.ID
		if opts.Format == output.FormatJSON {
			return output.JSON(opts.IO.Out, registerJSON{Name: id.Name, Fingerprint: id.Fingerprint(), Relay: op.URL})
		}
		fmt.Fprintf(opts.IO.Out, "registered %s with %s\n", label(id.Name, id.Fingerprint()), op.URL)
		fmt.Fprintf(opts.IO.ErrOut, "an owner admits you with: paratro operator add %s --role ROLE\n", id.Name)
		return nil
	})
}
