package shares_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/shares"
)

func testPresig(sh *shares.Share, id string) *shares.Presignature {
	return &shares.Presignature{
		PresigMeta: shares.PresigMeta{ID: id, WalletID: sh.WalletID, PartyID: sh.PartyID, Epoch: sh.Epoch,
			ConfigDigest: sh.ConfigDigest, Path: "m", Signers: []string{sh.PartyID, "party-b"},
			CreatedAt: time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)},
		Secret: randomBytes(300),
	}
}

func presigIDs(t *testing.T, s *shares.Store, wallet, party string) []string {
	t.Helper()
	list, err := s.Presignatures(wallet, party)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestPresignatureIsUsedOnce(t *testing.T) {
	s, kr := newStore(t)
	sh := testShare(t, "wal_a", "ana", 1)
	putActive(t, s, sh)
	p := testPresig(sh, "ps1")
	if err := s.PutPresignature(p); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPresignature(testPresig(sh, "ps2")); err != nil {
		t.Fatal(err)
	}
	if got := presigIDs(t, s, "wal_a", "ana"); fmt.Sprint(got) != "[ps1 ps2]" {
		t.Fatalf("listed %v", got)
	}
	got, err := s.OpenPresignature("wal_a", "ana", "ps1")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Secret) != string(p.Secret) || got.Path != "m" || fmt.Sprint(got.Signers) != "[ana party-b]" {
		t.Fatalf("opened %v", got)
	}
	noSecretIn(t, fmt.Sprintf("%v %+v %#v %s %x %q", got, got, got, got, got, got), p.Secret)
	js, _ := json.Marshal(got)
	noSecretIn(t, string(js), p.Secret)

	if err := s.MarkPresignatureUsed("wal_a", "ana", "ps1"); err != nil {
		t.Fatal(err)
	}
	// Once marked, it never opens and never marks again: the second
	// request naming it is refused, whatever its digest.
	wantErr(t, s.MarkPresignatureUsed("wal_a", "ana", "ps1"), shares.ErrPresignatureUsed, "already used")
	_, err = s.OpenPresignature("wal_a", "ana", "ps1")
	wantErr(t, err, shares.ErrPresignatureUsed, "already used")
	// The mark outlives a reopened store (a restarted party).
	s2 := reopen(t, s, kr)
	_, err = s2.OpenPresignature("wal_a", "ana", "ps1")
	wantErr(t, err, shares.ErrPresignatureUsed)
	if got := presigIDs(t, s2, "wal_a", "ana"); fmt.Sprint(got) != "[ps2]" {
		t.Fatalf("after use, listed %v", got)
	}
	// Wiping removes the sealed file and keeps the mark.
	if err := s2.WipePresignature("wal_a", "ana", "ps1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(slotDir(s, "wal_a", "ana"), "presig-ps1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("sealed presignature still there: %v", err)
	}
	_, err = s2.OpenPresignature("wal_a", "ana", "ps1")
	wantErr(t, err, shares.ErrPresignatureUsed)
	// An ID is never stored twice, even after use.
	wantErr(t, s2.PutPresignature(testPresig(sh, "ps1")), shares.ErrInvalid, "never reused")
	// Unused presignatures are not wiped.
	if err := s2.WipePresignature("wal_a", "ana", "ps2"); err == nil {
		t.Fatal("wiped an unused presignature")
	}
	for _, e := range slotFileModes(t, s, "wal_a", "ana") {
		if e != 0o600 {
			t.Fatalf("file mode %o", e)
		}
	}
}

// A crash after the mark and before the signature share left: the
// presignature is never used again (SECURITY.md release case 28).
func TestPresignatureCrashAfterMark(t *testing.T) {
	s, kr := newStore(t)
	sh := testShare(t, "wal_a", "ana", 1)
	putActive(t, s, sh)
	if err := s.PutPresignature(testPresig(sh, "ps1")); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("crash")
	shares.SetCrashHook(s, func(point string) error {
		if strings.HasPrefix(point, "after-mark") {
			return crash
		}
		return nil
	})
	if err := s.MarkPresignatureUsed("wal_a", "ana", "ps1"); !errors.Is(err, crash) {
		t.Fatalf("got %v", err)
	}
	s2 := reopen(t, s, kr)
	_, err := s2.OpenPresignature("wal_a", "ana", "ps1")
	wantErr(t, err, shares.ErrPresignatureUsed)
	if ids := presigIDs(t, s2, "wal_a", "ana"); len(ids) != 0 {
		t.Fatalf("listed %v", ids)
	}
}

func TestPresignaturesDroppedAtRotationAndRestore(t *testing.T) {
	s, _ := newStore(t)
	sh := testShare(t, "wal_a", "ana", 1)
	putActive(t, s, sh)
	for _, id := range []string{"ps1", "ps2"} {
		if err := s.PutPresignature(testPresig(sh, id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkPresignatureUsed("wal_a", "ana", "ps1"); err != nil {
		t.Fatal(err)
	}
	// A refresh: epoch 2 pending, then committed.
	next := testShare(t, "wal_a", "ana", 2)
	if err := s.PutPending(next); err != nil {
		t.Fatal(err)
	}
	// While epoch 2 is only pending, epoch 1's presignatures still serve.
	if ids := presigIDs(t, s, "wal_a", "ana"); fmt.Sprint(ids) != "[ps2]" {
		t.Fatalf("listed %v", ids)
	}
	if err := s.Commit("wal_a", "ana", 2); err != nil {
		t.Fatal(err)
	}
	if ids := presigIDs(t, s, "wal_a", "ana"); len(ids) != 0 {
		t.Fatalf("after a refresh, listed %v", ids)
	}
	_, err := s.OpenPresignature("wal_a", "ana", "ps2")
	wantErr(t, err, shares.ErrNotFound)
	if files := presigFiles(t, s, "wal_a", "ana"); len(files) != 0 {
		t.Fatalf("left after the refresh: %v", files)
	}
	// A presignature of the old epoch is refused.
	wantErr(t, s.PutPresignature(testPresig(sh, "ps3")), shares.ErrInvalid, "epoch 1")
	// One with the right epoch but another configuration too.
	other := testPresig(next, "ps4")
	other.ConfigDigest = []byte("another configuration")
	wantErr(t, s.PutPresignature(other), shares.ErrInvalid, "configuration")

	// A sealed presignature copied back from an old disk image does not
	// open under the new epoch.
	if err := s.PutPresignature(testPresig(next, "ps5")); err != nil {
		t.Fatal(err)
	}
	dir := slotDir(s, "wal_a", "ana")
	old := readFile(t, filepath.Join(dir, "presig-ps5"))

	// Restore: the share is erased, then restored from a backup into the
	// same store; no presignature of before survives.
	if err := s.Destroy("wal_a", "ana"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(ensureDir(t, dir), "presig-ps5"), old)
	if err := s.PutRestored(next); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit("wal_a", "ana", 2); err != nil {
		t.Fatal(err)
	}
	if ids := presigIDs(t, s, "wal_a", "ana"); len(ids) != 0 {
		t.Fatalf("after a restore, listed %v", ids)
	}
	_, err = s.OpenPresignature("wal_a", "ana", "ps5")
	wantErr(t, err, shares.ErrNotFound)
}

func TestPresignatureTamperedOrMoved(t *testing.T) {
	s, _ := newStore(t)
	sh := testShare(t, "wal_a", "ana", 1)
	putActive(t, s, sh)
	for _, id := range []string{"ps1", "ps2"} {
		if err := s.PutPresignature(testPresig(sh, id)); err != nil {
			t.Fatal(err)
		}
	}
	dir := slotDir(s, "wal_a", "ana")
	// Renamed onto another ID: the ID is bound into the seal.
	data := readFile(t, filepath.Join(dir, "presig-ps1"))
	writeFile(t, filepath.Join(dir, "presig-ps2"), data)
	_, err := s.OpenPresignature("wal_a", "ana", "ps2")
	wantErr(t, err, shares.ErrInvalid, "changed")
	// Flipped bits.
	data[len(data)-1] ^= 1
	writeFile(t, filepath.Join(dir, "presig-ps1"), data)
	_, err = s.OpenPresignature("wal_a", "ana", "ps1")
	wantErr(t, err, shares.ErrInvalid)
	if ids := presigIDs(t, s, "wal_a", "ana"); len(ids) != 0 {
		t.Fatalf("listed %v", ids)
	}
}

func reopen(t *testing.T, s *shares.Store, kr shares.Keyring) *shares.Store {
	t.Helper()
	s2, err := shares.Open(s.Dir(), kr)
	if err != nil {
		t.Fatal(err)
	}
	return s2
}

func presigFiles(t *testing.T, s *shares.Store, wallet, party string) []string {
	t.Helper()
	entries, err := os.ReadDir(slotDir(s, wallet, party))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "presig-") {
			out = append(out, e.Name())
		}
	}
	return out
}

func slotFileModes(t *testing.T, s *shares.Store, wallet, party string) []os.FileMode {
	t.Helper()
	entries, err := os.ReadDir(slotDir(s, wallet, party))
	if err != nil {
		t.Fatal(err)
	}
	var out []os.FileMode
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fi.Mode().Perm())
	}
	return out
}

func ensureDir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}
