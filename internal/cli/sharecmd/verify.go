package sharecmd

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/backup"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/control"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
)

// verifyOptions are the inputs of verifyRun.
type verifyOptions struct {
	IO      *iostreams.IOStreams
	Now     func() time.Time
	Secrets secretSource
	Format  output.Format
	// OpenHome opens this operator's home, or returns nil (and no error)
	// when there is none.
	OpenHome func() (*home.Home, func(), error)
	// Relay returns a client of the relay acting as id, or nil when no
	// relay is configured.
	Relay func(id *identity.Identity) (*relay.Client, string, error)

	File     string
	Identity string // age identity file, for backups made to recipients
}

func newCmdVerify(f *cmdutil.Factory, runF func(context.Context, *verifyOptions) error) *cobra.Command {
	opts := &verifyOptions{IO: f.IO, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Test a share backup: decrypt it in memory and compare it with the wallet",
		Long: `Test that a share backup can be restored, without restoring it: decrypt
it in memory, check that its plaintext header equals the copy inside the
encrypted part, that the share decodes and agrees with its own public
key, party and configuration, and compare it with the wallet's current
state: this home's own share of the wallet when it holds one, otherwise
the relay's wallet record (--relay or PARATRO_RELAY) when one is given.
The wallet key is never reconstructed (a backup holds one share).

A passphrase backup asks for its passphrase on a terminal; scripts set
PARATRO_BACKUP_PASSPHRASE. A backup made to age recipients needs
--identity FILE, an age identity file of one of them.

The test is written to this home's audit log, and share list shows when
a wallet's backup was last tested.

Exit status: 0 when the backup is good and current; 7 when it is STALE
(an older epoch than the wallet's, after rotate-keys, or the wallet was
destroyed): export a new one; 1 when it cannot be opened or does not
match (wrong passphrase, truncated or edited file, another wallet).`,
		Example: `  $ paratro share backup verify /mnt/usb/ana-ops.age
  $ PARATRO_BACKUP_PASSPHRASE=… paratro share backup verify ana-ops.age --output json
  $ paratro share backup verify ana-ops.age --identity ~/.config/age/keys.txt`,
		Args: cmdutil.ExactArgs(1, "the backup file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File, opts.Format = args[0], cmdutil.OutputFormat(cmd)
			opts.Secrets = newSecretSource(f)
			opts.OpenHome = func() (*home.Home, func(), error) { return openHomeIfAny(cmd, f) }
			opts.Relay = func(id *identity.Identity) (*relay.Client, string, error) { return relayIfAny(cmd, f, id) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Identity, "identity", "", "age identity file to decrypt a backup made to age recipients")
	return cmd
}

// verifyJSON is the --output json of share backup verify.
type verifyJSON struct {
	Result       string  `json:"result"` // ok, stale
	Wallet       string  `json:"wallet"`
	WalletName   string  `json:"wallet_name"`
	Party        string  `json:"party"`
	Fingerprint  string  `json:"fingerprint"`
	Epoch        uint64  `json:"epoch"`
	CurrentEpoch *uint64 `json:"current_epoch"`
	ComparedWith string  `json:"compared_with"` // home, relay, none
	CreatedAt    string  `json:"created_at"`
	TestedAt     string  `json:"tested_at"`
}

// current is the wallet's state the backup is compared with.
type current struct {
	source       string // "home", "relay" or "none"
	epoch        uint64
	publicKey    string
	configDigest string
	destroyed    bool
}

func verifyRun(ctx context.Context, opts *verifyOptions) error {
	h, closeHome, err := opts.OpenHome()
	if err != nil {
		return err
	}
	defer closeHome()
	c, err := openFile(opts.File, opts.Secrets, opts.Identity)
	if err != nil {
		if h != nil {
			note(h, opts.IO, audit.Entry{Event: audit.EventBackupTested, Actor: h.ID.Label(), Outcome: "failed", Detail: err.Error()})
		}
		return fmt.Errorf("share backup verify: %w", err)
	}
	defer c.Wipe()
	cur, err := currentState(ctx, opts, h, c)
	if err != nil {
		return err
	}
	result, err := compare(c.Header, cur)
	if err != nil {
		if h != nil {
			note(h, opts.IO, audit.Entry{Event: audit.EventBackupTested, Actor: h.ID.Label(), Wallet: c.Header.WalletID, Outcome: "failed", Detail: err.Error()})
		}
		return err
	}
	now := opts.Now().UTC()
	record(h, opts.IO, c.Header, result, cur, now)
	if err := printVerify(opts, c.Header, result, cur, now); err != nil {
		return err
	}
	if result == "stale" {
		return cmdutil.WithHint(fmt.Errorf("%w: %s holds epoch %d of %s, the wallet is %s", backup.ErrStale, opts.File, c.Header.Epoch, c.Header.WalletID, curText(cur)),
			"export a new backup: paratro share backup export "+c.Header.WalletID+" --to FILE")
	}
	return nil
}

// currentState is this home's own share of the wallet, or the relay's
// wallet record, or nothing known.
func currentState(ctx context.Context, opts *verifyOptions, h *home.Home, c *backup.Contents) (current, error) {
	id := c.Identity
	if h != nil {
		if sh, err := h.Store.Active(c.Header.WalletID, h.ID.Fingerprint()); err == nil {
			sh.Wipe()
			return current{source: "home", epoch: sh.Epoch, publicKey: hex.EncodeToString(sh.PublicKey), configDigest: hex.EncodeToString(sh.ConfigDigest)}, nil
		}
		id = h.ID
	}
	cl, u, err := opts.Relay(id)
	if err != nil || cl == nil {
		return current{source: "none"}, err
	}
	w, err := relayWallet(ctx, cl, c.Header.WalletID)
	if err != nil {
		return current{}, cmdutil.RelayHint(fmt.Errorf("share backup verify: read wallet %s from the relay: %w", c.Header.WalletID, err), u)
	}
	return current{source: "relay", epoch: w.Epoch, publicKey: w.PublicKey, configDigest: w.ConfigDigest, destroyed: w.Status == control.StatusDestroyed}, nil
}

// relayWallet is GET /v1/wallets/{id}.
func relayWallet(ctx context.Context, cl *relay.Client, id string) (*control.Wallet, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdutil.RelayTimeout)
	defer cancel()
	var w control.Wallet
	return &w, cl.Do(ctx, http.MethodGet, "/v1/wallets/"+url.PathEscape(id), nil, &w)
}

// compare says whether the backup is "ok" or "stale" against cur, or
// fails when it is not a share of that wallet's key.
func compare(h backup.Header, cur current) (string, error) {
	switch {
	case cur.source == "none":
		return "ok", nil
	case cur.destroyed:
		return "stale", nil
	case cur.publicKey != "" && cur.publicKey != h.PublicKey:
		return "", fmt.Errorf("share backup verify: the backup's public key %s is not wallet %s's (%s, per the %s)", h.PublicKey, h.WalletID, cur.publicKey, cur.source)
	case h.Epoch < cur.epoch:
		return "stale", nil
	case h.Epoch == cur.epoch && cur.configDigest != "" && cur.configDigest != h.ConfigDigest:
		return "", fmt.Errorf("share backup verify: the backup's configuration of epoch %d differs from the wallet's (per the %s)", h.Epoch, cur.source)
	}
	return "ok", nil
}

func curText(cur current) string {
	if cur.destroyed {
		return "destroyed"
	}
	return fmt.Sprintf("at epoch %d", cur.epoch)
}

// record notes the test in the home's backup record and audit log.
func record(h *home.Home, ios *iostreams.IOStreams, hd backup.Header, result string, cur current, now time.Time) {
	if h == nil {
		fmt.Fprintln(ios.ErrOut, "paratro: note: no paratro home here: the test is not recorded")
		return
	}
	note(h, ios, audit.Entry{Event: audit.EventBackupTested, Actor: h.ID.Label(), Wallet: hd.WalletID,
		Parties: []string{hd.PartyName + " (" + hd.PartyFingerprint + ")"}, Outcome: result,
		Detail: fmt.Sprintf("epoch %d, compared with the %s", hd.Epoch, cur.source)})
	if err := h.NoteBackupTest(hd.WalletID, hd.Epoch, result, now); err != nil {
		fmt.Fprintf(ios.ErrOut, "paratro: warning: record the test in this home: %v\n", err)
	}
}

func printVerify(opts *verifyOptions, h backup.Header, result string, cur current, now time.Time) error {
	if opts.Format == output.FormatJSON {
		j := verifyJSON{Result: result, Wallet: h.WalletID, WalletName: h.WalletName, Party: h.PartyName, Fingerprint: h.PartyFingerprint,
			Epoch: h.Epoch, ComparedWith: cur.source, CreatedAt: h.CreatedAt.UTC().Format(time.RFC3339), TestedAt: now.Format(time.RFC3339)}
		if cur.source != "none" {
			j.CurrentEpoch = &cur.epoch
		}
		return output.JSON(opts.IO.Out, j)
	}
	what := fmt.Sprintf("share of %s for %s, epoch %d", h.PartyName, h.WalletID, h.Epoch)
	switch {
	case result == "stale":
		fmt.Fprintf(opts.IO.Out, "STALE: %s; the wallet is %s (per the %s)\n", what, curText(cur), cur.source)
	case cur.source == "none":
		fmt.Fprintf(opts.IO.Out, "ok: %s, consistent with its own public share (tested %s)\n", what, now.Format("2006-01-02"))
		fmt.Fprintln(opts.IO.ErrOut, "not compared with the wallet: this home holds no share of it and no relay was given (--relay)")
	default:
		fmt.Fprintf(opts.IO.Out, "ok: %s, matches the wallet's public share (tested %s)\n", what, now.Format("2006-01-02"))
	}
	return nil
}

// openHomeIfAny opens the operator's home when it has an identity, and
// returns a nil home otherwise.
func openHomeIfAny(cmd *cobra.Command, f *cmdutil.Factory) (*home.Home, func(), error) {
	dir, err := cmdutil.HomeDir(cmd, f)
	if err != nil {
		return nil, func() {}, err
	}
	if _, err := identity.LoadPublic(dir); errors.Is(err, identity.ErrNoIdentity) {
		return nil, func() {}, nil
	}
	return cmdutil.OpenHome(cmd, f)
}

// relayIfAny is a client of the configured relay acting as id, or nil
// when no relay is configured.
func relayIfAny(cmd *cobra.Command, f *cmdutil.Factory, id *identity.Identity) (*relay.Client, string, error) {
	rl, err := cmdutil.RelayOf(cmd, f)
	if err != nil {
		return nil, "", nil
	}
	c, err := relay.NewClient(rl.URL, id, relay.ClientOptions{CAFile: rl.CAFile})
	return c, rl.URL, err
}
