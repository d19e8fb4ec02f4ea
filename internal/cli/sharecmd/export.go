package sharecmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/atomicfile"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/backup"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/control"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// exportOptions are the inputs of exportRun.
type exportOptions struct {
	IO      *iostreams.IOStreams
	Now     func() time.Time
	Open    func() (*cmdutil.Operator, error)
	ReadOTP func(who string) (string, error)
	Secrets secretSource
	Format  output.Format

	Wallet         string // ID or name
	To             string
	Force          bool
	Recipients     []string
	RecipientsFile string
	// WorkFactor is the scrypt work factor of a passphrase backup; 0 is
	// age's default. Only tests change it.
	WorkFactor int
}

func newCmdExport(f *cmdutil.Factory, runF func(context.Context, *exportOptions) error) *cobra.Command {
	opts := &exportOptions{IO: f.IO, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "export WALLET --to FILE",
		Short: "Export this home's share of a wallet to an encrypted backup file (owner, TOTP, time delay)",
		Long: `Write this home's share of a wallet, and this operator's identity, to an
encrypted backup file. The party's ID is its identity's fingerprint, so
the identity goes into the file too: on a new machine, paratro share
restore brings both back.

Exporting takes two runs. The first asks the relay (owner role, with a
TOTP code) and prints when the export is released: the relay waits its
backup delay (24 h by default) and tells the other owners, who may cancel
it meanwhile (DELETE /v1/backup-exports/ID). Run the same command again
once released: it writes the file, then marks the export used on the
relay, so each request gives one file.

The file is encrypted with age: to a passphrase (asked twice on a
terminal; scripts set PARATRO_BACKUP_PASSPHRASE; at least 12 characters),
or to age recipients (--recipient age1…, repeatable, or
--recipients-file). Keep the passphrase apart from the file. The file
starts with a plaintext header (wallet, party, epoch, public key) and
holds no secret in the clear; it is written with mode 0600, and an
existing file is kept unless --force.

A backup is only good for its epoch: after paratro rotate-keys, export
again (paratro share backup verify reports an old one as stale).

Exit status: 0 when the export was requested, is still pending, or the
file was written; 4 without a TOTP code; 5 when it is rejected; 6 when
you are not an owner; 1 for other failures (nothing is written then).`,
		Example: `  $ paratro share backup export ops --to /mnt/usb/ana-ops.age
  $ PARATRO_BACKUP_PASSPHRASE=… paratro share backup export wal_7hq2mzk4t6a3bx5c --to ana.age --output json
  $ paratro share backup export ops --to ana.age --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p`,
		Args: cmdutil.ExactArgs(1, "the wallet ID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.To == "" {
				return cmdutil.FlagErrorf("give --to FILE: where to write the backup")
			}
			if opts.RecipientsFile != "" || len(opts.Recipients) > 0 {
				if _, err := recipients(opts.Recipients, opts.RecipientsFile); err != nil {
					return err
				}
			}
			opts.Wallet, opts.Format = args[0], cmdutil.OutputFormat(cmd)
			opts.Secrets = newSecretSource(f)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			opts.ReadOTP = func(who string) (string, error) { return cmdutil.ReadOTP(cmd, f, who) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return exportRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "", "the backup file to write")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace the file if it exists")
	cmd.Flags().StringArrayVar(&opts.Recipients, "recipient", nil, "encrypt to this age recipient (age1…) instead of a passphrase; repeatable")
	cmd.Flags().StringVar(&opts.RecipientsFile, "recipients-file", "", "encrypt to the age recipients listed in this file, one a line")
	cmdutil.AddOTPStdinFlag(cmd)
	return cmd
}

// exportJSON is the --output json of share backup export.
type exportJSON struct {
	Status      string  `json:"status"` // requested, pending, exported
	ExportID    string  `json:"export_id"`
	Wallet      string  `json:"wallet"`
	Party       string  `json:"party"`
	AvailableAt string  `json:"available_at"`
	File        *string `json:"file"`
	Epoch       *uint64 `json:"epoch"`
	Encryption  *string `json:"encryption"`
}

func exportRun(ctx context.Context, opts *exportOptions) error {
	if err := checkTarget(opts.To, opts.Force); err != nil {
		return err
	}
	return cmdutil.WithOperator(ctx, opts.Open, func(rctx context.Context, op *cmdutil.Operator) error {
		w, err := op.Home.Wallet(opts.Wallet)
		if err != nil {
			return cmdutil.WithHint(fmt.Errorf("share backup export: %w", err), "paratro share list shows the wallets this home holds a share of")
		}
		held, err := op.Home.Store.Active(w.ID, op.Home.ID.Fingerprint())
		if err != nil {
			return fmt.Errorf("share backup export: no share of %s here to back up: %w", w.ID, err)
		}
		held.Wipe()
		bex, err := findExport(rctx, op, w.ID)
		if err != nil {
			return err
		}
		switch {
		case bex == nil:
			return requestExport(ctx, op, opts, w)
		case bex.Status == control.BackupPending:
			return printExport(opts, "pending", bex, w, nil)
		}
		return writeExport(ctx, op, opts, w, bex)
	})
}

// checkTarget refuses an existing file without force, and a directory
// that does not exist, before anything is asked or changed.
func checkTarget(path string, force bool) error {
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() || !force {
			return cmdutil.WithHint(fmt.Errorf("%s exists: nothing was written", path), "give another --to, or --force to replace the file")
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return fmt.Errorf("--to %s: %w", path, err)
	}
	return nil
}

// findExport is this operator's newest export of their own share of
// walletID that is pending or ready, or nil.
func findExport(ctx context.Context, op *cmdutil.Operator, walletID string) (*control.BackupExport, error) {
	var list struct {
		Exports []control.BackupExport `json:"backup_exports"`
	}
	err := op.Client.Do(ctx, http.MethodGet, "/v1/backup-exports?wallet="+url.QueryEscape(walletID), nil, &list)
	if err != nil {
		return nil, cmdutil.RelayHint(fmt.Errorf("share backup export: list the exports: %w", err), op.URL)
	}
	fp := op.Home.ID.Fingerprint()
	for _, b := range list.Exports { // newest first
		if b.Wallet == walletID && b.RequesterFingerprint == fp && b.Party.Fingerprint == fp && (b.Status == control.BackupPending || b.Status == control.BackupReady) {
			return &b, nil
		}
	}
	return nil, nil
}

// requestExport asks the relay for an export of this operator's share.
func requestExport(ctx context.Context, op *cmdutil.Operator, opts *exportOptions, w *home.Wallet) error {
	code, err := opts.ReadOTP(op.Name())
	if err != nil {
		return err
	}
	// A fresh RelayTimeout: the prompt may have taken a while.
	rctx, cancel := context.WithTimeout(ctx, cmdutil.RelayTimeout)
	defer cancel()
	op.Client.SetOTP(code)
	var bex control.BackupExport
	if err := op.Client.Do(rctx, http.MethodPost, "/v1/wallets/"+url.PathEscape(w.ID)+"/backup-exports", struct{}{}, &bex); err != nil {
		return cmdutil.RelayHint(fmt.Errorf("share backup export %s: %w", w.ID, err), op.URL)
	}
	return printExport(opts, "requested", &bex, w, nil)
}

// writeExport writes the released export's file, then completes it on
// the relay; if that fails, the file is removed.
func writeExport(ctx context.Context, op *cmdutil.Operator, opts *exportOptions, w *home.Wallet, bex *control.BackupExport) error {
	rcpts, kind, err := exportRecipients(opts)
	if err != nil {
		return err
	}
	sh, err := op.Home.Store.Active(w.ID, op.Home.ID.Fingerprint())
	if err != nil {
		return err
	}
	defer sh.Wipe()
	c := &backup.Contents{Header: backup.NewHeader(sh, op.Home.ID, w, kind, opts.Now()), Share: sh, Identity: op.Home.ID, Wallet: w}
	file, err := backup.Seal(c, rcpts...)
	if err != nil {
		return fmt.Errorf("share backup export: %w", err)
	}
	if err := atomicfile.Write(opts.To, file); err != nil {
		return fmt.Errorf("share backup export: write %s: %w", opts.To, err)
	}
	// A fresh RelayTimeout: the passphrase prompts may have taken a while.
	rctx, cancel := context.WithTimeout(ctx, cmdutil.RelayTimeout)
	defer cancel()
	var done control.BackupExport
	if err := op.Client.Do(rctx, http.MethodPost, "/v1/backup-exports/"+url.PathEscape(bex.ID)+"/complete", struct{}{}, &done); err != nil {
		os.Remove(opts.To)
		return cmdutil.RelayHint(fmt.Errorf("share backup export: the relay did not mark export %s used, so %s was removed: %w", bex.ID, opts.To, err), op.URL)
	}
	note(op.Home, opts.IO, audit.Entry{Event: audit.EventBackupExported, Actor: op.Home.ID.Label(), Wallet: w.ID,
		Parties: []string{op.Home.ID.Label()}, Outcome: "ok", Detail: fmt.Sprintf("%s epoch %d to %s", bex.ID, sh.Epoch, opts.To)})
	if err := op.Home.NoteBackupExport(w.ID, sh.Epoch, opts.Now()); err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "paratro: warning: record the export in this home: %v\n", err)
	}
	return printExport(opts, "exported", &done, w, &exported{file: opts.To, epoch: sh.Epoch, encryption: kind})
}

// exportRecipients are the age recipients of the new file and the
// header's encryption kind.
func exportRecipients(opts *exportOptions) ([]age.Recipient, string, error) {
	if len(opts.Recipients) > 0 || opts.RecipientsFile != "" {
		r, err := recipients(opts.Recipients, opts.RecipientsFile)
		return r, backup.EncRecipients, err
	}
	p, err := opts.Secrets.newPassphrase()
	if err != nil {
		return nil, "", err
	}
	defer clear(p)
	r, err := backup.PassphraseRecipient(p, opts.WorkFactor)
	if err != nil {
		return nil, "", err
	}
	return []age.Recipient{r}, backup.EncPassphrase, nil
}

type exported struct {
	file       string
	epoch      uint64
	encryption string
}

func printExport(opts *exportOptions, status string, bex *control.BackupExport, w *home.Wallet, done *exported) error {
	// Whole seconds, rounded up: a person or script that waits until the
	// time shown finds the export released, never still pending.
	available := bex.AvailableAt.UTC().Add(time.Second - 1).Truncate(time.Second)
	if opts.Format == output.FormatJSON {
		j := exportJSON{Status: status, ExportID: bex.ID, Wallet: w.ID, Party: bex.Party.Name,
			AvailableAt: available.Format(time.RFC3339)}
		if done != nil {
			j.File, j.Epoch, j.Encryption = &done.file, &done.epoch, &done.encryption
		}
		return output.JSON(opts.IO.Out, j)
	}
	at := available.Format("2006-01-02 15:04:05 UTC")
	delay := bex.AvailableAt.Sub(bex.CreatedAt).Round(time.Second)
	switch status {
	case "requested":
		fmt.Fprintf(opts.IO.Out, "export requested; other owners notified; available after %s (%s delay)\n", at, delay)
		fmt.Fprintln(opts.IO.ErrOut, "run the same command again then to write the file")
	case "pending":
		fmt.Fprintf(opts.IO.Out, "export %s pending; available after %s (%s delay)\n", bex.ID, at, delay)
	default:
		fmt.Fprintf(opts.IO.Out, "written %s (epoch %d)\n", done.file, done.epoch)
		fmt.Fprintln(opts.IO.ErrOut, "test it now and then: paratro share backup verify "+done.file)
	}
	return nil
}

// note appends e to the home's own audit log; a failure is reported on
// stderr, not fatal: the operation itself is done.
func note(h *home.Home, ios *iostreams.IOStreams, e audit.Entry) {
	log, err := audit.Open(filepath.Join(h.Dir, "audit.log"))
	if err == nil {
		_, err = log.Append(e)
		log.Close()
	}
	if err != nil {
		fmt.Fprintf(ios.ErrOut, "paratro: warning: audit log: %v\n", err)
	}
}
