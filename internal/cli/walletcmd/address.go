package walletcmd

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/shares"
)

type addressOptions struct {
	IO     *iostreams.IOStreams
	Wallet string
	// Index is the BIP-32 child; nil means the wallet's own address.
	Index  *uint32
	Format output.Format
	// Open opens the home (and returns how to close its keyring).
	Open func() (*home.Home, func(), error)
}

func newCmdAddress(f *cmdutil.Factory) *cobra.Command {
	opts := &addressOptions{IO: f.IO}
	var index string
	cmd := &cobra.Command{
		Use:   "address WALLET [--index N]",
		Short: "Show a wallet's address, or the address of one of its derived keys",
		Long: `Show the address (EIP-55 for Ethereum wallets) and public key of a wallet,
or with --index N of its BIP-32 child N: one key generation gives many
addresses, each signed for with "paratro wallet sign WALLET --index N".

The child is derived by unhardened BIP-32 derivation (m/N) from the
wallet key and the chain key agreed at key generation. The chain key is
kept only in the shares, so --index needs this home's own share of the
wallet; it runs no ceremony and asks no one. N is 0 to 2147483647:
hardened indexes need the whole private key, which no party has. Schnorr
wallets have no chain key (FROST key generation makes none) and cannot
derive.

Anyone who learns the public key together with the chain key can link
every child address to the wallet: this command prints only one child's
key at a time, never the chain key.`,
		Example: `  $ paratro wallet address ops
  $ paratro wallet address ops --index 7
  $ paratro wallet address ops --index 7 --output json | jq -r .address`,
		Args: cmdutil.ExactArgs(1, "the wallet ID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Wallet, opts.Format = args[0], cmdutil.OutputFormat(cmd)
			if cmd.Flags().Changed("index") {
				i, err := ParseIndex(index)
				if err != nil {
					return err
				}
				opts.Index = &i
			}
			opts.Open = func() (*home.Home, func(), error) { return cmdutil.OpenHome(cmd, f) }
			return addressRun(opts)
		},
	}
	cmd.Flags().StringVar(&index, "index", "", "the BIP-32 child index, 0-2147483647 (default: the wallet's own address)")
	return cmd
}

// ParseIndex parses an --index value: an unhardened BIP-32 index.
func ParseIndex(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, cmdutil.FlagErrorf("invalid --index %q: give a whole number from 0 to %d", s, ceremony.HardenedIndex-1)
	}
	if n >= ceremony.HardenedIndex {
		return 0, cmdutil.FlagErrorf("invalid --index %s: hardened derivation unsupported (2^31 and up need the whole private key); give 0 to %d", s, ceremony.HardenedIndex-1)
	}
	return uint32(n), nil
}

type addressJSON struct {
	Wallet    string  `json:"wallet"`
	Name      string  `json:"name"`
	Chain     string  `json:"chain"`
	Scheme    string  `json:"scheme"`
	Index     *uint32 `json:"index,omitempty"`
	Path      string  `json:"path,omitempty"`
	Address   string  `json:"address,omitempty"`
	PublicKey string  `json:"public_key"`
}

func addressRun(opts *addressOptions) error {
	h, closeKR, err := opts.Open()
	if err != nil {
		return err
	}
	defer closeKR()
	w, err := h.Wallet(opts.Wallet)
	if err != nil {
		return cmdutil.WithHint(err, "paratro wallet list shows the wallets this home knows")
	}
	out := addressJSON{Wallet: w.ID, Name: w.Name, Chain: w.Chain, Scheme: w.Scheme, Address: w.Address, PublicKey: w.PublicKey}
	if opts.Index != nil {
		pub, err := childKey(h, w, *opts.Index)
		if err != nil {
			return err
		}
		out.Index, out.Path = opts.Index, fmt.Sprintf("m/%d", *opts.Index)
		out.Address, out.PublicKey = childAddress(w, pub), hex.EncodeToString(pub)
	}
	if opts.Format == output.FormatJSON {
		return output.JSON(opts.IO.Out, out)
	}
	pairs := [][2]string{{"wallet", w.ID}, {"name", w.Name}}
	if out.Path != "" {
		pairs = append(pairs, [2]string{"path", out.Path})
	}
	if out.Address != "" {
		pairs = append(pairs, [2]string{"address", out.Address})
	}
	pairs = append(pairs, [2]string{"public key", out.PublicKey})
	return output.KeyValues(opts.IO.Out, pairs)
}

// childKey derives the public key of child i of w from this home's own
// share of it.
func childKey(h *home.Home, w *home.Wallet, i uint32) ([]byte, error) {
	if w.Scheme == string(ceremony.SchemeSchnorr) {
		return nil, cmdutil.FlagErrorf("%s is a schnorr wallet: %v", w.Name, ceremony.ErrSchnorrDerivation)
	}
	hd := &holder.Holder{ID: party.ID(h.ID.Fingerprint()), Store: h.Store}
	sh, _, err := hd.Share(w.ID)
	switch {
	case errors.Is(err, shares.ErrNotFound):
		return nil, cmdutil.WithHint(fmt.Errorf("this home holds no share of %s: derived addresses need the chain key, which only the shares hold", w.Name),
			"run this on the home of one of the wallet's holders (paratro wallet show "+w.Name+" lists them)")
	case err != nil:
		return nil, err
	case hex.EncodeToString(sh.PublicKey()) != w.PublicKey:
		return nil, fmt.Errorf("this home's share of %s is for another key than the wallet record's", w.Name)
	}
	pub, err := sh.ChildPublicKey(i)
	if err != nil {
		return nil, fmt.Errorf("derive child %d of %s: %w", i, w.Name, err)
	}
	return pub, nil
}

// childAddress is the address of a derived public key on w's chain (EIP-55
// for Ethereum); empty where this version knows no address form.
func childAddress(w *home.Wallet, pub []byte) string {
	if w.Chain != "ethereum" {
		return ""
	}
	a, err := ethereum.Address(pub)
	if err != nil {
		return ""
	}
	return a
}
