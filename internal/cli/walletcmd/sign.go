package walletcmd

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
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
	Digest, Message, Signers, Tx string
	Timeout                      time.Duration
}

func newCmdSign(f *cmdutil.Factory) *cobra.Command {
	opts := &signOptions{}
	cmd := &cobra.Command{
		Use:   "sign WALLET (--tx FILE | --message TEXT | --digest HEX) [--signers a,b]",
		Short: "Sign a transaction, a message or a digest with a wallet's parties",
		Long: `Ask a wallet's parties to sign. Every party is asked; the first REQUIRED
to approve sign, unless --signers names them. The signature is checked
against the wallet's key here, with the chain's own code, before it is
printed.

--tx FILE signs an Ethereum transaction written as JSON (FILE "-" reads
stdin): chain_id, nonce, to, value (wei, or with units: "1.5 ether",
"30 gwei"), gas, and either max_fee_per_gas and max_priority_fee_per_gas
(EIP-1559) or gas_price (legacy, EIP-155), and data (hex, optional). It
prints the signed raw transaction (raw_tx) and its hash, ready to
broadcast. --message signs an Ethereum personal message (EIP-191: the
digest is keccak256 of the prefixed message). With --tx and --message
every party decodes what is signed itself, checks it against the digest,
and shows its holder the recipient, amount, fee and nonce (or the
message); its policy applies to that. --digest signs a 32-byte digest as
is: the parties see only the digest.

ECDSA signatures are r || s || v in hex (low s, v = 0 or 1); Schnorr
signatures are 64-byte BIP-340 signatures.

WALLET is a wallet ID or name known to this home (paratro wallet list).`,
		Example: `  $ cat payout.json
  {"chain_id": 11155111, "nonce": 7, "to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
   "value": "0.25 ether", "gas": 21000, "max_fee_per_gas": "30 gwei", "max_priority_fee_per_gas": "1.5 gwei"}
  $ paratro wallet sign ops --tx payout.json --output json | jq -r .raw_tx
  $ paratro wallet sign wal_7hq2mzk4t6a3bx5c --digest 0x5c2f...e1
  $ paratro wallet sign ops --message "hello" --signers ana,vault --output json | jq -r .signature`,
		Args: cmdutil.ExactArgs(1, "the wallet ID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return signRun(cmd, f, opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.Digest, "digest", "", "the 32-byte digest to sign, in hex")
	cmd.Flags().StringVar(&opts.Message, "message", "", "an Ethereum personal message (EIP-191) to sign")
	cmd.Flags().StringVar(&opts.Tx, "tx", "", "an Ethereum transaction to sign, as a JSON file (- for stdin)")
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
	RawTx      string   `json:"raw_tx,omitempty"`
	TxHash     string   `json:"tx_hash,omitempty"`
}

func signRun(cmd *cobra.Command, f *cmdutil.Factory, opts *signOptions, walletArg string) error {
	given := 0
	for _, v := range []string{opts.Digest, opts.Message, opts.Tx} {
		if v != "" {
			given++
		}
	}
	var digest []byte
	var tx *ethereum.Tx
	var payload *coord.Payload
	switch {
	case given > 1:
		return cmdutil.FlagErrorf("give one of --tx, --message and --digest")
	case opts.Digest != "":
		d, err := hex.DecodeString(strings.TrimPrefix(opts.Digest, "0x"))
		if err != nil || len(d) != 32 {
			return cmdutil.FlagErrorf("invalid --digest: give 32 bytes as 64 hex characters")
		}
		digest = d
	case opts.Message != "":
		digest = ethereum.TextHash([]byte(opts.Message))
		payload = &coord.Payload{Format: coord.PayloadEthMessage, Data: opts.Message}
	case opts.Tx != "":
		var raw []byte
		var err error
		if tx, raw, err = readTx(f, opts.Tx); err != nil {
			return err
		}
		digest = tx.Digest
		payload = &coord.Payload{Format: coord.PayloadEthTx, Data: hex.EncodeToString(raw)}
	default:
		return cmdutil.FlagErrorf("give what to sign: --tx FILE, --message TEXT or --digest HEX")
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
	if payload != nil && (w.Chain != "ethereum" || w.Scheme != string(ceremony.SchemeECDSA)) {
		return cmdutil.FlagErrorf("--tx and --message sign for Ethereum; %s is a %s wallet: use --digest", w.Name, w.Chain)
	}
	epoch, cd := current(s.home, w)
	req := &coord.Request{Kind: ceremony.KindSign, Scheme: ceremony.Scheme(w.Scheme), WalletID: w.ID, WalletName: w.Name,
		Chain: w.Chain, Parties: w.Parties, Required: w.Required, Epoch: epoch, ConfigDigest: cd,
		Digest: hex.EncodeToString(digest), Payload: payload, Deadline: f.Now().Add(opts.Timeout), CreatedAt: f.Now().UTC()}
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
	if !s.quiet {
		switch {
		case tx != nil:
			fmt.Fprintf(f.IO.ErrOut, "request  sign %s\n", tx.Summary())
		case opts.Message != "":
			fmt.Fprintf(f.IO.ErrOut, "request  sign the Ethereum personal message %q\n", opts.Message)
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
	out := signJSON{Wallet: w.ID, Digest: hex.EncodeToString(digest), Signature: sigHex, Signers: signers,
		Address: w.Address, PublicKey: w.PublicKey, Scheme: w.Scheme, Epoch: epoch, CeremonyID: rep.CeremonyID,
		ElapsedMS: rep.Elapsed.Milliseconds()}
	if tx != nil {
		raw, hash, err := tx.Assemble(sig, w.Address)
		if err != nil {
			return fmt.Errorf("assemble the signed transaction: %w", err)
		}
		out.RawTx, out.TxHash = "0x"+hex.EncodeToString(raw), hash.Hex()
	}
	if cmdutil.OutputFormat(cmd) == output.FormatJSON {
		return output.JSON(f.IO.Out, out)
	}
	if !s.quiet {
		fmt.Fprintf(f.IO.ErrOut, "signed by %s in %s; signature verified\n", strings.Join(signers, " and "), rep.Elapsed.Round(10*time.Millisecond))
	}
	pairs := [][2]string{{"wallet", w.ID}, {"digest", "0x" + hex.EncodeToString(digest)}, {"signature", sigHex}, {"signers", strings.Join(signers, ", ")}}
	if w.Address != "" {
		pairs = append(pairs, [2]string{"address", w.Address})
	}
	if out.RawTx != "" {
		pairs = append(pairs, [2]string{"raw_tx", out.RawTx}, [2]string{"tx_hash", out.TxHash})
	}
	return output.KeyValues(f.IO.Out, pairs)
}

// readTx reads --tx: a JSON transaction from a file or stdin ("-").
func readTx(f *cmdutil.Factory, path string) (*ethereum.Tx, []byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(f.IO.In, 1<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, nil, cmdutil.FlagErrorf("cannot read --tx: %v", err)
	}
	spec, err := ethereum.ParseTxSpec(b)
	if err != nil {
		return nil, nil, cmdutil.FlagErrorf("invalid --tx %s: %v", path, err)
	}
	utx, err := spec.Unsigned()
	if err != nil {
		return nil, nil, cmdutil.FlagErrorf("invalid --tx %s: %v", path, err)
	}
	raw, err := ethereum.EncodeUnsigned(utx)
	if err != nil {
		return nil, nil, err
	}
	tx, err := ethereum.DecodeUnsigned(raw)
	return tx, raw, err
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
