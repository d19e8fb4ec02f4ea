package walletcmd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/output"
)

// CreateOptions are the flags of "wallet create".
type CreateOptions struct {
	Name, Chain, Threshold, Parties, Scheme string
	Timeout                                 time.Duration
}

func newCmdCreate(f *cmdutil.Factory) *cobra.Command {
	opts := &CreateOptions{}
	cmd := &cobra.Command{
		Use:   "create --name N --chain ethereum|bitcoin --threshold 2-of-3 --parties a,b,c",
		Short: "Create a threshold wallet with its parties (distributed key generation)",
		Long: `Ask the named parties to create a wallet together by distributed key
generation. Each party approves the request (prompt or policy), then they
run the protocol through the relay; each ends with its own share, and the
wallet's key never exists anywhere. The wallet is created only when every
party has confirmed the same public key.

--parties names trusted identities (paratro identity list), as many as the
threshold's total; you need not be one of them. ECDSA (CMP) key generation
takes several seconds (Paillier keys); --scheme schnorr (FROST, BIP-340) is
for bitcoin and takes milliseconds.

Creating a wallet needs the admin role on the relay, and every party must
be admitted to it (paratro operator). Once you have enrolled TOTP
(paratro mfa enroll), it also needs a code: paratro asks for it on a
terminal; scripts set PARATRO_OTP or pass --otp-stdin (exit status 4
without one, 5 when it is rejected).`,
		Example: `  $ paratro wallet create --name "Operations Wallet" --chain ethereum --threshold 2-of-3 --parties ana,ben,vault
  $ paratro wallet create --name cold --chain bitcoin --scheme schnorr --threshold 2-of-3 --parties ana,ben,vault --output json | jq -r .address`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return createRun(cmd, f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "the wallet's name")
	cmd.Flags().StringVar(&opts.Chain, "chain", "ethereum", "ethereum or bitcoin")
	cmd.Flags().StringVar(&opts.Threshold, "threshold", "", "REQUIRED-of-TOTAL, e.g. 2-of-3")
	cmd.Flags().StringVar(&opts.Parties, "parties", "", "comma-separated names (or fingerprints) of the TOTAL parties")
	cmd.Flags().StringVar(&opts.Scheme, "scheme", "", "ecdsa (default) or schnorr (bitcoin only)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 3*time.Minute, "give up if the wallet is not created within this time")
	cmdutil.AddOTPStdinFlag(cmd)
	return cmd
}

// createJSON is the --output json of wallet create.
type createJSON struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Chain      string      `json:"chain"`
	Scheme     string      `json:"scheme"`
	Address    string      `json:"address,omitempty"`
	PublicKey  string      `json:"public_key"`
	Threshold  thresholdJS `json:"threshold"`
	Parties    []partyJS   `json:"parties"`
	Epoch      uint64      `json:"epoch"`
	CeremonyID string      `json:"ceremony_id"`
	ElapsedMS  int64       `json:"elapsed_ms"`
}

type thresholdJS struct {
	Required int `json:"required"`
	Total    int `json:"total"`
}

type partyJS struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
}

func partiesJSON(list []identity.Public) []partyJS {
	out := make([]partyJS, len(list))
	for i, p := range list {
		out[i] = partyJS{p.Name, p.Fingerprint()}
	}
	return out
}

func createRun(cmd *cobra.Command, f *cmdutil.Factory, opts *CreateOptions) error {
	if strings.TrimSpace(opts.Name) == "" {
		return cmdutil.FlagErrorf("give --name: what people will call the wallet")
	}
	if opts.Threshold == "" {
		return cmdutil.FlagErrorf("give --threshold, e.g. 2-of-3")
	}
	required, total, err := cmdutil.ParseThreshold("threshold", opts.Threshold)
	if err != nil {
		return err
	}
	scheme, err := schemeFor(opts.Chain, opts.Scheme)
	if err != nil {
		return err
	}
	names := splitList(opts.Parties)
	if len(names) != total {
		return cmdutil.FlagErrorf("--parties names %d parties; --threshold %s needs %d", len(names), opts.Threshold, total)
	}
	if opts.Timeout <= 0 {
		return cmdutil.FlagErrorf("--timeout must be positive")
	}
	s, err := openSession(cmd, f)
	if err != nil {
		return err
	}
	defer s.close()
	parties, err := resolve(s.home, names)
	if err != nil {
		return err
	}
	if s.otp, err = createOTP(cmd, f, s); err != nil {
		return err
	}
	req := &coord.Request{Kind: ceremony.KindKeygen, Scheme: scheme, WalletID: holder.NewWalletID(), WalletName: opts.Name,
		Chain: opts.Chain, Parties: parties, Required: required, Deadline: f.Now().Add(opts.Timeout), CreatedAt: f.Now().UTC()}
	rep, err := s.initiate(cmd.Context(), req)
	if err != nil {
		return err
	}
	res := rep.Result()
	w := &home.Wallet{ID: req.WalletID, Name: req.WalletName, Chain: req.Chain, Scheme: string(scheme), Required: required,
		Parties: parties, Epoch: res.Epoch, PublicKey: res.PublicKey, ConfigDigest: res.ConfigDigest,
		Address: coord.AddressOf(req.Chain, scheme, hexOrEmpty(res.PublicKey)), CreatedAt: f.Now().UTC(), UpdatedAt: f.Now().UTC()}
	if err := s.home.SaveWallet(w); err != nil {
		return fmt.Errorf("the wallet was created, but its record could not be saved here: %w", err)
	}
	if cmdutil.OutputFormat(cmd) == output.FormatJSON {
		return output.JSON(f.IO.Out, createJSON{ID: w.ID, Name: w.Name, Chain: w.Chain, Scheme: w.Scheme, Address: w.Address,
			PublicKey: w.PublicKey, Threshold: thresholdJS{required, total}, Parties: partiesJSON(parties), Epoch: w.Epoch,
			CeremonyID: rep.CeremonyID, ElapsedMS: rep.Elapsed.Milliseconds()})
	}
	if !s.quiet {
		fmt.Fprintf(f.IO.ErrOut, "wallet %s created in %s\n", w.ID, rep.Elapsed.Round(100*time.Millisecond))
	}
	return output.KeyValues(f.IO.Out, walletPairs(w, fmt.Sprintf("all %d parties hold an active share (epoch %d)", total, w.Epoch)))
}

// createOTP asks for a TOTP code when this operator has enrolled one: the
// relay then needs it to create a wallet. It registers the operator first.
func createOTP(cmd *cobra.Command, f *cmdutil.Factory, s *session) (string, error) {
	if err := s.register(cmd.Context()); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), cmdutil.RelayTimeout)
	defer cancel()
	me, err := s.relay.Whoami(ctx)
	if err != nil {
		return "", cmdutil.RelayHint(fmt.Errorf("wallet create: %w", err), s.op.URL)
	}
	if !me.MFA.Enrolled {
		return "", nil
	}
	return cmdutil.ReadOTP(cmd, f, s.home.ID.Name)
}

func walletPairs(w *home.Wallet, confirmed string) [][2]string {
	var names []string
	for _, p := range w.Parties {
		names = append(names, p.Name)
	}
	pairs := [][2]string{{"wallet", w.ID}, {"name", w.Name}, {"chain", w.Chain + " (" + w.Scheme + ")"}}
	if w.Address != "" {
		pairs = append(pairs, [2]string{"address", w.Address})
	}
	pairs = append(pairs, [2]string{"public key", w.PublicKey},
		[2]string{"threshold", fmt.Sprintf("%d of %d (%s)", w.Required, len(w.Parties), strings.Join(names, ", "))})
	if confirmed != "" {
		pairs = append(pairs, [2]string{"confirmed", confirmed})
	} else {
		pairs = append(pairs, [2]string{"epoch", fmt.Sprint(w.Epoch)})
	}
	return pairs
}

func schemeFor(chain, scheme string) (ceremony.Scheme, error) {
	switch chain {
	case "ethereum":
		if scheme != "" && scheme != "ecdsa" {
			return "", cmdutil.FlagErrorf("ethereum wallets are ECDSA; --scheme %s is for bitcoin", scheme)
		}
		return ceremony.SchemeECDSA, nil
	case "bitcoin":
		switch scheme {
		case "", "ecdsa":
			return ceremony.SchemeECDSA, nil
		case "schnorr":
			return ceremony.SchemeSchnorr, nil
		}
		return "", cmdutil.FlagErrorf("invalid --scheme %q: use ecdsa or schnorr", scheme)
	}
	return "", cmdutil.FlagErrorf("invalid --chain %q: use ethereum or bitcoin", chain)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// resolve maps names or fingerprints to trusted identities, refusing
// duplicates.
func resolve(h *home.Home, names []string) ([]identity.Public, error) {
	var out []identity.Public
	for _, n := range names {
		p, err := h.Resolve(n)
		if err != nil {
			return nil, cmdutil.WithHint(err, "trust it first: paratro identity add FILE --fingerprint FP (paratro identity list shows who is trusted)")
		}
		if slices.ContainsFunc(out, func(q identity.Public) bool { return q.Equal(p) }) {
			return nil, cmdutil.FlagErrorf("%s is named twice", p.Name)
		}
		out = append(out, p)
	}
	return out, nil
}
