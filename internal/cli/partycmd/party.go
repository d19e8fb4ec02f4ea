// Package partycmd implements "paratro party": this holder's share party.
package partycmd

import (
	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
)

// NewCmdParty returns the "party" command group.
func NewCmdParty(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "party <command>",
		Short: "Run this holder's share party",
		Long: `A key holder's share party answers the ceremony requests the relay brings
(prompt or policy), runs the ones it approves and keeps its shares in this
home. Run it wherever the holder's shares live, and keep it running.`,
		Example: `  $ paratro party run
  $ paratro party run --no-tui --policy ci-policy.yaml`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(NewCmdRun(f, nil))
	return cmd
}
