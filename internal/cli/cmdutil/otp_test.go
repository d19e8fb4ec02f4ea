package cmdutil_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/iostreams"
)

// otpCase sets up a command with --otp-stdin, a factory on buffers and a
// scripted prompt, and calls ReadOTP with args on the command line.
type otpCase struct {
	args     []string
	stdin    string
	env      string // PARATRO_OTP
	terminal bool   // stdin and stderr are terminals
	typed    string // what the prompt returns; "" means the test fails if asked
}

func (c otpCase) run(t *testing.T) (code string, asked []string, rest string, err error) {
	t.Helper()
	ios, in, _, _ := iostreams.Test()
	in.WriteString(c.stdin)
	ios.SetStdinTTY(c.terminal)
	ios.SetStderrTTY(c.terminal)
	f := &cmdutil.Factory{IO: ios, Now: time.Now, Getenv: func(k string) string {
		if k == "PARATRO_OTP" {
			return c.env
		}
		return ""
	}}
	f.PromptPassword = func(prompt string) ([]byte, error) {
		asked = append(asked, prompt)
		if c.typed == "" {
			t.Errorf("unexpected prompt %q", prompt)
		}
		return []byte(c.typed), nil
	}
	cmd := &cobra.Command{Use: "rotate-keys", RunE: func(cmd *cobra.Command, _ []string) error {
		code, err = cmdutil.ReadOTP(cmd, f, "ben")
		return nil
	}}
	cmdutil.AddOTPStdinFlag(cmd)
	cmd.SetArgs(c.args)
	if xerr := cmd.Execute(); xerr != nil {
		t.Fatal(xerr)
	}
	return code, asked, in.String(), err
}

func TestReadOTPSources(t *testing.T) {
	tests := []struct {
		name      string
		c         otpCase
		want      string
		wantAsked bool
		wantRest  string
	}{
		{"PARATRO_OTP gives the code", otpCase{env: "123456"}, "123456", false, ""},
		{"spaces are dropped, as apps show 123 456", otpCase{env: " 123 456 "}, "123456", false, ""},
		{"--otp-stdin reads the first line only", otpCase{args: []string{"--otp-stdin"}, stdin: "654321\nnext line\n"}, "654321", false, "next line\n"},
		{"--otp-stdin takes a last line without newline, and CRLF", otpCase{args: []string{"--otp-stdin"}, stdin: "654321\r\n"}, "654321", false, ""},
		{"--otp-stdin wins over PARATRO_OTP", otpCase{args: []string{"--otp-stdin"}, stdin: "111111", env: "222222"}, "111111", false, ""},
		{"PARATRO_OTP wins over the prompt", otpCase{env: "222222", terminal: true}, "222222", false, ""},
		{"on a terminal paratro asks without echo", otpCase{terminal: true, typed: "333333"}, "333333", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, asked, rest, err := tt.c.run(t)
			if err != nil || code != tt.want {
				t.Fatalf("ReadOTP = %q, %v; want %q", code, err, tt.want)
			}
			if tt.wantAsked != (len(asked) == 1) || (tt.wantAsked && asked[0] != "TOTP code for ben: ") {
				t.Errorf("prompts = %q", asked)
			}
			if rest != tt.wantRest {
				t.Errorf("left on stdin %q, want %q", rest, tt.wantRest)
			}
		})
	}
}

func TestReadOTPWithoutASourceExits4(t *testing.T) {
	for name, c := range map[string]otpCase{
		"no terminal, no env, no flag":   {},
		"stdin piped but no --otp-stdin": {stdin: "123456\n"},
	} {
		t.Run(name, func(t *testing.T) {
			_, asked, _, err := c.run(t)
			if !errors.Is(err, cmdutil.ErrOTPRequired) || exitcode.For(err) != exitcode.MFARequired {
				t.Fatalf("err = %v (exit %d), want ErrOTPRequired and exit 4", err, exitcode.For(err))
			}
			if err.Error() != "this needs a TOTP code: set PARATRO_OTP or pass --otp-stdin" || len(asked) != 0 {
				t.Errorf("message %q, prompts %q", err, asked)
			}
			if len(cmdutil.Hints(err)) == 0 {
				t.Error("no hint")
			}
		})
	}
}

func TestReadOTPRefusesMalformedCodesWithoutShowingThem(t *testing.T) {
	for _, c := range []otpCase{
		{env: "12345"},
		{env: "1234567"},
		{env: "12a456"},
		{env: "１２３４５６"}, // full-width digits are not ASCII digits
		{args: []string{"--otp-stdin"}, stdin: "98765x\n"},
		{terminal: true, typed: "000 00"},
	} {
		code, _, _, err := c.run(t)
		given := strings.Join(strings.Fields(c.env+c.stdin+c.typed), "")
		if !errors.Is(err, cmdutil.ErrOTPMalformed) || exitcode.For(err) != exitcode.MFAFailed || code != "" {
			t.Errorf("%+v: ReadOTP = %q, %v (exit %d); want ErrOTPMalformed, exit 5", c, code, err, exitcode.For(err))
			continue
		}
		if strings.Contains(err.Error(), given) {
			t.Errorf("the error shows the code: %v", err)
		}
	}
}

func TestReadOTPFromEmptyStdinFails(t *testing.T) {
	_, _, _, err := otpCase{args: []string{"--otp-stdin"}}.run(t)
	if err == nil || !strings.Contains(err.Error(), "--otp-stdin") {
		t.Errorf("err = %v, want a read error naming --otp-stdin", err)
	}
}

func TestThereIsNoFlagForTheCodeItself(t *testing.T) {
	cmd := &cobra.Command{Use: "x"}
	cmdutil.AddOTPStdinFlag(cmd)
	usage := cmd.Flags().FlagUsages()
	if strings.Count(usage, "--") != 1 || !strings.Contains(usage, "--otp-stdin ") {
		t.Errorf("flags: %s", usage)
	}
}
