// Package mfacmd implements "paratro mfa": enrolling a TOTP second factor
// with the relay, confirming it with a first code, and showing its status.
// Owners and admins need it for rotate-keys, backup export and wallet
// destruction; an operator who enrolled needs it for wallet create too.
package mfacmd

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/relay"
)

// NewCmdMFA returns the "mfa" command group.
func NewCmdMFA(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mfa <command>",
		Short: "Enroll a TOTP second factor with the relay, and check it",
		Long: `Operations that could lose funds or keys need a TOTP code (RFC 6238, the
6 digits an authenticator app shows every 30 seconds) on top of your
identity: rotate-keys, backup export and wallet destruction, and wallet
create once you have enrolled.

paratro mfa enroll gets a secret from the relay and shows it as a QR code
for your app; your first code confirms it. The relay keeps the secret
sealed, accepts each code once, and locks you out for a while after
repeated wrong codes.

Codes never go on the command line: paratro asks for them on a terminal;
scripts set PARATRO_OTP or pass --otp-stdin.`,
		Example: `  $ paratro mfa enroll
  $ paratro mfa status
  $ paratro mfa enroll --output json > enrol.json && paratro mfa confirm`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newCmdEnroll(f, nil), newCmdConfirm(f, nil), newCmdStatus(f, nil))
	return cmd
}

// statusJSON is an operator's TOTP status in --output json.
type statusJSON struct {
	Operator    string `json:"operator"`
	Enrolled    bool   `json:"enrolled"`
	EnrolledAt  string `json:"enrolled_at,omitempty"`
	Pending     bool   `json:"pending"`
	LockedUntil string `json:"locked_until,omitempty"`
}

func toJSON(st relay.MFAStatus) statusJSON {
	return statusJSON{Operator: st.Operator, Enrolled: st.Enrolled, EnrolledAt: rfc3339(st.EnrolledAt),
		Pending: st.Pending, LockedUntil: rfc3339(st.LockedUntil)}
}

func rfc3339(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
