package identitycmd

import (
	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/output"
)

func newCmdList(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the identities this home trusts (you first)",
		Long: `List the identities this home trusts: yours first, then those added with
"paratro identity add". Parties approve only ceremonies whose initiator
and parties are all in this list, with exactly these keys.`,
		Example: "  $ paratro identity list\n  $ paratro identity list --output json | jq -r '.[].name'",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, closeKR, err := cmdutil.OpenHome(cmd, f)
			if err != nil {
				return err
			}
			defer closeKR()
			list, err := h.Trusted()
			if err != nil {
				return err
			}
			if cmdutil.OutputFormat(cmd) == output.FormatJSON {
				return output.JSON(f.IO.Out, list)
			}
			var rows [][]string
			for i, p := range list {
				who := ""
				if i == 0 {
					who = "you"
				}
				rows = append(rows, []string{p.Name, p.DisplayFingerprint(), who})
			}
			return output.Table(f.IO.Out, []string{"NAME", "FINGERPRINT", ""}, rows)
		},
	}
}
