// Package initcmd implements "paratro init": this operator's identity.
package initcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// InitOptions are the inputs of initRun.
type InitOptions struct {
	IO     *iostreams.IOStreams
	Output output.Format
	Name   string
	Open   func(name string) (*home.Home, func(), error)
}

// NewCmdInit returns the "init" command.
func NewCmdInit(f *cmdutil.Factory) *cobra.Command {
	opts := &InitOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "init --name NAME",
		Short: "Make this operator's identity (signing and encryption keys)",
		Long: `Make this operator's identity: an Ed25519 key that signs everything you
send (relay requests, approvals, protocol messages) and an X25519 key that
other parties encrypt protocol messages to. The private keys go into the
keyring (--keyring os, the default, or file: a passphrase-protected file in
the home, for headless machines); the public half is written to
identity.json in the home.

The fingerprint is what your co-holders compare, out of band (read it
aloud), before they trust your identity with "paratro identity add". It is
also your party ID in every ceremony.`,
		Example: `  $ paratro init --name ana
  $ PARATRO_KEYRING=file PARATRO_KEYRING_PASSPHRASE=... paratro init --name ci --home ./ci-home
  $ paratro identity show --output json > ana.json    # give this to your co-holders`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Output = cmdutil.OutputFormat(cmd)
			if opts.Name == "" {
				return cmdutil.FlagErrorf("give --name NAME: how your co-holders will know you (e.g. ana)")
			}
			if err := identity.ValidateName(opts.Name); err != nil {
				return cmdutil.FlagErrorf("invalid --name: %v", err)
			}
			opts.Open = func(name string) (*home.Home, func(), error) {
				dir, err := cmdutil.HomeDir(cmd, f)
				if err != nil {
					return nil, nil, err
				}
				if _, err := identity.LoadPublic(dir); err == nil {
					return nil, nil, cmdutil.WithHint(fmt.Errorf("%s already has an identity", dir),
						"paratro identity show prints it; use another --home for a second identity")
				}
				kr, closeKR, err := cmdutil.OpenKeyring(cmd, f, dir)
				if err != nil {
					return nil, nil, err
				}
				h, err := home.Init(dir, kr, name)
				if err != nil {
					closeKR()
					return nil, nil, err
				}
				return h, closeKR, nil
			}
			return initRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "your name as co-holders know you: 1-32 lower-case letters, digits, '.', '_' or '-'")
	return cmd
}

func initRun(opts *InitOptions) error {
	h, closeKR, err := opts.Open(opts.Name)
	if err != nil {
		return err
	}
	defer closeKR()
	if opts.Output == output.FormatJSON {
		return output.JSON(opts.IO.Out, Describe(h))
	}
	fmt.Fprintf(opts.IO.ErrOut, "identity %s created\n", h.ID.Name)
	return output.KeyValues(opts.IO.Out, [][2]string{
		{"name", h.ID.Name},
		{"fingerprint", h.ID.DisplayFingerprint() + "   (read it to your co-holders out of band)"},
		{"keyring", h.Keyring.Describe()},
		{"home", h.Dir},
	})
}

// IdentityJSON is the --output json form of an identity in its home.
type IdentityJSON struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	SigningKey  string `json:"signing_key"`
	BoxKey      string `json:"box_key"`
	Home        string `json:"home,omitempty"`
	Keyring     string `json:"keyring,omitempty"`
}

// Describe is the JSON description of h's identity; without home and
// keyring it is exactly what "paratro identity add" reads.
func Describe(h *home.Home) IdentityJSON {
	return IdentityJSON{Name: h.ID.Name, Fingerprint: h.ID.Fingerprint(),
		SigningKey: fmt.Sprintf("%x", []byte(h.ID.SigningKey)), BoxKey: fmt.Sprintf("%x", h.ID.BoxKey),
		Home: h.Dir, Keyring: h.Keyring.Describe()}
}
