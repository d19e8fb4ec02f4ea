package walletcmd

import (
	"encoding/hex"
	"errors"
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
	"github.com/paratro/paratro/shares"
)

type signOptions struct {
	Digest, Message, Signers, Tx string
	PSBT, Network                string
	Index                        string
	Timeout                      time.Duration
	NoPresignature               bool
}

func newCmdSign(f *cmdutil.Factory) *cobra.Command {
	opts := &signOptions{}
	cmd := &cobra.Command{
		Use:   "sign WALLET (--tx FILE | --message TEXT | --digest HEX) [--index N] [--signers a,b]",
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
broadcast. --psbt FILE signs a Bitcoin PSBT (BIP-174, base64 or binary;
"-" reads stdin): every input that pays to the wallet (P2WPKH for ECDSA
wallets, BIP-86 P2TR key path for Schnorr wallets) is signed in its own
ceremony, and the finalized PSBT (signed_psbt) and raw transaction are
printed once btcd's script engine accepts them; --network says which
network's addresses the holders are shown. --message signs an Ethereum personal message (EIP-191: the
digest is keccak256 of the prefixed message). With --tx and --message
every party decodes what is signed itself, checks it against the digest,
and shows its holder the recipient, amount, fee and nonce (or the
message); its policy applies to that. --digest signs a 32-byte digest as
is: the parties see only the digest.

--index N signs with the wallet's BIP-32 child N (0-2147483647, ECDSA
wallets only) instead of the wallet key: every party derives its child
share from its own share, and the signature is checked against the
child's key and address (paratro wallet address WALLET --index N shows
them). A --tx transaction is then sent from the child's address.

An ECDSA sign with the wallet key uses a presignature when its signers
hold one (party run --presign N keeps them ready): one round instead of
four, milliseconds of compute instead of about a second. Each party offers
unused presignatures with its approval; the ceremony uses one that all its
signers offered, and each of them marks it used on disk before signing, so
it never signs twice. Otherwise, or with --no-presignature, the full
protocol runs. The output says which ran (presignature, presignatures_left
in JSON).

ECDSA signatures are r || s || v in hex (low s, v = 0 or 1); Schnorr
signatures are 64-byte BIP-340 signatures.

WALLET is a wallet ID or name known to this home (paratro wallet list).`,
		Example: `  $ cat payout.json
  {"chain_id": 11155111, "nonce": 7, "to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
   "value": "0.25 ether", "gas": 21000, "max_fee_per_gas": "30 gwei", "max_priority_fee_per_gas": "1.5 gwei"}
  $ paratro wallet sign ops --tx payout.json --output json | jq -r .raw_tx
  $ paratro wallet sign cold --psbt spend.psbt --network testnet --output json | jq -r .raw_tx
  $ paratro wallet sign wal_7hq2mzk4t6a3bx5c --digest 0x5c2f...e1
  $ paratro wallet sign ops --message "hello" --signers ana,vault --output json | jq -r .signature
  $ paratro wallet sign ops --index 7 --tx payout.json --output json | jq -r .address,.raw_tx`,
		Args: cmdutil.ExactArgs(1, "the wallet ID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return signRun(cmd, f, opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.Digest, "digest", "", "the 32-byte digest to sign, in hex")
	cmd.Flags().StringVar(&opts.Message, "message", "", "an Ethereum personal message (EIP-191) to sign")
	cmd.Flags().StringVar(&opts.Tx, "tx", "", "an Ethereum transaction to sign, as a JSON file (- for stdin)")
	cmd.Flags().StringVar(&opts.PSBT, "psbt", "", "a Bitcoin PSBT to sign, base64 or binary file (- for stdin)")
	cmd.Flags().StringVar(&opts.Network, "network", "mainnet", "with --psbt, the Bitcoin network addresses are shown for: mainnet, testnet or regtest")
	cmd.Flags().StringVar(&opts.Index, "index", "", "sign with the wallet's BIP-32 child N, 0-2147483647 (ECDSA only; default: the wallet key)")
	cmd.Flags().StringVar(&opts.Signers, "signers", "", "comma-separated names of exactly REQUIRED signers (default: the first to approve)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 2*time.Minute, "give up if not signed within this time")
	cmd.Flags().BoolVar(&opts.NoPresignature, "no-presignature", false, "run the full signing protocol even when the signers hold a presignature")
	return cmd
}

type signJSON struct {
	Wallet     string   `json:"wallet"`
	Digest     string   `json:"digest"`
	Signature  string   `json:"signature"`
	Signers    []string `json:"signers"`
	Index      *uint32  `json:"index,omitempty"`
	Address    string   `json:"address,omitempty"`
	PublicKey  string   `json:"public_key"`
	Scheme     string   `json:"scheme"`
	Epoch      uint64   `json:"epoch"`
	CeremonyID string   `json:"ceremony_id"`
	ElapsedMS  int64    `json:"elapsed_ms"`
	RawTx      string   `json:"raw_tx,omitempty"`
	TxHash     string   `json:"tx_hash,omitempty"`
	// Presignature is the presignature used (empty: the full protocol);
	// PresignaturesLeft the fewest any signer still holds for the wallet.
	Presignature      string `json:"presignature,omitempty"`
	PresignaturesLeft *int   `json:"presignatures_left,omitempty"`
}

func signRun(cmd *cobra.Command, f *cmdutil.Factory, opts *signOptions, walletArg string) error {
	given := 0
	for _, v := range []string{opts.Digest, opts.Message, opts.Tx, opts.PSBT} {
		if v != "" {
			given++
		}
	}
	if given == 1 && opts.PSBT != "" {
		return signPSBTRun(cmd, f, opts, walletArg)
	}
	var digest []byte
	var tx *ethereum.Tx
	var payload *coord.Payload
	switch {
	case given > 1:
		return cmdutil.FlagErrorf("give one of --tx, --psbt, --message and --digest")
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
		return cmdutil.FlagErrorf("give what to sign: --tx FILE, --psbt FILE, --message TEXT or --digest HEX")
	}
	if opts.Timeout <= 0 {
		return cmdutil.FlagErrorf("--timeout must be positive")
	}
	var index *uint32
	if cmd.Flags().Changed("index") {
		i, err := ParseIndex(opts.Index)
		if err != nil {
			return err
		}
		index = &i
	}
	s, err := openSession(cmd, f)
	if err != nil {
		return err
	}
	defer s.close()
	w, err := knownWallet(s.home, walletArg)
	if err != nil {
		return err
	}
	if payload != nil && (w.Chain != "ethereum" || w.Scheme != string(ceremony.SchemeECDSA)) {
		return cmdutil.FlagErrorf("--tx and --message sign for Ethereum; %s is a %s wallet: use --digest", w.Name, w.Chain)
	}
	if index != nil && w.Scheme == string(ceremony.SchemeSchnorr) {
		return cmdutil.FlagErrorf("--index: %s is a schnorr wallet: %v", w.Name, ceremony.ErrSchnorrDerivation)
	}
	// The key the signature must verify against: the wallet's, or the
	// child's, derived here from this home's own share when it holds one.
	pub, addr := hexOrEmpty(w.PublicKey), w.Address
	derived := false
	if index != nil {
		child, err := childKey(s.home, w, *index)
		switch {
		case err == nil:
			pub, addr, derived = child, childAddress(w, child), true
		case !errors.Is(err, shares.ErrNotFound):
			return err
		}
	}
	epoch, cd := current(s.home, w)
	req := &coord.Request{Kind: ceremony.KindSign, Scheme: ceremony.Scheme(w.Scheme), WalletID: w.ID, WalletName: w.Name,
		Chain: w.Chain, Parties: w.Parties, Required: w.Required, Epoch: epoch, ConfigDigest: cd,
		Digest: hex.EncodeToString(digest), Payload: payload, Index: index, NoPresignature: opts.NoPresignature,
		Deadline: f.Now().Add(opts.Timeout), CreatedAt: f.Now().UTC()}
	if req.Signers, err = signersOf(s.home, w, opts.Signers); err != nil {
		return err
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
	if index != nil && !derived {
		// No share here to derive the child from: take the child key every
		// signer reported (Initiate refuses outcomes that differ), and say
		// so. The signature is still checked against it below.
		pub, addr = rep.PublicKey(), childAddress(w, rep.PublicKey())
		if !s.quiet {
			fmt.Fprintf(f.IO.ErrOut, "child %d's key is as the signers reported it: this home holds no share of %s to derive it\n", *index, w.Name)
		}
	}
	sigHex := rep.Result().Signature
	sig, _ := hex.DecodeString(sigHex)
	if err := verify(ceremony.Scheme(w.Scheme), pub, digest, sig); err != nil {
		what := w.ID
		if index != nil {
			what = fmt.Sprintf("child %d of %s", *index, w.ID)
		}
		return fmt.Errorf("the parties returned a signature that does not verify against %s: %w", what, err)
	}
	var signers []string
	for _, p := range rep.Signers {
		signers = append(signers, p.Name)
	}
	out := signJSON{Wallet: w.ID, Digest: hex.EncodeToString(digest), Signature: sigHex, Signers: signers,
		Index: index, Address: addr, PublicKey: hex.EncodeToString(pub), Scheme: w.Scheme, Epoch: epoch, CeremonyID: rep.CeremonyID,
		ElapsedMS: rep.Elapsed.Milliseconds()}
	out.Presignature, out.PresignaturesLeft = presignatureOf(rep)
	if tx != nil {
		raw, hash, err := tx.Assemble(sig, addr)
		if err != nil {
			return fmt.Errorf("assemble the signed transaction: %w", err)
		}
		out.RawTx, out.TxHash = "0x"+hex.EncodeToString(raw), hash.Hex()
	}
	if cmdutil.OutputFormat(cmd) == output.FormatJSON {
		return output.JSON(f.IO.Out, out)
	}
	if !s.quiet {
		how := "full protocol"
		if out.Presignature != "" {
			how = fmt.Sprintf("one round with presignature %.8s…", out.Presignature)
			if out.PresignaturesLeft != nil {
				how += fmt.Sprintf(", %d left", *out.PresignaturesLeft)
			}
		}
		fmt.Fprintf(f.IO.ErrOut, "signed by %s in %s (%s); signature verified\n", strings.Join(signers, " and "), roundElapsed(rep.Elapsed), how)
	}
	pairs := [][2]string{{"wallet", w.ID}, {"digest", "0x" + hex.EncodeToString(digest)}, {"signature", sigHex}, {"signers", strings.Join(signers, ", ")}}
	if index != nil {
		pairs = append(pairs, [2]string{"path", fmt.Sprintf("m/%d", *index)})
	}
	if addr != "" {
		pairs = append(pairs, [2]string{"address", addr})
	}
	if out.RawTx != "" {
		pairs = append(pairs, [2]string{"raw_tx", out.RawTx}, [2]string{"tx_hash", out.TxHash})
	}
	return output.KeyValues(f.IO.Out, pairs)
}

// signersOf resolves --signers: exactly the wallet's required number of its
// parties, as fingerprints; nil when the flag is empty (the first to
// approve sign).
func signersOf(h *home.Home, w *home.Wallet, list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	names := splitList(list)
	if len(names) != w.Required {
		return nil, cmdutil.FlagErrorf("--signers names %d parties; %s needs exactly %d", len(names), w.Name, w.Required)
	}
	signers, err := resolve(h, names)
	if err != nil {
		return nil, err
	}
	var fps []string
	for _, p := range signers {
		if _, ok := identity.Find(w.Parties, p.Fingerprint()); !ok {
			return nil, cmdutil.FlagErrorf("%s is not a party of %s", p.Name, w.Name)
		}
		fps = append(fps, p.Fingerprint())
	}
	return fps, nil
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

// verify checks sig over digest against publicKey (the wallet's, or a
// derived child's) with the chain's code, independently of the engine.
func verify(scheme ceremony.Scheme, publicKey, digest, sig []byte) error {
	if scheme == ceremony.SchemeSchnorr {
		return bitcoin.VerifySchnorr(publicKey, digest, sig)
	}
	addr, err := ethereum.Address(publicKey)
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

// presignatureOf reports the presignature a sign used and the fewest any
// signer still holds.
func presignatureOf(rep *coord.Report) (string, *int) {
	var left *int
	for _, o := range rep.Outcomes {
		if o.PresignaturesLeft != nil && (left == nil || *o.PresignaturesLeft < *left) {
			n := *o.PresignaturesLeft
			left = &n
		}
	}
	return rep.Result().Presignature, left
}

// roundElapsed rounds a duration for people: to the millisecond below a
// second (a one-round sign takes milliseconds), else to 10 ms.
func roundElapsed(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}
