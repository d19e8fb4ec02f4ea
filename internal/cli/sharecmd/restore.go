package sharecmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/backup"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/control"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares"
)

// restoreOptions are the inputs of restoreRun.
type restoreOptions struct {
	IO      *iostreams.IOStreams
	Now     func() time.Time
	Secrets secretSource
	Format  output.Format
	// HomeDir is where the home is, or is made.
	HomeDir string
	// Keyring opens the keyring of the home in HomeDir.
	Keyring func() (shares.Keyring, func(), error)
	// Relay returns a client of the relay acting as id, or nil when no
	// relay is configured.
	Relay func(id *identity.Identity) (*relay.Client, string, error)
	// Confirm asks a yes/no question on the terminal; nil without one.
	Confirm func(question string) bool

	File     string
	Identity string // age identity file
	Yes      bool
}

func newCmdRestore(f *cmdutil.Factory, runF func(context.Context, *restoreOptions) error) *cobra.Command {
	opts := &restoreOptions{IO: f.IO, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a party from a share backup: its identity and its share",
		Long: `Bring a party back from a backup made by paratro share backup export, on a
new machine or keyring: the identity (a party's ID is its identity's
fingerprint, so the backup carries it), the share at its epoch, the
wallet's record and its parties' identities (trusted as the backup says:
compare the fingerprints printed with the ones you know).

The home (--home, PARATRO_HOME) is made if it has no identity yet. A home
with the backup's identity is used as it is. A home with another
identity is switched to the backup's only while it holds no share: on a
terminal paratro asks first, scripts pass --yes; a home holding shares is
refused (give another --home).

When a relay is given (--relay, PARATRO_RELAY), a backup older than the
wallet's current epoch, or of a destroyed wallet, is refused: it could
not sign, and the other parties have moved on. Without a relay the backup
is restored as it is (a warning says so). Restoring an epoch this home
already holds, or an older one, is refused. Presignatures are never in a
backup: a restored party makes new ones.

Then start the party again: paratro party run.

Exit status: 0 restored; 7 the backup is stale (exported before a
rotate-keys, or the wallet was destroyed); 2 for usage mistakes (e.g.
--yes missing without a terminal); 1 for other failures. Nothing is
changed when the command fails.`,
		Example: `  $ paratro share restore /mnt/usb/ana-ops.age
  $ PARATRO_BACKUP_PASSPHRASE=… paratro share restore ana-ops.age --home ~/.paratro-ana --yes --output json
  $ paratro share restore ana-ops.age --identity ~/.config/age/keys.txt`,
		Args: cmdutil.ExactArgs(1, "the backup file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := cmdutil.HomeDir(cmd, f)
			if err != nil {
				return err
			}
			opts.File, opts.HomeDir, opts.Format = args[0], dir, cmdutil.OutputFormat(cmd)
			opts.Secrets = newSecretSource(f)
			opts.Keyring = func() (shares.Keyring, func(), error) { return cmdutil.OpenKeyring(cmd, f, dir) }
			opts.Relay = func(id *identity.Identity) (*relay.Client, string, error) { return relayIfAny(cmd, f, id) }
			if f.IO.CanPrompt() {
				opts.Confirm = func(q string) bool {
					fmt.Fprint(f.IO.ErrOut, q+" [y/N] ")
					line, _ := cmdutil.ReadLine(f.IO.In, 16)
					return strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes")
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return restoreRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Identity, "identity", "", "age identity file to decrypt a backup made to age recipients")
	cmd.Flags().BoolVar(&opts.Yes, "yes", false, "replace this home's identity without asking (only a home holding no share)")
	return cmd
}

// restoreJSON is the --output json of share restore.
type restoreJSON struct {
	Wallet      string   `json:"wallet"`
	WalletName  string   `json:"wallet_name"`
	Party       string   `json:"party"`
	Fingerprint string   `json:"fingerprint"`
	Epoch       uint64   `json:"epoch"`
	Home        string   `json:"home"`
	Identity    string   `json:"identity"` // created, kept, replaced
	Trusted     []string `json:"trusted"`
	Checked     bool     `json:"checked_with_relay"`
}

func restoreRun(ctx context.Context, opts *restoreOptions) error {
	c, err := openFile(opts.File, opts.Secrets, opts.Identity)
	if err != nil {
		return fmt.Errorf("share restore: %w", err)
	}
	defer c.Wipe()
	checked, err := checkWithRelay(ctx, opts, c)
	if err != nil {
		return err
	}
	kr, closeKR, err := opts.Keyring()
	if err != nil {
		return err
	}
	defer closeKR()
	h, how, err := restoreHome(opts, kr, c.Identity)
	if err != nil {
		return err
	}
	trusted, err := restoreInto(h, c)
	if err != nil {
		return err
	}
	note(h, opts.IO, audit.Entry{Event: audit.EventBackupRestored, Actor: h.ID.Label(), Wallet: c.Header.WalletID,
		Parties: []string{h.ID.Label()}, Outcome: "ok", Detail: fmt.Sprintf("epoch %d from %s, identity %s", c.Header.Epoch, opts.File, how)})
	return printRestore(opts, c, h, how, trusted, checked)
}

// checkWithRelay refuses a backup the relay says is stale. It reports
// whether the relay was asked.
func checkWithRelay(ctx context.Context, opts *restoreOptions, c *backup.Contents) (bool, error) {
	cl, u, err := opts.Relay(c.Identity)
	if err != nil {
		return false, err
	}
	if cl == nil {
		fmt.Fprintln(opts.IO.ErrOut, "paratro: warning: no relay given (--relay): not checked that the backup is the wallet's current epoch")
		return false, nil
	}
	w, err := relayWallet(ctx, cl, c.Header.WalletID)
	if err != nil {
		return false, cmdutil.RelayHint(fmt.Errorf("share restore: read wallet %s from the relay: %w", c.Header.WalletID, err), u)
	}
	switch {
	case w.Status == control.StatusDestroyed:
		return false, fmt.Errorf("share restore: %w: wallet %s was destroyed: nothing was restored", backup.ErrStale, w.ID)
	case w.PublicKey != "" && w.PublicKey != c.Header.PublicKey:
		return false, fmt.Errorf("share restore: the backup's public key is not wallet %s's, per the relay: nothing was restored", w.ID)
	case c.Header.Epoch < w.Epoch:
		return false, cmdutil.WithHint(fmt.Errorf("share restore: %w: %s holds epoch %d of %s, the wallet is at epoch %d: nothing was restored",
			backup.ErrStale, opts.File, c.Header.Epoch, w.ID, w.Epoch), "a newer backup is needed; without one, the other parties can rotate the wallet's keys to a new set of parties")
	}
	return true, nil
}

// restoreHome opens or makes the home with the backup's identity, and
// says how: created, kept or replaced.
func restoreHome(opts *restoreOptions, kr shares.Keyring, id *identity.Identity) (*home.Home, string, error) {
	pub, err := identity.LoadPublic(opts.HomeDir)
	switch {
	case errors.Is(err, identity.ErrNoIdentity):
		h, err := home.InitWith(opts.HomeDir, kr, id)
		return h, "created", err
	case err != nil:
		return nil, "", err
	case pub.Equal(id.Public):
		h, err := home.Open(opts.HomeDir, kr)
		return h, "kept", err
	}
	h, err := home.Open(opts.HomeDir, kr)
	if err != nil {
		return nil, "", err
	}
	if entries, err := h.Store.List(); err != nil || len(entries) > 0 {
		if err == nil {
			err = fmt.Errorf("share restore: %s belongs to %s and holds %d share(s) bound to that identity; the backup is %s's: nothing was restored",
				opts.HomeDir, pub.Label(), len(entries), id.Label())
		}
		return nil, "", cmdutil.WithHint(err, "restore into another home: --home DIR (or PARATRO_HOME)")
	}
	if !opts.Yes {
		q := fmt.Sprintf("%s has the identity %s, which holds no share. Replace it with %s from the backup?", opts.HomeDir, pub.Label(), id.Label())
		if opts.Confirm == nil {
			return nil, "", cmdutil.FlagErrorf("%s has another identity (%s): give --yes to replace it with the backup's (%s), or another --home", opts.HomeDir, pub.Label(), id.Label())
		}
		if !opts.Confirm(q) {
			return nil, "", errors.New("share restore: not confirmed: nothing was restored")
		}
	}
	h, err = home.ReplaceIdentity(opts.HomeDir, kr, id)
	var kept *home.OldKeyKeptError
	if errors.As(err, &kept) {
		fmt.Fprintln(opts.IO.ErrOut, "paratro: warning:", kept)
		err = nil
	}
	return h, "replaced", err
}

// restoreInto stores the wallet record, trusts its parties and imports
// the share. It checks everything it can before it writes.
func restoreInto(h *home.Home, c *backup.Contents) ([]string, error) {
	walletID, epoch := c.Header.WalletID, c.Header.Epoch
	active, err := h.Store.Active(walletID, h.ID.Fingerprint())
	switch {
	case err == nil:
		active.Wipe()
		if active.Epoch >= epoch {
			return nil, fmt.Errorf("share restore: %s already holds epoch %d of %s (the backup is epoch %d): nothing to restore", h.Dir, active.Epoch, walletID, epoch)
		}
	case !errors.Is(err, shares.ErrNotFound):
		return nil, err
	}
	sh, err := ceremony.UnmarshalShare(c.Share.Secret)
	if err != nil {
		return nil, err
	}
	var others []identity.Public
	if c.Wallet != nil {
		for _, p := range c.Wallet.Parties {
			if p.Fingerprint() != h.ID.Fingerprint() {
				others = append(others, p)
			}
		}
	}
	if err := checkTrust(h, others); err != nil {
		return nil, err
	}
	var trusted []string
	for _, p := range others {
		if _, err := h.Trust(p); err != nil {
			return nil, err
		}
		trusted = append(trusted, p.Name+" "+p.DisplayFingerprint())
	}
	if c.Wallet != nil {
		if old, err := h.Wallet(walletID); err != nil || old.Epoch <= epoch {
			w := *c.Wallet
			w.Epoch = epoch
			if err := h.SaveWallet(&w); err != nil {
				return nil, err
			}
		}
	}
	hd := &holder.Holder{ID: party.ID(h.ID.Fingerprint()), Store: h.Store}
	put := hd.Import // a newer epoch than the one this home holds
	if active == nil {
		put = hd.Restore // the wallet's first share here, at any epoch
	}
	if err := put(walletID, epoch, sh); err != nil {
		return nil, fmt.Errorf("share restore: %w", err)
	}
	return trusted, nil
}

// checkTrust refuses, before anything is written, parties that conflict
// with identities this home already trusts.
func checkTrust(h *home.Home, others []identity.Public) error {
	known, err := h.Trusted()
	if err != nil {
		return err
	}
	for _, p := range others {
		for _, q := range known {
			if (q.Name == p.Name || q.Fingerprint() == p.Fingerprint()) && !q.Equal(p) {
				return cmdutil.WithHint(fmt.Errorf("share restore: the backup names %s as a party, but this home trusts %s: nothing was restored", p.Label(), q.Label()),
					"compare the fingerprints with the party's operator; paratro identity list shows the trusted ones")
			}
		}
	}
	return nil
}

func printRestore(opts *restoreOptions, c *backup.Contents, h *home.Home, how string, trusted []string, checked bool) error {
	hd := c.Header
	if opts.Format == output.FormatJSON {
		if trusted == nil {
			trusted = []string{}
		}
		return output.JSON(opts.IO.Out, restoreJSON{Wallet: hd.WalletID, WalletName: hd.WalletName, Party: hd.PartyName,
			Fingerprint: hd.PartyFingerprint, Epoch: hd.Epoch, Home: h.Dir, Identity: how, Trusted: trusted, Checked: checked})
	}
	fmt.Fprintf(opts.IO.Out, "restored: share of %s for %s, epoch %d, into %s (identity %s)\n", hd.PartyName, hd.WalletID, hd.Epoch, h.Dir, how)
	if len(trusted) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "trusted the wallet's other parties as the backup names them: %s\n", strings.Join(trusted, ", "))
	}
	fmt.Fprintln(opts.IO.ErrOut, "start the party again: paratro party run")
	return nil
}
