package sharecmd_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/cli/clitest"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/shares"
)

const passphrase = "correct-horse-battery"

var (
	created = time.Date(2026, time.March, 2, 8, 15, 0, 0, time.UTC)
	rotated = time.Date(2026, time.June, 9, 17, 40, 0, 0, time.UTC)
)

// The fixture wallets: ops holds epoch 1 and two unused presignatures (a
// third was used); taproot holds epoch 1 and a pending epoch 2 left by an
// unfinished refresh; cold was rotated to epoch 2, which dropped the
// presignature of epoch 1; stray is a share whose wallet record this home
// does not keep.
const (
	ops     = "wal_aaaaaaaaaaaaaaaa"
	taproot = "wal_bbbbbbbbbbbbbbbb"
	cold    = "wal_cccccccccccccccc"
	stray   = "wal_dddddddddddddddd"
)

// sharesHome makes a home holding the fixture wallets' shares and returns
// a factory that opens it, and its directory.
func sharesHome(t *testing.T) (*cmdutil.Factory, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ana")
	kr, err := shares.OpenFileKeyring(filepath.Join(dir, "keyring.json"), []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Close()
	h, err := home.Init(dir, kr, "ana")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*home.Wallet{
		{ID: ops, Name: "ops", Chain: "ethereum", Scheme: "ecdsa", Required: 2, Epoch: 1, CreatedAt: created, UpdatedAt: created},
		{ID: taproot, Name: "taproot", Chain: "bitcoin", Scheme: "schnorr", Required: 2, Epoch: 1, CreatedAt: created, UpdatedAt: created},
		{ID: cold, Name: "cold", Chain: "ethereum", Scheme: "ecdsa", Required: 2, Epoch: 2, CreatedAt: created, UpdatedAt: rotated},
	} {
		if err := h.SaveWallet(w); err != nil {
			t.Fatal(err)
		}
	}
	// The fixture shares are alice's: the store checks that the holder is
	// among the wallet's parties.
	hd := &holder.Holder{ID: party.ID("alice"), Store: h.Store}
	ecdsa, schnorr := ceremonytest.ECDSAShares(t)["alice"], ceremonytest.SchnorrShares(t)["alice"]
	for id, sh := range map[string]*ceremony.Share{ops: ecdsa, taproot: schnorr, cold: ecdsa, stray: ecdsa} {
		if err := hd.Import(id, 1, sh); err != nil {
			t.Fatal(err)
		}
	}
	putPresigs(t, h, ops, "ps1", "ps2", "ps3")
	if err := h.Store.MarkPresignatureUsed(ops, "alice", "ps2"); err != nil {
		t.Fatal(err)
	}
	putPresigs(t, h, cold, "old")
	nextEpoch(t, h, taproot, false)
	nextEpoch(t, h, cold, true)
	return fileKeyringFactory(t), dir
}

// putPresigs stores presignatures with the given IDs for alice's active
// share of walletID, as a presign ceremony does.
func putPresigs(t *testing.T, h *home.Home, walletID string, ids ...string) {
	t.Helper()
	sh, err := h.Store.Active(walletID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Wipe()
	for _, id := range ids {
		p := &shares.Presignature{
			PresigMeta: shares.PresigMeta{ID: id, WalletID: walletID, PartyID: "alice", Epoch: sh.Epoch,
				ConfigDigest: sh.ConfigDigest, Path: "m", Signers: []string{"alice", "bob"}, CreatedAt: created},
			Secret: []byte("presignature secret " + id),
		}
		if err := h.Store.PutPresignature(p); err != nil {
			t.Fatal(err)
		}
	}
}

// fileKeyringFactory is a test factory whose homes use the file keyring.
func fileKeyringFactory(t *testing.T) *cmdutil.Factory {
	f, _, _ := clitest.NewFactory(t)
	f.Getenv = func(k string) string {
		return map[string]string{"PARATRO_KEYRING": "file", "PARATRO_KEYRING_PASSPHRASE": passphrase}[k]
	}
	return f
}

// nextEpoch stores the active share of walletID again as epoch 2, pending,
// as a refresh does before every party confirms; commit makes it active.
func nextEpoch(t *testing.T, h *home.Home, walletID string, commit bool) {
	t.Helper()
	sh, err := h.Store.Active(walletID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Wipe()
	sh.Epoch = 2
	if err := h.Store.PutPending(sh); err != nil {
		t.Fatal(err)
	}
	if commit {
		if err := h.Store.Commit(walletID, "alice", 2); err != nil {
			t.Fatal(err)
		}
	}
}

func TestShareListShowsOneRowPerShareWithPendingBesideActive(t *testing.T) {
	f, dir := sharesHome(t)
	for _, tty := range []bool{false, true} {
		f.IO.SetStdoutTTY(tty)
		out, errOut, err := clitest.Run(t, f, "share list --home "+dir)
		if err != nil {
			t.Fatal(err)
		}
		want := `WALLET                 NAME      CHAIN      SCHEME    EPOCH   STATE     CREATED            ROTATED            LAST BACKUP TEST   LAST EXPORT   PRESIGNATURES LEFT
wal_aaaaaaaaaaaaaaaa   ops       ethereum   ecdsa     1       active    2026-03-02 08:15   -                  never              never         2
wal_bbbbbbbbbbbbbbbb   taproot   bitcoin    schnorr   1       active    2026-03-02 08:15   -                  never              never         -
wal_bbbbbbbbbbbbbbbb   taproot   bitcoin    schnorr   2       pending   2026-03-02 08:15   -                  never              never         -
wal_cccccccccccccccc   cold      ethereum   ecdsa     2       active    2026-03-02 08:15   2026-06-09 17:40   never              never         0
wal_dddddddddddddddd   -         -          ecdsa     1       active    -                  -                  never              never         0
`
		if out != want || errOut != "" {
			t.Fatalf("tty %v: got\n%s\nstderr %q, want\n%s", tty, out, errOut, want)
		}
	}
}

func TestShareListJSONHasStableKeysAndNoSecret(t *testing.T) {
	f, dir := sharesHome(t)
	out, _, err := clitest.Run(t, f, "share list --output json --home "+dir)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	keys := "chain created_at epoch last_backup_export last_backup_export_epoch last_backup_test last_backup_test_epoch presignatures_left rotated_at scheme state wallet_id wallet_name"
	var got []string
	for _, r := range rows {
		var k []string
		for key := range r {
			k = append(k, key)
		}
		if sortedJoin(k) != keys {
			t.Fatalf("keys %q, want %q", sortedJoin(k), keys)
		}
		got = append(got, strings.Join([]string{str(r["wallet_id"]), str(r["wallet_name"]), str(r["chain"]), str(r["scheme"]),
			str(r["epoch"]), str(r["state"]), str(r["created_at"]), str(r["rotated_at"]), str(r["last_backup_test"]),
			str(r["presignatures_left"])}, " "))
	}
	want := []string{
		"wal_aaaaaaaaaaaaaaaa ops ethereum ecdsa 1 active 2026-03-02T08:15:00Z null null 2",
		"wal_bbbbbbbbbbbbbbbb taproot bitcoin schnorr 1 active 2026-03-02T08:15:00Z null null null",
		"wal_bbbbbbbbbbbbbbbb taproot bitcoin schnorr 2 pending 2026-03-02T08:15:00Z null null null",
		"wal_cccccccccccccccc cold ethereum ecdsa 2 active 2026-03-02T08:15:00Z 2026-06-09T17:40:00Z null 0",
		"wal_dddddddddddddddd null null ecdsa 1 active null null null 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, secret := range []string{"secret", "Secret", "public_key", "config", "ps1", "ps3"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the JSON mentions %q: %s", secret, out)
		}
	}
}

func TestShareListOnAHomeWithoutShares(t *testing.T) {
	f := fileKeyringFactory(t)
	empty := filepath.Join(t.TempDir(), "ben")
	kr, err := shares.OpenFileKeyring(filepath.Join(empty, "keyring.json"), []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := home.Init(empty, kr, "ben"); err != nil {
		t.Fatal(err)
	}
	kr.Close()
	out, errOut, err := clitest.Run(t, f, "share list --home "+empty)
	if err != nil || out != "" || !strings.Contains(errOut, "no shares in this home: paratro wallet create, or paratro party run to join one") {
		t.Fatalf("table: %v, stdout %q, stderr %q", err, out, errOut)
	}
	out, errOut, err = clitest.Run(t, f, "share list --output json --home "+empty)
	if err != nil || out != "[]\n" || errOut != "" {
		t.Fatalf("json: %v, stdout %q, stderr %q", err, out, errOut)
	}
}

func sortedJoin(s []string) string {
	slices.Sort(s)
	return strings.Join(s, " ")
}

// str is a decoded JSON value as text, "null" for null.
func str(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(v)
}
