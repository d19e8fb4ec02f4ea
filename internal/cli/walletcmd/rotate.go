package walletcmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/output"
)

// NewCmdRotateKeys returns "rotate-keys" (also "wallet rotate-keys").
func NewCmdRotateKeys(f *cmdutil.Factory) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "rotate-keys WALLET",
		Short: "Give every party a new share of the same key (refresh)",
		Long: `Ask every party of a wallet to refresh its share: afterwards each holds a
new share, the old ones are useless, and the key, public key and address
are unchanged. Every party takes part.

Rotating keys needs the admin role on the relay and a TOTP code (paratro
mfa enroll): paratro asks for it on a terminal, before anything starts;
scripts set PARATRO_OTP or pass --otp-stdin. Without a code the command
exits with status 4; a code the relay rejects gives status 5.

The refresh is two-phase: each party keeps its new share pending and
switches to it only when all parties have confirmed the same result. If
any party fails first, every party keeps its old share and the wallet
still signs; run rotate-keys again.`,
		Example: `  $ paratro rotate-keys wal_7hq2mzk4t6a3bx5c
  $ paratro wallet rotate-keys ops --output json | jq .epoch
  $ oathtool --totp -b "$TOTP_SECRET" | paratro rotate-keys ops --otp-stdin`,
		Args: cmdutil.ExactArgs(1, "the wallet ID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 {
				return cmdutil.FlagErrorf("--timeout must be positive")
			}
			return rotateRun(cmd, f, args[0], timeout)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Minute, "give up if the rotation is not done within this time")
	cmdutil.AddOTPStdinFlag(cmd)
	return cmd
}

type rotateJSON struct {
	Wallet     string `json:"wallet"`
	FromEpoch  uint64 `json:"from_epoch"`
	Epoch      uint64 `json:"epoch"`
	Address    string `json:"address,omitempty"`
	PublicKey  string `json:"public_key"`
	CeremonyID string `json:"ceremony_id"`
	ElapsedMS  int64  `json:"elapsed_ms"`
}

func rotateRun(cmd *cobra.Command, f *cmdutil.Factory, walletArg string, timeout time.Duration) error {
	s, err := openSession(cmd, f)
	if err != nil {
		return err
	}
	defer s.close()
	w, err := knownWallet(s.home, walletArg)
	if err != nil {
		return err
	}
	if s.otp, err = cmdutil.ReadOTP(cmd, f, s.home.ID.Name); err != nil {
		return err
	}
	epoch, cd := current(s.home, w)
	req := &coord.Request{Kind: ceremony.KindRefresh, Scheme: ceremony.Scheme(w.Scheme), WalletID: w.ID, WalletName: w.Name,
		Chain: w.Chain, Parties: w.Parties, Required: w.Required, Epoch: epoch, ConfigDigest: cd,
		Deadline: f.Now().Add(timeout), CreatedAt: f.Now().UTC()}
	rep, err := s.initiate(cmd.Context(), req)
	if err != nil {
		return err
	}
	res := rep.Result()
	if res.PublicKey != w.PublicKey {
		return fmt.Errorf("the parties report a different public key after the refresh (%s, was %s): do not use this wallet until it is checked", res.PublicKey, w.PublicKey)
	}
	w.Epoch, w.ConfigDigest, w.UpdatedAt = res.Epoch, res.ConfigDigest, f.Now().UTC()
	if err := s.home.SaveWallet(w); err != nil {
		return err
	}
	if cmdutil.OutputFormat(cmd) == output.FormatJSON {
		return output.JSON(f.IO.Out, rotateJSON{Wallet: w.ID, FromEpoch: epoch, Epoch: w.Epoch, Address: w.Address,
			PublicKey: w.PublicKey, CeremonyID: rep.CeremonyID, ElapsedMS: rep.Elapsed.Milliseconds()})
	}
	where := w.PublicKey
	if w.Address != "" {
		where = w.Address
	}
	fmt.Fprintf(f.IO.Out, "rotated: epoch %d → %d; address unchanged %s; all %d parties confirmed\n", epoch, w.Epoch, where, len(w.Parties))
	return nil
}
