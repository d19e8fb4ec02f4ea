// Package identitycmd implements "paratro identity": show this operator's
// identity, trust co-holders' identities, list the trusted ones.
package identitycmd

import (
	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
)

// NewCmdIdentity returns the "identity" command group.
func NewCmdIdentity(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity <command>",
		Short: "Show your identity; trust your co-holders' identities",
		Long: `Identities are how holders know each other. Each holder runs
"paratro init", then gives the others "paratro identity show --output json"
(a file or a paste) and reads out the fingerprint over another channel
(voice, in person). Each holder then trusts the others with
"paratro identity add", checking the fingerprint.

A party approves only ceremonies whose initiator and parties are all
trusted identities, with exactly the trusted keys: the relay cannot swap
in a key of its own.`,
		Example: `  $ paratro identity show
  $ paratro identity show --output json > ana.json
  $ paratro identity add ben.json --fingerprint 8c1e40d2a9b3f761
  $ paratro identity list`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newCmdShow(f), newCmdAdd(f), newCmdList(f))
	return cmd
}
