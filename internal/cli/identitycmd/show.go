package identitycmd

import (
	"encoding/hex"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/initcmd"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/output"
)

func newCmdShow(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print this operator's name, fingerprint and public keys",
		Long: `Print this operator's identity: name, fingerprint and public keys. Only
public keys are shown; nothing here is secret. With --output json the
object is what co-holders pass to "paratro identity add".`,
		Example: `  $ paratro identity show
  $ paratro identity show --output json > ana.json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := cmdutil.HomeDir(cmd, f)
			if err != nil {
				return err
			}
			// Public only: no keyring needed.
			pub, err := identity.LoadPublic(dir)
			if err == identity.ErrNoIdentity {
				return cmdutil.WithHint(err, "run paratro init --name NAME first (or give the right --home)")
			}
			if err != nil {
				return err
			}
			j := initcmd.IdentityJSON{Name: pub.Name, Fingerprint: pub.Fingerprint(),
				SigningKey: hex.EncodeToString(pub.SigningKey), BoxKey: hex.EncodeToString(pub.BoxKey)}
			if cmdutil.OutputFormat(cmd) == output.FormatJSON {
				return output.JSON(f.IO.Out, j)
			}
			return output.KeyValues(f.IO.Out, [][2]string{
				{"name", j.Name},
				{"fingerprint", pub.DisplayFingerprint()},
				{"signing key", j.SigningKey + " (Ed25519)"},
				{"box key", j.BoxKey + " (X25519)"},
			})
		},
	}
}
