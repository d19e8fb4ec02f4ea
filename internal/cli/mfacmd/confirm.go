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

// confirmOptions are the inputs of confirmRun.
type confirmOptions struct {
	IO      *iostreams.IOStreams
	Open    func() (*cmdutil.Operator, error)
	ReadOTP func(who string) (string, error)
	Format  output.Format
}

func newCmdConfirm(f *cmdutil.Factory, runF func(context.Context, *confirmOptions) error) *cobra.Command {
	opts := &confirmOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "confirm",
		Short: "Confirm a TOTP enrolment with the first code from your app",
		Long: `Confirm the enrolment that paratro mfa enroll started, with the code your
authenticator app now shows: from then on the relay asks you for codes.
An enrolment that is never confirmed changes nothing.

The code comes from a prompt on a terminal, else from PARATRO_OTP or the
first line of stdin (--otp-stdin). It is never taken from the command
line.

Exit status 4 when no code can be read, 5 when the relay rejects it (the
message says how many attempts are left).`,
		Example: `  $ paratro mfa confirm
  $ oathtool --totp -b "$SECRET" | paratro mfa confirm --otp-stdin`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			opts.ReadOTP = func(who string) (string, error) { return cmdutil.ReadOTP(cmd, f, who) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return confirmRun(cmd.Context(), opts)
		},
	}
	cmdutil.AddOTPStdinFlag(cmd)
	return cmd
}

func confirmRun(ctx context.Context, opts *confirmOptions) error {
	op, err := opts.Open()
	if err != nil {
		return err
	}
	defer op.Close()
	code, err := opts.ReadOTP(op.Name())
	if err != nil {
		return err
	}
	st, err := confirm(ctx, op, code)
	if err != nil {
		return err
	}
	if opts.Format == output.FormatJSON {
		return output.JSON(opts.IO.Out, toJSON(*st))
	}
	fmt.Fprintf(opts.IO.Out, "TOTP enrolled for %s\n", op.Name())
	return nil
}

// confirm sends code to confirm op's pending enrolment.
func confirm(ctx context.Context, op *cmdutil.Operator, code string) (*relay.MFAStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdutil.RelayTimeout)
	defer cancel()
	if err := op.Register(ctx); err != nil {
		return nil, err
	}
	op.Client.SetOTP(code)
	st, err := op.Client.MFAConfirm(ctx)
	if err != nil {
		return nil, cmdutil.RelayHint(fmt.Errorf("mfa confirm: %w", err), op.URL)
	}
	return st, nil
}
