package walletcmd

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/output"
)

type signOptions struct {
	Digest, Message, Signers string
	Timeout                  time.Duration
}

func newCmdSign(f *cmdutil.Factory) *cobra.Command {
	opts := &signOptions{}
	cmd := &cobra.Command{
		Use:   "sign WALLET (--digest HEX | --message TEXT) [--signers a,b]",
		Short: "Sign a digest or a message with a wallet's parties",
		Long: `Ask a wallet's parties to sign. Every party is asked; the first REQUIRED
to approve sign, unless --signers names them. The signature is checked
against the wallet's key here, with the chain's own code, before it is
printed.

--digest signs a 32-byte digest as is. --message signs an Ethereum
personal message (EIP-191: the digest is keccak256 of the prefixed
message). ECDSA signatures are r || s || v in hex (low s, v = 0 or 1);
Schnorr signatures are 64-byte BIP-340 signatures.

WALLET is a wallet ID or name known to this home (paratro wallet list).`,
		Example: `  $ paratro wallet sign wal_7hq2mzk4t6a3bx5c --digest 0x5c2f...e1
  $ paratro wallet sign ops --message "hello" --signers ana,vault --output json | jq -r .signature`,
		Args: cmdutil.ExactArgs(1, "the wallet ID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return signRun(cmd, f, opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.Digest, "digest", "", "the 32-byte digest to sign, in hex")
	cmd.Flags().StringVar(&opts.Message, "message", "", "an Ethereum personal message (EIP-191) to sign")
	cmd.Flags().StringVar(&opts.Signers, "signers", "", "comma-separated names of exactly REQUIRED signers (default: the first to approve)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 2*time.Minute, "give up if not signed within this time")
	return cmd
}

type signJSON struct {
	Wallet     string   `json:"wallet"`
	Digest     string   `json:"digest"`
	Signature  string   `json:"signature"`
	Signers    []string `json:"signers"`
	Address    string   `json:"address,omitempty"`
	PublicKey  string   `json:"public_key"`
	Scheme     string   `json:"scheme"`
	Epoch      uint64   `json:"epoch"`
	CeremonyID string   `json:"ceremony_id"`
	ElapsedMS  int64    `json:"elapsed_ms"`
}

func signRun(cmd *cobra.Command, f *cmdutil.Factory, opts *signOptions, walletArg string) error {
	var digest []byte
	switch {
	case opts.Digest != "" && opts.Message != "":
		return cmdutil.FlagErrorf("give --digest or --message, not both")
	case opts.Digest != "":
		d, err := hex.DecodeString(strings.TrimPrefix(opts.Digest, "0x"))
		if err != nil || len(d) != 32 {
			return cmdutil.FlagErrorf("invalid --digest: give 32 bytes as 64 hex characters")
		}
		digest = d
	case opts.Message != "":
		digest = ethereum.TextHash([]byte(opts.Message))
	default:
		return cmdutil.FlagErrorf("give what to sign: --digest HEX or --message TEXT")
	}
	if opts.Timeout <= 0 {
		return cmdutil.FlagErrorf("--timeout must be positive")
	}
	s, err := openSession(cmd, f)
	if err != nil {
		return err
	}
	defer s.close()
	w, err := s.home.Wallet(walletArg)
	if err != nil {
		return cmdutil.WithHint(err, "paratro wallet list shows the wallets this home knows")
	}
	if opts.Message != "" && w.Chain != "ethereum" {
		return cmdutil.FlagErrorf("--message signs Ethereum personal messages; %s is a %s wallet: use --digest", w.Name, w.Chain)
	}
	epoch, cd := current(s.home, w)
	req := &coord.Request{Kind: ceremony.KindSign, Scheme: ceremony.Scheme(w.Scheme), WalletID: w.ID, WalletName: w.Name,
		Chain: w.Chain, Parties: w.Parties, Required: w.Required, Epoch: epoch, ConfigDigest: cd,
		Digest: hex.EncodeToString(digest), Deadline: f.Now().Add(opts.Timeout), CreatedAt: f.Now().UTC()}
	if opts.Message != "" {
		req.Summary = fmt.Sprintf("Ethereum personal message %q", opts.Message)
	}
	if opts.Signers != "" {
		names := splitList(opts.Signers)
		if len(names) != w.Required {
			return cmdutil.FlagErrorf("--signers names %d parties; %s needs exactly %d", len(names), w.Name, w.Required)
		}
		signers, err := resolve(s.home, names)
		if err != nil {
			return err
		}
		for _, p := range signers {
			if _, ok := identity.Find(w.Parties, p.Fingerprint()); !ok {
				return cmdutil.FlagErrorf("%s is not a party of %s", p.Name, w.Name)
			}
			req.Signers = append(req.Signers, p.Fingerprint())
		}
	}
	rep, err := s.initiate(cmd.Context(), req)
	if err != nil {
		return err
	}
	sigHex := rep.Result().Signature
	sig, _ := hex.DecodeString(sigHex)
	if err := verify(w, digest, sig); err != nil {
		return fmt.Errorf("the parties returned a signature that does not verify against %s: %w", w.ID, err)
	}
	var signers []string
	for _, p := range rep.Signers {
		signers = append(signers, p.Name)
	}
	if cmdutil.OutputFormat(cmd) == output.FormatJSON {
		return output.JSON(f.IO.Out, signJSON{Wallet: w.ID, Digest: hex.EncodeToString(digest), Signature: sigHex, Signers: signers,
			Address: w.Address, PublicKey: w.PublicKey, Scheme: w.Scheme, Epoch: epoch, CeremonyID: rep.CeremonyID,
			ElapsedMS: rep.Elapsed.Milliseconds()})
	}
	if !s.quiet {
		fmt.Fprintf(f.IO.ErrOut, "signed by %s in %s; signature verified\n", strings.Join(signers, " and "), rep.Elapsed.Round(10*time.Millisecond))
	}
	pairs := [][2]string{{"wallet", w.ID}, {"digest", "0x" + hex.EncodeToString(digest)}, {"signature", sigHex}, {"signers", strings.Join(signers, ", ")}}
	if w.Address != "" {
		pairs = append(pairs, [2]string{"address", w.Address})
	}
	return output.KeyValues(f.IO.Out, pairs)
}

// verify checks sig with the chain's code, independently of the engine.
func verify(w *home.Wallet, digest, sig []byte) error {
	if w.Scheme == string(ceremony.SchemeSchnorr) {
		return bitcoin.VerifySchnorr(hexOrEmpty(w.PublicKey), digest, sig)
	}
	addr, err := ethereum.Address(hexOrEmpty(w.PublicKey))
	if err != nil {
		return err
	}
	return ethereum.VerifyDigest(addr, digest, sig)
}

// current is the wallet's epoch and configuration: from this home's own
// share when it holds one (always current), else from the record.
func current(h *home.Home, w *home.Wallet) (uint64, string) {
	if st, err := h.Store.Active(w.ID, h.ID.Fingerprint()); err == nil {
		defer st.Wipe()
		return st.Epoch, hex.EncodeToString(st.ConfigDigest)
	}
	return w.Epoch, w.ConfigDigest
}
