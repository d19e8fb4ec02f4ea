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
		Args:  cmdutil.NoArgs,
	}
	cmd.AddCommand(NewCmdRun(f, nil))
	return cmd
}
