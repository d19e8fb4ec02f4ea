package walletcmd

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain"
	"github.com/paratro/paratro/internal/chain/bitcoin"
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
	Index *uint32
	// Network is the Bitcoin network addresses are shown for.
	Network bitcoin.Network
	Format  output.Format
	// Open opens the home (and returns how to close its keyring).
	Open func() (*home.Home, func(), error)
}

func newCmdAddress(f *cmdutil.Factory) *cobra.Command {
	opts := &addressOptions{IO: f.IO}
	var index string
	cmd := &cobra.Command{
		Use:   "address WALLET [--index N]",
		Short: "Show a wallet's address, or the address of one of its derived keys",
		Long: `Show the address and public key of a wallet (EIP-55 for Ethereum; for
Bitcoin, P2WPKH bech32 for ECDSA wallets and the BIP-86 Taproot address,
bech32m, for Schnorr wallets; --network picks mainnet, testnet or regtest),
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
  $ paratro wallet address ops --index 7 --output json | jq -r .address
  $ paratro wallet address cold --network testnet`,
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
			if _, err := opts.Network.Params(); err != nil {
				return cmdutil.FlagErrorf("invalid --network %q: use mainnet, testnet or regtest", opts.Network)
			}
			opts.Open = func() (*home.Home, func(), error) { return cmdutil.OpenHome(cmd, f) }
			return addressRun(opts)
		},
	}
	cmd.Flags().StringVar(&index, "index", "", "the BIP-32 child index, 0-2147483647 (default: the wallet's own address)")
	cmd.Flags().StringVar((*string)(&opts.Network), "network", "mainnet", "for bitcoin wallets: mainnet, testnet or regtest")
	return cmd
}

// ParseIndex parses an --index value: an unhardened BIP-32 index. A
// number of 2^31 and up (however long) or a hardened form (44', 0h, a
// path with one) is refused as hardened; anything else that is not a
// whole number is invalid. The value is quoted in the message, cut to
// maxIndexShown bytes.
func ParseIndex(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	switch {
	case err == nil && n < ceremony.HardenedIndex:
		return uint32(n), nil
	case err == nil || errors.Is(err, strconv.ErrRange) || hardenedForm(s):
		return 0, cmdutil.FlagErrorf("invalid --index %s: hardened derivation unsupported (2^31 and up need the whole private key); give 0 to %d",
			shown(s), ceremony.HardenedIndex-1)
	}
	return 0, cmdutil.FlagErrorf("invalid --index %s: give a whole number from 0 to %d", shown(s), ceremony.HardenedIndex-1)
}

// maxIndexShown is how much of a bad --index value an error quotes.
const maxIndexShown = 40

// shown quotes s for an error message, cut to maxIndexShown bytes.
func shown(s string) string {
	if len(s) > maxIndexShown {
		return fmt.Sprintf("%q… (%d bytes)", s[:maxIndexShown], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// hardenedForm reports whether s writes a hardened index the BIP-32 way:
// a number followed by ', h or H, alone or in a path (m/44'/60'/0'/0/0).
func hardenedForm(s string) bool {
	for _, part := range strings.Split(s, "/") {
		if len(part) > 1 && strings.ContainsAny(part[len(part)-1:], "'hH") {
			if _, err := strconv.ParseUint(part[:len(part)-1], 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
				return true
			}
		}
	}
	return false
}

type addressJSON struct {
	Wallet    string  `json:"wallet"`
	Name      string  `json:"name"`
	Chain     string  `json:"chain"`
	Scheme    string  `json:"scheme"`
	Index     *uint32 `json:"index,omitempty"`
	Path      string  `json:"path,omitempty"`
	Address   string  `json:"address,omitempty"`
	Network   string  `json:"network,omitempty"`
	PublicKey string  `json:"public_key"`
}

func addressRun(opts *addressOptions) error {
	h, closeKR, err := opts.Open()
	if err != nil {
		return err
	}
	defer closeKR()
	w, err := knownWallet(h, opts.Wallet)
	if err != nil {
		return err
	}
	out := addressJSON{Wallet: w.ID, Name: w.Name, Chain: w.Chain, Scheme: w.Scheme, PublicKey: w.PublicKey}
	pub := hexOrEmpty(w.PublicKey)
	if opts.Index != nil {
		if pub, err = childKey(h, w, *opts.Index); err != nil {
			return err
		}
		out.Index, out.Path = opts.Index, fmt.Sprintf("m/%d", *opts.Index)
		out.PublicKey = hex.EncodeToString(pub)
	}
	out.Address, _ = chain.Address(w.Chain, ceremony.Scheme(w.Scheme), pub, opts.Network)
	if w.Chain == "bitcoin" {
		out.Network = string(opts.Network)
	}
	if opts.Format == output.FormatJSON {
		return output.JSON(opts.IO.Out, out)
	}
	pairs := [][2]string{{"wallet", w.ID}, {"name", w.Name}}
	if out.Path != "" {
		pairs = append(pairs, [2]string{"path", out.Path})
	}
	if out.Address != "" {
		if out.Network != "" {
			out.Address += " (" + out.Network + ")"
		}
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
		return nil, cmdutil.WithHint(noShareError{w.Name},
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

// noShareError says that this home holds no share of a wallet to derive
// from. It matches shares.ErrNotFound, which wallet sign --index relies on
// to let the signers derive the child key instead.
type noShareError struct{ wallet string }

func (e noShareError) Error() string {
	return "this home holds no share of " + e.wallet + ": derived addresses need the chain key, which only the shares hold"
}

func (e noShareError) Unwrap() error { return shares.ErrNotFound }

// childAddress is the address of a derived public key on w's chain
// (mainnet for Bitcoin); empty where there is none.
func childAddress(w *home.Wallet, pub []byte) string {
	a, err := chain.Address(w.Chain, ceremony.Scheme(w.Scheme), pub, bitcoin.Mainnet)
	if err != nil {
		return ""
	}
	return a
}
