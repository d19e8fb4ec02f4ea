// Package cli assembles the paratro command tree and runs it: NewCmdRoot
// wires the commands, New builds their dependencies, and Main runs one
// command line and turns its outcome into an exit status.
//
// Each command lives in its own package under internal/cli (one verb per
// file) and receives a *cmdutil.Factory; this package only adds them to the
// tree.
package cli

import (
	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/apikeycmd"
	"github.com/paratro/paratro/internal/cli/auditcmd"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/demo"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/cli/identitycmd"
	"github.com/paratro/paratro/internal/cli/initcmd"
	"github.com/paratro/paratro/internal/cli/mfacmd"
	"github.com/paratro/paratro/internal/cli/operatorcmd"
	"github.com/paratro/paratro/internal/cli/partycmd"
	relaycmd "github.com/paratro/paratro/internal/cli/relay"
	"github.com/paratro/paratro/internal/cli/sharecmd"
	"github.com/paratro/paratro/internal/cli/version"
	"github.com/paratro/paratro/internal/cli/walletcmd"
	"github.com/paratro/paratro/internal/output"
)

// Command groups of "paratro --help". The root assigns them, so that the
// grouping is read in one place; commands added without a group are listed
// under "Additional Commands" with help and completion.
const (
	groupSetup      = "setup"      // getting started: init, identity, demo
	groupCeremonies = "ceremonies" // what holders do together: party, wallet, rotate-keys
	groupAdmin      = "admin"      // looking after the relay, operators and shares: relay, operator, apikey, mfa, audit
	noGroup         = ""
)

// groups are the command groups in the order "paratro --help" lists them.
func groups() []*cobra.Group {
	return []*cobra.Group{
		{ID: groupSetup, Title: "Setup"},
		{ID: groupCeremonies, Title: "Ceremonies"},
		{ID: groupAdmin, Title: "Administration"},
	}
}

// NewCmdRoot returns the paratro command tree, with its output and error
// streams set to f.IO. Every call builds a fresh tree; there is no
// package-level command.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	format := output.FormatTable
	var quiet bool
	root := &cobra.Command{
		Use:   "paratro",
		Short: "Hold and use your share of an MPC (threshold) wallet",
		Long: `paratro is the command line for people who hold key shares of MPC
(threshold) wallets. Each holder runs their own share party; parties meet
over a relay to create wallets, sign and rotate keys, and the full private
key never exists anywhere.

Start with "paratro demo": a wallet's whole life, on this machine.`,
		Example: `  $ paratro demo
  $ paratro version
  $ paratro help exit-codes
  $ source <(paratro completion bash)`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Main turns cobra's "did you mean" lines into a hint.
		DisableSuggestions:         true,
		SuggestionsMinimumDistance: 2,
	}
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetIn(f.IO.In)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return cmdutil.FlagErrorWrap(err)
	})
	cmdutil.AddOutputFlag(root, &format)
	cmdutil.AddQuietFlag(root, &quiet)
	cmdutil.AddHomeFlags(root)

	// ---- the command tree: one line per top-level command ----
	add(root, groupSetup, initcmd.NewCmdInit(f))
	add(root, groupSetup, identitycmd.NewCmdIdentity(f))
	add(root, groupSetup, demo.NewCmdDemo(f, nil))
	add(root, groupCeremonies, partycmd.NewCmdParty(f))
	add(root, groupCeremonies, walletcmd.NewCmdWallet(f))
	add(root, groupCeremonies, walletcmd.NewCmdRotateKeys(f))
	add(root, groupAdmin, relaycmd.NewCmdRelay(f))
	add(root, groupAdmin, operatorcmd.NewCmdOperator(f))
	add(root, groupAdmin, apikeycmd.NewCmdAPIKey(f))
	add(root, groupAdmin, mfacmd.NewCmdMFA(f))
	add(root, groupAdmin, auditcmd.NewCmdAudit(f))
	add(root, groupAdmin, sharecmd.NewCmdShare(f))
	add(root, noGroup, version.NewCmdVersion(f, nil))
	add(root, noGroup, newHelpTopic("exit-codes", "Exit statuses and error messages", exitcode.Help))
	// ---- end of the command tree ----

	addGroups(root)
	addCobraCommands(root)
	return root
}

// add puts cmd in group and under root.
func add(root *cobra.Command, group string, cmd *cobra.Command) {
	cmd.GroupID = group
	root.AddCommand(cmd)
}

// addGroups adds the groups that have at least one command: cobra prints the
// title of an empty group.
func addGroups(root *cobra.Command) {
	for _, g := range groups() {
		for _, c := range root.Commands() {
			if c.GroupID == g.ID {
				root.AddGroup(g)
				break
			}
		}
	}
}

// newHelpTopic returns a command without Run, which cobra lists under
// "Additional help topics" and shows with "paratro help <name>".
func newHelpTopic(name, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:     name,
		Short:   short,
		Long:    long,
		Example: "  $ paratro help " + name,
	}
}
