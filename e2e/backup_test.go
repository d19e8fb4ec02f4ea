//go:build unix

package e2e_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// exitStaleBackup is paratro's status for a stale share backup.
const exitStaleBackup = 7

// Ana (an owner) exports her share of the wallet: a request with her TOTP
// code, the relay's delay, then the file. The file is tested, refused
// with a wrong passphrase, truncated or edited; her home is wiped and
// restored from it into a fresh home and keyring, and her restored party
// signs. After a rotation the backup is STALE: verify says so and restore
// refuses it.
func TestBackupExportRestoreAndStale(t *testing.T) {
	e := setup(t)
	ana := e.parties["ana"]
	e.enrolTOTP(t, ana.home)
	pass := []string{"PARATRO_BACKUP_PASSPHRASE=e2e backup " + e.pass}
	file := filepath.Join(e.dir, "ana-ops.age")

	// The request, then the file once the delay has passed.
	r := e.cmd(ana.home, "share", "backup", "export", e.wallet.ID, "--to", file, "--output", "json")
	if r.code != exitOK {
		t.Fatalf("export request:\n%s", r)
	}
	var req struct {
		Status      string    `json:"status"`
		AvailableAt time.Time `json:"available_at"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &req); err != nil || req.Status != "requested" {
		t.Fatalf("export request printed %q: %v", r.stdout, err)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("the request wrote the file before the delay")
	}
	time.Sleep(time.Until(req.AvailableAt) + 200*time.Millisecond)
	r = e.cmdEnv(pass, ana.home, "share", "backup", "export", e.wallet.ID, "--to", file)
	if r.code != exitOK || !strings.Contains(r.stdout, "written "+file+" (epoch ") {
		t.Fatalf("export:\n%s", r)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the backup file: %v, mode %v", err, st.Mode())
	}
	r = e.cmdEnv(pass, ana.home, "share", "backup", "export", e.wallet.ID, "--to", file)
	if r.code != exitFailure || !strings.Contains(r.stderr, "exists") {
		t.Errorf("a second export onto the file should be refused:\n%s", r)
	}

	// Tests: good, wrong passphrase, truncated, edited header.
	r = e.cmdEnv(pass, ana.home, "share", "backup", "verify", file)
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "ok: share of ana for "+e.wallet.ID) || !strings.Contains(r.stdout, "matches the wallet's public share") {
		t.Fatalf("verify:\n%s", r)
	}
	r = e.cmdEnv([]string{"PARATRO_BACKUP_PASSPHRASE=not the passphrase"}, ana.home, "share", "backup", "verify", file)
	if r.code != exitFailure || !strings.Contains(r.stderr, "wrong passphrase") {
		t.Errorf("verify with a wrong passphrase:\n%s", r)
	}
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"truncated": good[:len(good)*2/3],
		"edited":    bytes.Replace(good, []byte(`"wallet_name":"ops"`), []byte(`"wallet_name":"opz"`), 1),
	} {
		path := filepath.Join(e.dir, "ana-ops."+name+".age")
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		r = e.cmdEnv(pass, ana.home, "share", "backup", "verify", path)
		if r.code != exitFailure || !strings.Contains(r.stderr, "cannot be trusted") {
			t.Errorf("verify a %s file:\n%s", name, r)
		}
	}
	r = e.cmd(ana.home, "share", "list", "--output", "json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"last_backup_test": "`) || !strings.Contains(r.stdout, `"last_backup_export": "`) {
		t.Errorf("share list should show the backup test and export:\n%s", r)
	}

	// Ana's machine is lost: a fresh home and keyring, restored from the file.
	ana.kill()
	if err := os.Rename(ana.home, ana.home+".lost"); err != nil {
		t.Fatal(err)
	}
	r = e.cmdEnv(pass, ana.home, "share", "restore", file, "--output", "json")
	if r.code != exitOK {
		t.Fatalf("restore:\n%s", r)
	}
	var res struct {
		Identity string `json:"identity"`
		Checked  bool   `json:"checked_with_relay"`
		Epoch    uint64 `json:"epoch"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Identity != "created" || !res.Checked {
		t.Fatalf("restore printed %q: %v", r.stdout, err)
	}
	if err := ana.start(); err != nil {
		t.Fatal(err)
	}
	// e.sign checks the signature against the wallet's address.
	s := e.sign(t, "ana,vault")
	if !sameSet(s.Signers, "ana", "vault") {
		t.Fatalf("signers %v, want ana and vault", s.Signers)
	}

	// A rotation makes the backup stale.
	r = e.cmd(e.parties["ben"].home, "rotate-keys", e.wallet.ID, "--timeout", "90s", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("rotate-keys:\n%s", r)
	}
	r = e.cmdEnv(pass, ana.home, "share", "backup", "verify", file)
	if r.code != exitStaleBackup || !strings.HasPrefix(r.stdout, "STALE: ") {
		t.Errorf("verify after rotate-keys: want exit %d and STALE:\n%s", exitStaleBackup, r)
	}
	elsewhere := filepath.Join(e.dir, "ana-elsewhere")
	r = e.cmdEnv(pass, elsewhere, "share", "restore", file)
	if r.code != exitStaleBackup || !strings.Contains(r.stderr, "nothing was restored") {
		t.Errorf("restore after rotate-keys: want exit %d:\n%s", exitStaleBackup, r)
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "identity.json")); err == nil {
		t.Error("a refused restore made a home")
	}
}
