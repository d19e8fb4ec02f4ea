// Package operatorcmd implements "paratro operator": who may use a relay,
// and with which role. Owners admit registered identities (add), change
// their roles (add again) and take them away (remove); anyone admitted
// lists them.
package operatorcmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// NewCmdOperator returns the "operator" command group.
func NewCmdOperator(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "operator <command>",
		Short: "Admit operators to a relay and give them roles",
		Long: `A relay serves only the operators an owner admitted, each with a role:

  owner     manages operators; backup export and wallet destruction (with TOTP)
  admin     creates wallets, rotates keys (with TOTP)
  operator  asks for signatures; holds shares
  viewer    reads wallets and the audit log

Each role includes the rights of those below it. An identity must be
registered with the relay before an owner can admit it: every paratro
command that talks to the relay registers its caller (paratro operator
register does only that). The first owner is made on the relay host with
paratro relay bootstrap.

Every call is signed with this operator's identity (--home); the relay is
--relay or PARATRO_RELAY.`,
		Example: `  $ paratro operator register
  $ paratro operator add ben --role admin
  $ paratro operator list
  $ paratro operator remove ben`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newCmdRegister(f, nil), newCmdAdd(f, nil), newCmdList(f, nil), newCmdRemove(f, nil))
	return cmd
}

// operatorJSON is an operator in --output json.
type operatorJSON struct {
	Name        string  `json:"name"`
	Fingerprint string  `json:"fingerprint"`
	Role        string  `json:"role"`
	AddedBy     string  `json:"added_by"`
	AddedAt     string  `json:"added_at"`
	UpdatedAt   string  `json:"updated_at,omitempty"`
	MFA         mfaJSON `json:"mfa"`
}

type mfaJSON struct {
	Enrolled    bool   `json:"enrolled"`
	EnrolledAt  string `json:"enrolled_at,omitempty"`
	Pending     bool   `json:"pending"`
	LockedUntil string `json:"locked_until,omitempty"`
}

func toJSON(v relay.OperatorView) operatorJSON {
	return operatorJSON{Name: v.Name, Fingerprint: v.Fingerprint, Role: string(v.Role), AddedBy: v.AddedBy,
		AddedAt: rfc3339(&v.AddedAt), UpdatedAt: rfc3339(&v.UpdatedAt),
		MFA: mfaJSON{Enrolled: v.MFA.Enrolled, EnrolledAt: rfc3339(v.MFA.EnrolledAt), Pending: v.MFA.Pending,
			LockedUntil: rfc3339(v.MFA.LockedUntil)}}
}

// rfc3339 is t in UTC, or "" for nil or the zero time.
func rfc3339(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// mfaCell is the MFA column of the operator table.
func mfaCell(st relay.MFAStatus) string {
	switch {
	case st.LockedUntil != nil:
		return "locked until " + st.LockedUntil.UTC().Format("15:04") + " UTC"
	case st.Enrolled:
		return "enrolled"
	case st.Pending:
		return "pending"
	}
	return "-"
}

// label is "name (grouped fingerprint)".
func label(name, fp string) string {
	return fmt.Sprintf("%s (%s)", name, identity.GroupFingerprint(fp))
}
