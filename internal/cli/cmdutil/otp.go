package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// otpStdinFlag names the flag that makes ReadOTP read the code from stdin.
const otpStdinFlag = "otp-stdin"

// otpEnv is the environment variable scripts give a TOTP code in.
const otpEnv = "PARATRO_OTP"

// Errors of ReadOTP, for errors.Is; internal/cli/exitcode maps them to the
// "MFA required" (4) and "MFA failed" (5) statuses.
var (
	// ErrOTPRequired: a TOTP code is needed and there is no way to get one.
	ErrOTPRequired = errors.New("this needs a TOTP code: set PARATRO_OTP or pass --otp-stdin")
	// ErrOTPMalformed: the code given is not 6 digits; it was not sent.
	ErrOTPMalformed = errors.New("malformed TOTP code")
)

// AddOTPStdinFlag adds --otp-stdin to cmd, for commands that ask for a
// TOTP code. There is deliberately no flag taking the code itself: argv is
// visible to every user of the machine (ps, /proc) and kept in shell
// history.
func AddOTPStdinFlag(cmd *cobra.Command) {
	cmd.Flags().Bool(otpStdinFlag, false, "read the TOTP code from the first line of stdin (for scripts; or set "+otpEnv+")")
}

// ReadOTP returns a TOTP code for who's operation, from the first of:
//
//   - the first line of stdin, with --otp-stdin;
//   - the PARATRO_OTP environment variable;
//   - a prompt without echo ("TOTP code for ben: "), when stdin and stderr
//     are terminals.
//
// Without any of them it fails with ErrOTPRequired. A code that is not 6
// digits (spaces are dropped: apps show "123 456") fails with
// ErrOTPMalformed before anything is sent. The code never appears in an
// error.
func ReadOTP(cmd *cobra.Command, f *Factory, who string) (string, error) {
	code, source, err := otpFrom(cmd, f, who)
	if err != nil {
		return "", err
	}
	return CheckOTP(code, source)
}

// OTPGiven reports whether a script gave a code (--otp-stdin or
// PARATRO_OTP), so that ReadOTP will not need to prompt.
func OTPGiven(cmd *cobra.Command, f *Factory) bool {
	fl := cmd.Flag(otpStdinFlag)
	return (fl != nil && fl.Value.String() == "true") || f.Getenv(otpEnv) != ""
}

// CheckOTP returns code without spaces if it is 6 digits, and otherwise
// an ErrOTPMalformed naming source ("the prompt", "PARATRO_OTP") but not
// the code.
func CheckOTP(code, source string) (string, error) {
	code = strings.Join(strings.Fields(code), "")
	if !sixDigits(code) {
		return "", fmt.Errorf("%w: the code from %s must be 6 digits", ErrOTPMalformed, source)
	}
	return code, nil
}

// otpFrom reads the code from the first source available, and names it.
func otpFrom(cmd *cobra.Command, f *Factory, who string) (code, source string, err error) {
	if fl := cmd.Flag(otpStdinFlag); fl != nil && fl.Value.String() == "true" {
		line, err := ReadLine(f.IO.In, 64)
		if err != nil && line == "" {
			return "", "", fmt.Errorf("--otp-stdin: read the code from stdin: %w", err)
		}
		return line, "stdin", nil
	}
	if code := f.Getenv(otpEnv); code != "" {
		return code, otpEnv, nil
	}
	if f.IO.CanPrompt() && f.PromptPassword != nil {
		b, err := f.PromptPassword("TOTP code for " + who + ": ")
		if err != nil {
			return "", "", fmt.Errorf("read the TOTP code: %w", err)
		}
		return string(b), "the prompt", nil
	}
	return "", "", WithHint(ErrOTPRequired, "on a terminal, paratro asks for it; the code is the 6 digits your authenticator app shows for "+who)
}

func sixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ReadLine reads one line from r (without its line ending), one byte at a
// time so that nothing after the line is consumed: a later reader of r
// sees the rest. A line longer than max bytes is cut there. At the end of
// the input it returns what it read and io.EOF (nil if a newline ended it).
func ReadLine(r io.Reader, max int) (string, error) {
	var b strings.Builder
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n == 1 {
			if one[0] == '\n' {
				return strings.TrimSuffix(b.String(), "\r"), nil
			}
			if b.Len() < max {
				b.WriteByte(one[0])
			}
		}
		if err != nil {
			return strings.TrimSuffix(b.String(), "\r"), err
		}
	}
}
