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
// signs. Between the export and the loss, ana and vault made
// presignatures and used one (party run --presign 1): the restored home
// holds none (share list shows 0), and the restored party signs with no
// presignature made before the restore (SECURITY.md (c) case 28:
// restoring an old backup discards its presignatures). After a
// rotation the backup is STALE: verify says so and restore refuses it.
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

	// Case 28: after the export, ana and vault keep a pool of one
	// presignature for their pair (party run --presign 1 --presign-with;
	// ben keeps none) and sign with it: the backup is older than every
	// presignature there is.
	pools := func(on bool) {
		for _, n := range holders { // all down first: a keeper starting a presign with an old process would lose it to the restart
			e.parties[n].kill()
		}
		for _, n := range holders {
			p := e.parties[n]
			p.args = nil
			if on && n != "ben" {
				p.args = []string{"--presign", "1", "--presign-with", map[string]string{"ana": "vault", "vault": "ana"}[n]}
			}
			if err := p.start(); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range holders {
			waitUp(t, e.parties[n])
		}
	}
	t.Cleanup(func() {
		if ana.args != nil {
			pools(false)
		}
	})
	case28 := time.Now()
	pools(true)
	waitPair(t, e, 1)
	used := presigSign(t, e, "ana,vault")
	if used.Presignature == "" {
		t.Fatal("the sign with the pools full used no presignature")
	}
	waitPair(t, e, 1) // refilled: ana's lost home holds an unused one too

	// Ana's machine is lost: a fresh home and keyring, restored from the file.
	ana.kill()
	if err := os.Rename(ana.home, ana.home+".lost"); err != nil {
		t.Fatal(err)
	}
	old := map[string]bool{used.Presignature: true}
	for _, dir := range []string{ana.home + ".lost", e.parties["ben"].home, e.parties["vault"].home} {
		for _, id := range heldPresignatures(t, e, dir) {
			old[id] = true
		}
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
	// The restored home holds no presignature: none was in the backup, and
	// none made before the restore can be used by it.
	if n := e.presignaturesLeft(t, "ana"); n != 0 {
		t.Errorf("share list of the restored home: %d presignatures left, want 0", n)
	}
	if ids := heldPresignatures(t, e, ana.home); len(ids) > 0 {
		t.Errorf("the restored home holds presignatures %v", ids)
	}
	if err := ana.start(); err != nil {
		t.Fatal(err)
	}
	// Her restored party signs (presigSign checks the signature with
	// go-ethereum) with no presignature of before the restore, although
	// vault still holds its part of the one ana's lost home left unused,
	// and offers it.
	s := presigSign(t, e, "ana,vault")
	if !sameSet(s.Signers, "ana", "vault") {
		t.Fatalf("signers %v, want ana and vault", s.Signers)
	}
	if old[s.Presignature] {
		t.Errorf("the first sign after the restore used presignature %.12s, made before the restore", s.Presignature)
	}
	t.Logf("case 28 took %s: presignatures before the restore: %d (%.12s used); the sign after it used %q",
		time.Since(case28).Round(100*time.Millisecond), len(old), used.Presignature, s.Presignature)
	pools(false)

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

// presigSign signs a new digest with signers, starting from ben's home,
// and checks the signature with go-ethereum (checkSignature).
func presigSign(t *testing.T, e *env, signers string) presigSignJSON {
	t.Helper()
	r, d := e.signFresh(t, signers, "2m")
	s := decode[presigSignJSON](t, r)
	checkSignature(t, e.wallet, d, s.Signature)
	return s
}

// heldPresignatures are the IDs of the unused presignatures the home in
// dir holds for the harness's wallet, read from its share store.
func heldPresignatures(t *testing.T, e *env, dir string) []string {
	t.Helper()
	h, _ := e.openHome(t, dir)
	metas, err := h.Store.Presignatures(e.wallet.ID, h.ID.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range metas {
		ids = append(ids, m.ID)
	}
	return ids
}

// waitPair waits until ana and vault each have n presignatures left.
func waitPair(t *testing.T, e *env, n int) {
	t.Helper()
	for _, name := range []string{"ana", "vault"} {
		for deadline := time.Now().Add(2 * time.Minute); e.presignaturesLeft(t, name) != n; time.Sleep(300 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s has %d presignatures left, want %d; its log:\n%s", name, e.presignaturesLeft(t, name), n, e.parties[name].logTail())
			}
		}
	}
}
