package walletcmd

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/output"
)

type psbtJSON struct {
	Wallet     string   `json:"wallet"`
	Network    string   `json:"network"`
	Inputs     []int    `json:"inputs_signed"`
	Signers    []string `json:"signers"`
	SignedPSBT string   `json:"signed_psbt"`
	RawTx      string   `json:"raw_tx"`
	TxID       string   `json:"txid"`
	ElapsedMS  int64    `json:"elapsed_ms"`
}

// signPSBTRun signs every input of a PSBT that pays to the wallet: one
// ceremony per input (each holder approves each, seeing the whole spend),
// then finalizes the PSBT and checks the transaction with btcd's script
// engine before printing it.
func signPSBTRun(cmd *cobra.Command, f *cmdutil.Factory, opts *signOptions, walletArg string) error {
	net := bitcoin.Network(opts.Network)
	if _, err := net.Params(); err != nil {
		return cmdutil.FlagErrorf("invalid --network %q: use mainnet, testnet or regtest", opts.Network)
	}
	if opts.Timeout <= 0 {
		return cmdutil.FlagErrorf("--timeout must be positive")
	}
	if cmd.Flags().Changed("index") {
		return cmdutil.FlagErrorf("--index with --psbt is not supported yet: sign a PSBT that spends from the wallet key")
	}
	raw, err := readPSBT(f, opts.PSBT)
	if err != nil {
		return err
	}
	pk, err := bitcoin.ParsePSBT(raw)
	if err != nil {
		return cmdutil.FlagErrorf("invalid --psbt %s: %v", opts.PSBT, err)
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
	if w.Chain != "bitcoin" {
		return cmdutil.FlagErrorf("--psbt signs for Bitcoin; %s is a %s wallet", w.Name, w.Chain)
	}
	pub := hexOrEmpty(w.PublicKey)
	plan, err := pk.Plan(pub, w.Scheme, net)
	if err != nil {
		return cmdutil.FlagErrorf("--psbt %s: %v", opts.PSBT, err)
	}
	if len(plan) == 0 {
		return cmdutil.FlagErrorf("--psbt %s: every input is already signed: nothing to sign", opts.PSBT)
	}
	summary, err := pk.Summary(net, pub)
	if err != nil {
		return cmdutil.FlagErrorf("--psbt %s: %v", opts.PSBT, err)
	}
	data, err := pk.Serialize()
	if err != nil {
		return err
	}
	signerFPs, err := signersOf(s.home, w, opts.Signers)
	if err != nil {
		return err
	}
	if !s.quiet {
		fmt.Fprintf(f.IO.ErrOut, "request  sign %d input(s) of: %s\n", len(plan), summary)
	}
	epoch, cd := current(s.home, w)
	started := time.Now()
	sigs := map[int][]byte{}
	var inputs []int
	var signedBy []string
	for _, in := range plan {
		i := in.Index
		req := &coord.Request{Kind: ceremony.KindSign, Scheme: ceremony.Scheme(w.Scheme), WalletID: w.ID, WalletName: w.Name,
			Chain: w.Chain, Parties: w.Parties, Required: w.Required, Epoch: epoch, ConfigDigest: cd,
			Digest: hex.EncodeToString(in.Digest), Taproot: in.Kind == bitcoin.KindP2TR, Signers: signerFPs,
			Payload:  &coord.Payload{Format: coord.PayloadBtcPSBT, Data: base64.StdEncoding.EncodeToString(data), Input: &i, Network: string(net)},
			Deadline: f.Now().Add(opts.Timeout), CreatedAt: f.Now().UTC()}
		if !s.quiet && len(plan) > 1 {
			fmt.Fprintf(f.IO.ErrOut, "input %d (%s):\n", i, in.Kind)
		}
		rep, err := s.initiate(cmd.Context(), req)
		if err != nil {
			return fmt.Errorf("input %d: %w", i, err)
		}
		sig, err := hex.DecodeString(rep.Result().Signature)
		if err != nil {
			return fmt.Errorf("input %d: the parties returned a malformed signature", i)
		}
		sigs[i] = sig
		inputs = append(inputs, i)
		signedBy = signedBy[:0]
		for _, p := range rep.Signers {
			signedBy = append(signedBy, p.Name)
		}
	}
	// Finalize checks each signature against its input's key and runs btcd's
	// script engine on the whole transaction.
	final, rawTx, txid, err := pk.Finalize(sigs, pub)
	if err != nil {
		return fmt.Errorf("the signed transaction does not verify: %w", err)
	}
	out := psbtJSON{Wallet: w.ID, Network: string(net), Inputs: inputs, Signers: signedBy,
		SignedPSBT: base64.StdEncoding.EncodeToString(final), RawTx: hex.EncodeToString(rawTx), TxID: txid,
		ElapsedMS: time.Since(started).Milliseconds()}
	if cmdutil.OutputFormat(cmd) == output.FormatJSON {
		return output.JSON(f.IO.Out, out)
	}
	if !s.quiet {
		fmt.Fprintf(f.IO.ErrOut, "signed %d input(s) by %s; the transaction passes btcd's script engine\n", len(inputs), strings.Join(signedBy, " and "))
	}
	return output.KeyValues(f.IO.Out, [][2]string{{"wallet", w.ID}, {"txid", txid}, {"raw_tx", out.RawTx}, {"signed_psbt", out.SignedPSBT}})
}

// readPSBT reads --psbt: a file or stdin ("-"), base64 or binary.
func readPSBT(f *cmdutil.Factory, path string) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(f.IO.In, bitcoin.MaxPSBTSize*2))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, cmdutil.FlagErrorf("cannot read --psbt: %v", err)
	}
	return b, nil
}
