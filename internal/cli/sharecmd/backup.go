package sharecmd

import (
	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
)

// newCmdBackup returns the "share backup" command group.
func newCmdBackup(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup <command>",
		Short: "Export and test encrypted backups of this home's shares",
		Long: `Export this home's share of a wallet, with this operator's identity, to a
file encrypted with age (a passphrase or age recipients), and test such a
file without restoring it. paratro share restore brings a party back from
one. See docs/backup.md.`,
		Example: `  $ paratro share backup export ops --to /mnt/usb/ana-ops.age
  $ paratro share backup verify /mnt/usb/ana-ops.age`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newCmdExport(f, nil), newCmdVerify(f, nil))
	return cmd
}
