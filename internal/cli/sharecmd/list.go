package sharecmd

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/shares"
)

// emptyHint is printed on stderr when the home holds no share.
const emptyHint = "no shares in this home: paratro wallet create, or paratro party run to join one"

type listOptions struct {
	IO     *iostreams.IOStreams
	Format output.Format
	// Open opens the home (and returns how to close its keyring).
	Open func() (*home.Home, func(), error)
}

func newCmdList(f *cmdutil.Factory, runF func(*listOptions) error) *cobra.Command {
	opts := &listOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "list",
		Short: "List the key shares this home holds",
		Long: `List every key share this home holds, one row per share: the wallet's ID
and name, chain and scheme, the share's epoch (its version: 1 after key
generation, one more after every rotation) and state, when the wallet was
created and last rotated, when the share's backup was last tested, and
how many presignatures are left.

A share is "active" when it is the one used for signing. A rotation
(paratro rotate-keys) that has not finished leaves the next epoch
"pending" beside the active one; both rows are listed until the rotation
is committed or discarded. "rotated" is the time the wallet record last
moved to a new epoch, shown for active shares past epoch 1.

"last backup test" is when paratro share backup verify last tested a
backup of the wallet from this home ("never" if it has not), with
"(epoch N, stale)" when that backup is of an older epoch than the share;
"last export" is when share backup export last wrote one from this home.
"presignatures left" is how many unused presignatures this home holds
for the active share of an ECDSA wallet (paratro party run keeps a pool
of them for one-round signing; each is used once, and a rotation drops
them); it is "-" (null in JSON) for a pending share and for a Schnorr
wallet, which has no presignatures.

Name, chain and times come from the wallet record; a share without one
shows "-". The shares are opened with the keyring to read their metadata,
and no secret is printed. With --output json the rows are an array of
objects with the keys wallet_id, wallet_name, chain, scheme, epoch, state,
created_at, rotated_at, last_backup_test, last_backup_test_epoch,
last_backup_export, last_backup_export_epoch and presignatures_left
(times in RFC 3339 UTC, null when unknown); an empty home prints [].`,
		Example: `  $ paratro share list
  $ paratro share list --output json | jq -r '.[] | "\(.wallet_name) \(.epoch) \(.state)"'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*home.Home, func(), error) { return cmdutil.OpenHome(cmd, f) }
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
}

// shareJSON is one row of "share list --output json". Its keys change only
// additively.
type shareJSON struct {
	WalletID          string  `json:"wallet_id"`
	WalletName        *string `json:"wallet_name"`
	Chain             *string `json:"chain"`
	Scheme            string  `json:"scheme"`
	Epoch             uint64  `json:"epoch"`
	State             string  `json:"state"`
	CreatedAt         *string `json:"created_at"`
	RotatedAt         *string `json:"rotated_at"`
	LastBackupTest    *string `json:"last_backup_test"`
	PresignaturesLeft *int    `json:"presignatures_left"`
	// Added with share backups.
	LastBackupTestEpoch   *uint64 `json:"last_backup_test_epoch"`
	LastBackupExport      *string `json:"last_backup_export"`
	LastBackupExportEpoch *uint64 `json:"last_backup_export_epoch"`

	testStale bool // the last test found the backup stale
}

func listRun(opts *listOptions) error {
	h, closeKR, err := opts.Open()
	if err != nil {
		return err
	}
	defer closeKR()
	entries, err := h.Store.List()
	if err != nil {
		return err
	}
	wallets, err := h.Wallets()
	if err != nil {
		return err
	}
	backups, err := h.BackupRecords()
	if err != nil {
		return err
	}
	rows, err := shareRows(entries, wallets, backups, func(e shares.Entry) (int, error) {
		list, err := h.Store.Presignatures(e.WalletID, e.PartyID)
		return len(list), err
	})
	if err != nil {
		return err
	}
	if opts.Format == output.FormatJSON {
		return output.JSON(opts.IO.Out, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, emptyHint)
		return nil
	}
	return output.Table(opts.IO.Out, []string{"WALLET", "NAME", "CHAIN", "SCHEME", "EPOCH", "STATE",
		"CREATED", "ROTATED", "LAST BACKUP TEST", "LAST EXPORT", "PRESIGNATURES LEFT"}, tableRows(rows))
}

// shareRows joins each stored share with its wallet's record, when this
// home keeps one, its backup record and, for the active share of an ECDSA
// wallet, the number of unused presignatures that presigs counts. It is
// never nil, so that JSON prints [] for none.
func shareRows(entries []shares.Entry, wallets []*home.Wallet, backups map[string]home.BackupRecord, presigs func(shares.Entry) (int, error)) ([]shareJSON, error) {
	byID := make(map[string]*home.Wallet, len(wallets))
	for _, w := range wallets {
		byID[w.ID] = w
	}
	rows := []shareJSON{}
	for _, e := range entries {
		r := shareJSON{WalletID: e.WalletID, Scheme: e.Scheme, Epoch: e.Epoch, State: string(e.State)}
		if w := byID[e.WalletID]; w != nil {
			r.WalletName, r.Chain, r.CreatedAt = nonEmpty(w.Name), nonEmpty(w.Chain), rfc3339(w.CreatedAt)
			if e.State == shares.StateActive && e.Epoch > 1 {
				r.RotatedAt = rfc3339(w.UpdatedAt)
			}
		}
		if b, ok := backups[e.WalletID]; ok {
			if b.LastTestAt != nil {
				r.LastBackupTest, r.LastBackupTestEpoch = rfc3339(*b.LastTestAt), &b.LastTestEpoch
				r.testStale = b.LastTestResult == "stale" || b.LastTestEpoch < e.Epoch
			}
			if b.LastExportAt != nil {
				r.LastBackupExport, r.LastBackupExportEpoch = rfc3339(*b.LastExportAt), &b.LastExportEpoch
			}
		}
		if e.State == shares.StateActive && e.Scheme == shares.SchemeECDSA {
			n, err := presigs(e)
			if err != nil {
				return nil, err
			}
			r.PresignaturesLeft = &n
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// tableRows are rows as table cells: "-" for what is unknown, "never" for
// a backup never tested.
func tableRows(rows []shareJSON) [][]string {
	var out [][]string
	for _, r := range rows {
		out = append(out, []string{r.WalletID, orDash(r.WalletName), orDash(r.Chain), r.Scheme,
			strconv.FormatUint(r.Epoch, 10), r.State, when(r.CreatedAt), when(r.RotatedAt),
			backupTest(r), orDefault(r.LastBackupExport, "never", when), presignatures(r.PresignaturesLeft)})
	}
	return out
}

// backupTest is the "last backup test" cell.
func backupTest(r shareJSON) string {
	if r.LastBackupTest == nil {
		return "never"
	}
	if r.testStale {
		return fmt.Sprintf("%s (epoch %d, stale)", when(r.LastBackupTest), *r.LastBackupTestEpoch)
	}
	return when(r.LastBackupTest)
}

func presignatures(n *int) string {
	if n == nil {
		return "-"
	}
	return strconv.Itoa(*n)
}

// rfc3339 is t in RFC 3339 UTC, or nil for the zero time.
func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return nonEmpty(t.UTC().Format(time.RFC3339))
}

// when is an RFC 3339 time for a table cell: "2026-11-21 10:02" UTC, or "-".
func when(s *string) string {
	if s == nil {
		return "-"
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return *s
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func orDash(s *string) string { return orDefault(s, "-", nil) }

// orDefault is *s, formatted by format when not nil, or def for nil.
func orDefault(s *string, def string, format func(*string) string) string {
	switch {
	case s == nil:
		return def
	case format != nil:
		return format(s)
	}
	return *s
}
