package walletcmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/output"
)

func newCmdList(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the wallets this home knows",
		Long: `List the wallets this home keeps a public record of: those it holds a
share of, and those it created. The epoch is that of this holder's
active share when it holds one.`,
		Example: "  $ paratro wallet list\n  $ paratro wallet list --output json | jq -r '.[].address'",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, closeKR, err := cmdutil.OpenHome(cmd, f)
			if err != nil {
				return err
			}
			defer closeKR()
			list, err := h.Wallets()
			if err != nil {
				return err
			}
			if cmdutil.OutputFormat(cmd) == output.FormatJSON {
				if list == nil {
					list = []*home.Wallet{}
				}
				return output.JSON(f.IO.Out, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "no wallets yet: paratro wallet create")
				return nil
			}
			var rows [][]string
			for _, w := range list {
				var names []string
				for _, p := range w.Parties {
					names = append(names, p.Name)
				}
				where := w.Address
				if where == "" {
					where = w.PublicKey
				}
				rows = append(rows, []string{w.ID, w.Name, w.Chain, fmt.Sprintf("%d of %d", w.Required, len(w.Parties)),
					strings.Join(names, " "), fmt.Sprint(w.Epoch), where})
			}
			return output.Table(f.IO.Out, []string{"ID", "NAME", "CHAIN", "THRESHOLD", "PARTIES", "EPOCH", "ADDRESS"}, rows)
		},
	}
}

func newCmdShow(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show WALLET",
		Short: "Show one wallet's public record",
		Long: `Show a wallet's public record: ID, name, chain and scheme, address and
public key, threshold and parties, and the current share epoch (from this
holder's own share when it holds one). Nothing shown is secret.

A wallet this home keeps no record of (a destroyed wallet, whose record
went with the erased share) is shown as the relay knows it: its status
and which parties erased their shares.`,
		Example: "  $ paratro wallet show ops\n  $ paratro wallet show wal_7hq2mzk4t6a3bx5c --output json",
		Args:    cmdutil.ExactArgs(1, "the wallet ID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, closeKR, err := cmdutil.OpenHome(cmd, f)
			if err != nil {
				return err
			}
			defer closeKR()
			w, err := knownWallet(h, args[0])
			if err != nil {
				// Not kept here (a destroyed wallet's record goes with its
				// share): the relay may know it.
				if op, oerr := cmdutil.OpenOperator(cmd, f); oerr == nil {
					if rerr := showFromRelay(cmd.Context(), op, args[0], f.IO.Out, cmdutil.OutputFormat(cmd)); rerr == nil {
						return nil
					}
				}
				return err
			}
			epoch, _ := current(h, w)
			w.Epoch = epoch
			if cmdutil.OutputFormat(cmd) == output.FormatJSON {
				return output.JSON(f.IO.Out, w)
			}
			return output.KeyValues(f.IO.Out, walletPairs(w, ""))
		},
	}
}

// knownWallet is the record of a wallet this home knows, by ID or name;
// the error says where to look.
func knownWallet(h *home.Home, idOrName string) (*home.Wallet, error) {
	w, err := h.Wallet(idOrName)
	if at, ok := erasedHere(h, idOrName); err != nil && ok {
		return nil, destroyedHereError(idOrName, at)
	}
	if err != nil {
		return nil, cmdutil.WithHint(err, "paratro wallet list shows the wallets this home knows")
	}
	return w, nil
}
