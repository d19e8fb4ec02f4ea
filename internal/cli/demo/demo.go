// Package demo implements "paratro demo": a wallet's whole life, run
// locally by several key holders, each with its own home and party, through
// an embedded relay on loopback.
package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/progress"
)

// DemoOptions are the inputs of demoRun.
type DemoOptions struct {
	IO     *iostreams.IOStreams
	Now    func() time.Time
	Output output.Format
	Quiet  bool

	Schemes  []ceremony.Scheme // wallets to run, in order
	Required int               // signers needed
	Total    int               // key holders
	Dir      string            // keep the holders' homes here; "" = a temporary directory, removed
}

// NewCmdDemo returns the "demo" command. runF replaces demoRun in tests.
func NewCmdDemo(f *cmdutil.Factory, runF func(context.Context, *DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{IO: f.IO, Now: f.Now}
	var scheme, threshold string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a wallet's whole life locally: create, sign, rotate keys, sign again",
		Long: `Run the whole life of a threshold wallet on this machine, with three key
holders (alice, bob and carol). Each holder has its own home directory, its
own identity, its own passphrase-protected keyring and its own sealed share
store, as if on its own machine. The demo runs an embedded relay on
127.0.0.1 and three parties that talk to it over HTTP with signed,
end-to-end encrypted envelopes: the path real holders take with "paratro
relay serve" and "paratro party run" on their own machines. Every holder
trusts the others and approves every request.

For each scheme the demo
  1. creates a 2-of-3 wallet by distributed key generation (ECDSA: CMP,
     which spends a few seconds making Paillier keys; Schnorr: FROST),
     and every holder confirms the same result before its share is active;
  2. signs a digest with two holders and verifies the signature with the
     chain's reference code (go-ethereum's ecrecover, btcec's BIP-340);
  3. rotates every holder's share (refresh) and checks that the address and
     public key did not change and the old shares are gone;
  4. signs again with a different pair of holders, and verifies.

No full private key exists at any point. The holders' homes and the
relay's data are deleted at the end unless --dir is given. The keys are
throwaway: never fund them.

Progress goes to stderr; the results go to stdout, as a table or, with
--output json, as an object whose signature entries each carry digest,
signature, address and public_key. ECDSA signatures are r || s || v in hex,
with s in the low half of the order and v the recovery ID (0 or 1);
Schnorr signatures are 64-byte BIP-340 signatures.`,
		Example: `  $ paratro demo
  $ paratro demo --scheme schnorr
  $ paratro demo --threshold 3-of-5 --dir ./demo-homes
  $ paratro demo --output json | jq -r '.wallets[].signatures[].signature'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Schemes, err = parseSchemes(scheme); err != nil {
				return err
			}
			if opts.Required, opts.Total, err = cmdutil.ParseThreshold("threshold", threshold); err != nil {
				return err
			}
			if opts.Total > len(partyNames) {
				return cmdutil.FlagErrorf("invalid --threshold %q: the demo runs at most %d holders", threshold, len(partyNames))
			}
			opts.Output, opts.Quiet = cmdutil.OutputFormat(cmd), cmdutil.Quiet(cmd)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return demoRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&scheme, "scheme", "both", "signature scheme: ecdsa, schnorr or both")
	cmd.Flags().StringVar(&threshold, "threshold", "2-of-3", "signers needed of how many holders, e.g. 3-of-5")
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "keep the holders' home directories (and the relay's data) in `DIR`, which must be new or empty (default: a temporary directory, removed)")
	_ = cmd.RegisterFlagCompletionFunc("scheme", cobra.FixedCompletions([]string{"both", "ecdsa", "schnorr"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func parseSchemes(s string) ([]ceremony.Scheme, error) {
	switch s {
	case "both":
		return []ceremony.Scheme{ceremony.SchemeECDSA, ceremony.SchemeSchnorr}, nil
	case string(ceremony.SchemeECDSA), string(ceremony.SchemeSchnorr):
		return []ceremony.Scheme{ceremony.Scheme(s)}, nil
	}
	return nil, cmdutil.FlagErrorf("invalid --scheme %q: want ecdsa, schnorr or both", s)
}

// demoRun runs the demo and prints its report.
func demoRun(ctx context.Context, opts *DemoOptions) error {
	base, cleanup, err := homes(opts.Dir)
	if err != nil {
		return err
	}
	defer cleanup()
	// A party that stops on its own cancels ctx with the reason, so that
	// the step in progress ends now rather than at its deadline.
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	nw, err := startNetwork(ctx, base, opts.Total, fail)
	if err != nil {
		return err
	}
	defer nw.stop() // before cleanup removes the homes
	report := progress.New(opts.IO.ErrOut, opts.IO.IsStderrTTY(), opts.Quiet, opts.Now)
	began := opts.Now()
	r := &demoReport{StartedAt: began.UTC().Format(time.RFC3339)}
	if opts.Dir != "" {
		r.Homes = base
	}
	for _, s := range opts.Schemes {
		l := &lifecycle{scheme: s, required: opts.Required, net: nw, report: report, now: opts.Now}
		w, err := l.run(ctx)
		if err != nil {
			return err
		}
		r.Wallets = append(r.Wallets, *w)
	}
	r.DurationMS = opts.Now().Sub(began).Milliseconds()
	if opts.Output == output.FormatJSON {
		return output.JSON(opts.IO.Out, r)
	}
	return printTable(opts.IO.Out, r)
}

// homes returns where the holders live: dir (created, kept) or a new
// temporary directory removed by cleanup.
func homes(dir string) (string, func(), error) {
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", nil, fmt.Errorf("--dir: %w", err)
		}
		if entries, err := os.ReadDir(abs); err == nil && len(entries) > 0 {
			return "", nil, cmdutil.FlagErrorf("--dir %s is not empty: every demo run makes new holders with new keyrings; remove it or choose a new directory", dir)
		}
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return "", nil, fmt.Errorf("create --dir: %w", err)
		}
		return abs, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "paratro-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("create a temporary directory: %w", err)
	}
	return tmp, func() { _ = os.RemoveAll(tmp) }, nil
}
