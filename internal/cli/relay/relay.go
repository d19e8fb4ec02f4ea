// Package relaycmd implements "paratro relay": running the relay that
// share parties meet through.
package relaycmd

import (
	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
)

// NewCmdRelay returns the "relay" command group.
func NewCmdRelay(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "relay <command>",
		Short: "Run the relay that share parties meet through",
		Long: `The relay is where key holders' share parties meet to run ceremonies. It
passes their messages along and keeps them on disk until every party has
read them, so it can restart in the middle of a ceremony without losing one.

It is not trusted with secrets: protocol messages are encrypted from party
to party and signed by their senders, every request is signed with the
caller's identity key, and only a ceremony's members may read or write its
mailbox. A sender that posts two different messages for the same round is
refused, and both messages are kept as evidence.

Only operators an owner admitted may use the relay's API (paratro
operator). The first owner is made on the relay host, from the data
directory, with paratro relay bootstrap.`,
		Example: `  $ paratro relay serve
  $ paratro relay serve --listen 0.0.0.0:8700 --tls-cert relay.crt --tls-key relay.key
  $ paratro relay bootstrap --data /var/lib/paratro --owner ana.json --fingerprint 3f9a11c27e04b8d1`,
	}
	cmd.AddCommand(NewCmdServe(f, nil), NewCmdBootstrap(f, nil))
	return cmd
}
