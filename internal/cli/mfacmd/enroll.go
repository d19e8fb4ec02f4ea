package mfacmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/mfa"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
)

// enrollOptions are the inputs of enrollRun.
type enrollOptions struct {
	IO      *iostreams.IOStreams
	Open    func() (*cmdutil.Operator, error)
	ReadOTP func(who string) (string, error)    // a code from --otp-stdin, PARATRO_OTP or a prompt
	Prompt  func(prompt string) ([]byte, error) // no echo; nil without a terminal
	Format  output.Format

	// Interactive: show the QR code and ask for the first code on the
	// terminal. Otherwise the secret goes to stdout and is confirmed at
	// once only when Scripted.
	Interactive bool
	Scripted    bool // a code was given by PARATRO_OTP or --otp-stdin
}

func newCmdEnroll(f *cmdutil.Factory, runF func(context.Context, *enrollOptions) error) *cobra.Command {
	opts := &enrollOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "enroll",
		Short: "Get a TOTP secret from the relay for your authenticator app",
		Long: `Start a TOTP enrolment: the relay makes a new secret for you, shown once.

On a terminal, paratro draws the otpauth URI as a QR code on stderr, for
your authenticator app to scan, prints the URI and the secret as text (for
apps that take them typed), and asks for the first code the app shows to
confirm the enrolment.

With --output json (or without a terminal), the secret is printed on
stdout as {"account", "issuer", "secret", "uri"} for a script to store;
the enrolment is confirmed at once when a code is given by PARATRO_OTP or
--otp-stdin, and otherwise waits for paratro mfa confirm.

Security: the secret is the second factor itself. It is printed by this
command only, never logged, and kept sealed by the relay; store it only
in your authenticator app (or your secret store, for a script). If you
already have TOTP, enrolling again needs a code from the current secret
first, and the old secret works until the new one is confirmed.`,
		Example: `  $ paratro mfa enroll
  $ paratro mfa enroll --output json > enrol.json
  $ oathtool --totp -b "$(jq -r .secret enrol.json)" | paratro mfa confirm --otp-stdin`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			opts.ReadOTP = func(who string) (string, error) { return cmdutil.ReadOTP(cmd, f, who) }
			opts.Prompt = f.PromptPassword
			opts.Scripted = cmdutil.OTPGiven(cmd, f)
			opts.Interactive = opts.Format != output.FormatJSON && !opts.Scripted && f.IO.CanPrompt() && f.PromptPassword != nil
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return enrollRun(cmd.Context(), opts)
		},
	}
	cmdutil.AddOTPStdinFlag(cmd)
	return cmd
}

// enrollJSON is the --output json of mfa enroll: the secret, once.
type enrollJSON struct {
	Account string `json:"account"`
	Issuer  string `json:"issuer"`
	Secret  string `json:"secret"`
	URI     string `json:"uri"`
}

func enrollRun(ctx context.Context, opts *enrollOptions) error {
	op, err := opts.Open()
	if err != nil {
		return err
	}
	defer op.Close()
	s, err := start(ctx, op, opts)
	if err != nil {
		return err
	}
	en := s.en
	if opts.Interactive {
		return enrollOnTerminal(ctx, op, opts, en)
	}
	if opts.Format == output.FormatJSON {
		err = output.JSON(opts.IO.Out, enrollJSON{Account: en.Account, Issuer: en.Issuer, Secret: en.Secret, URI: en.URI})
	} else {
		err = output.KeyValues(opts.IO.Out, [][2]string{{"account", en.Account}, {"issuer", en.Issuer}, {"secret", en.Secret}, {"uri", en.URI}})
	}
	if err != nil {
		return err
	}
	if !opts.Scripted || s.usedCode {
		fmt.Fprintf(opts.IO.ErrOut, "TOTP enrolment for %s is pending: load the secret into your authenticator app, then run paratro mfa confirm with its first code\n", op.Name())
		return nil
	}
	code, err := opts.ReadOTP(op.Name())
	if err != nil {
		return pending(err)
	}
	if _, err := confirm(ctx, op, code); err != nil {
		return pending(err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "TOTP enrolled for %s\n", op.Name())
	return nil
}

// started is a new enrolment, and whether a code from the current secret
// was used to start it (so the script's code is spent).
type started struct {
	en       *relay.Enrollment
	usedCode bool
}

// start registers op and asks the relay for a new secret; replacing a
// confirmed one takes a code from it first.
func start(ctx context.Context, op *cmdutil.Operator, opts *enrollOptions) (started, error) {
	rctx, cancel := context.WithTimeout(ctx, cmdutil.RelayTimeout)
	defer cancel()
	if err := op.Register(rctx); err != nil {
		return started{}, err
	}
	st, err := op.Client.MFAStatus(rctx)
	if err != nil {
		return started{}, cmdutil.RelayHint(fmt.Errorf("mfa enroll: %w", err), op.URL)
	}
	var s started
	if st.Enrolled {
		fmt.Fprintf(opts.IO.ErrOut, "%s already has TOTP: replacing it needs a code from the current secret\n", op.Name())
		code, err := opts.ReadOTP(op.Name())
		if err != nil {
			return started{}, err
		}
		op.Client.SetOTP(code)
		s.usedCode = true
	}
	rctx, cancel = context.WithTimeout(ctx, cmdutil.RelayTimeout)
	defer cancel()
	if s.en, err = op.Client.MFAEnroll(rctx); err != nil {
		return started{}, cmdutil.RelayHint(fmt.Errorf("mfa enroll: %w", err), op.URL)
	}
	return s, nil
}

// confirmTries is how many codes the terminal enrolment asks for before
// leaving the enrolment pending (each wrong one counts towards lockout).
const confirmTries = 3

// enrollOnTerminal shows the secret as a QR code and text on stderr and
// confirms it with a code typed at the prompt.
func enrollOnTerminal(ctx context.Context, op *cmdutil.Operator, opts *enrollOptions, en *relay.Enrollment) error {
	w := opts.IO.ErrOut
	fmt.Fprintln(w, "Scan this QR code with your authenticator app:")
	if err := mfa.DrawQR(w, en.URI); err != nil {
		return err
	}
	// The URI alone on its line, for copying; the next line starts in lower
	// case, so that lines joined back together do not extend the secret.
	fmt.Fprintf(w, "%s\nor type it in by hand:\n  account  %s\n  issuer   %s\n  secret   %s\n\n", en.URI, en.Account, en.Issuer, groupSecret(en.Secret))
	var err error
	for try := 1; try <= confirmTries; try++ {
		var b []byte
		if b, err = opts.Prompt("TOTP code to confirm: "); err != nil {
			return pending(fmt.Errorf("read the TOTP code: %w", err))
		}
		var code string
		if code, err = cmdutil.CheckOTP(string(b), "the prompt"); err == nil {
			if _, err = confirm(ctx, op, code); err == nil {
				fmt.Fprintf(opts.IO.Out, "TOTP enrolled for %s\n", op.Name())
				return nil
			}
		}
		if !retryable(err) || try == confirmTries {
			break
		}
		fmt.Fprintf(w, "%s; try the next code\n", reason(err))
	}
	return pending(err)
}

// retryable: the code was mistyped or reused, not refused for good.
func retryable(err error) bool {
	var api *relay.APIError
	if errors.As(err, &api) {
		return api.Code == "mfa_invalid" || api.Code == "mfa_reused"
	}
	return errors.Is(err, cmdutil.ErrOTPMalformed)
}

// reason is what the relay (or the shape check) said about a code.
func reason(err error) string {
	var api *relay.APIError
	if errors.As(err, &api) {
		return api.Message
	}
	return err.Error()
}

// pending says that the enrolment still waits for its first code.
func pending(err error) error {
	return cmdutil.WithHint(err, "the enrolment is still pending: paratro mfa confirm tries again with the next code (paratro mfa enroll starts over)")
}

// groupSecret splits a base32 secret into groups of four, for typing.
func groupSecret(s string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ")
}
