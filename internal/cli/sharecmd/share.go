// Package sharecmd implements "paratro share": what this home knows about
// the key shares it holds (list), and their encrypted backups (backup
// export, backup verify, restore). No command here prints secret bytes.
package sharecmd

import (
	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
)

// NewCmdShare returns the "share" command group.
func NewCmdShare(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "share <command>",
		Short: "Look after the key shares this home holds",
		Long: `Inspect the key shares kept in this home's share store: which wallets
they belong to, their version (epoch) and whether a refresh left one
pending.

Shares are sealed with a key kept in the keyring; these commands read
their public metadata and never print secret material. share backup
export writes a share, encrypted, to a backup file; share backup verify
tests one; share restore brings a party back from one.`,
		Example: `  $ paratro share list
  $ paratro share list --output json | jq -r '.[] | select(.state == "pending") | .wallet_id'
  $ paratro share backup export ops --to /mnt/usb/ana-ops.age
  $ paratro share restore /mnt/usb/ana-ops.age`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newCmdList(f, nil), newCmdBackup(f), newCmdRestore(f, nil))
	return cmd
}
