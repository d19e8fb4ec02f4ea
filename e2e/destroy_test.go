//go:build unix

package e2e_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares"
)

// trustRelayForDestroy lets the holders' parties answer the relay's own
// destroy requests: each holder trusts the relay's identity, and the
// shared policy gets a rule approving destroy requests from it (the
// harness's policy approves only ben's keygen, sign and refresh). The
// parties are restarted to read the policy; the rule is harmless to the
// other tests, which destroy nothing.
func trustRelayForDestroy(t *testing.T, e *env) {
	t.Helper()
	rid, err := relay.LoadIdentity(e.relay.data, "relay")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rid.Public)
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(e.dir, "relay.id.json")
	if err := os.WriteFile(idFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, n := range holders {
		if r := e.cmd(e.parties[n].home, "identity", "add", idFile, "--fingerprint", rid.Fingerprint()); r.code != 0 && !strings.Contains(r.stderr, "already") {
			t.Fatalf("%s trusts the relay: %s", n, r)
		}
	}
	path := filepath.Join(e.dir, "policy.yaml")
	policy, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(policy, []byte("kinds: [destroy]")) {
		policy = append(policy, "  - action: approve\n    kinds: [destroy]\n    initiators: ["+rid.Fingerprint()+"]\n"...)
		if err := os.WriteFile(path, policy, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range holders {
		p := e.parties[n]
		p.kill()
		if err := p.start(); err != nil {
			t.Fatal(err)
		}
	}
}

// destroyWith runs wallet destroy as home's operator with a fresh TOTP
// code of theirs.
func destroyWith(t *testing.T, e *env, home, wallet string, args ...string) result {
	t.Helper()
	o := e.otherTOTP[home]
	code, err := nextCode(o.secret, &o.lastStep)
	if err != nil {
		t.Fatal(err)
	}
	return e.cmdEnv([]string{"PARATRO_OTP=" + code}, home, append([]string{"wallet", "destroy", wallet, "--yes"}, args...)...)
}

// mentions lists the files under dir, other than its audit log, whose
// name or contents hold any of needles.
func mentions(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() == "audit.log" && filepath.Dir(path) == dir {
			return err
		}
		var data []byte
		if d.Type().IsRegular() {
			if data, err = os.ReadFile(path); err != nil {
				return err
			}
		}
		for _, n := range needles {
			if strings.Contains(d.Name(), n) || bytes.Contains(bytes.ToLower(data), []byte(strings.ToLower(n))) {
				found = append(found, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A wallet destroyed by two owners is erased by every party: the
// approval that destroys it waits for and lists the erasures; afterwards
// no file of any holder's home but its audit log holds anything of the
// wallet, its old sealed share files no longer open with what the
// keyring holds, and signing with it fails saying it was destroyed.
func TestDestroy(t *testing.T) {
	e := setup(t)
	trustRelayForDestroy(t, e)
	// ana (owner) makes vault a second owner; both enrol TOTP.
	if r := e.cmd(e.parties["ana"].home, "operator", "add", "vault", "--role", "owner"); r.code != 0 {
		t.Fatalf("operator add vault --role owner: %s", r)
	}
	for _, n := range []string{"ana", "vault"} {
		e.enrolTOTP(t, e.parties[n].home)
	}
	r := e.cmd(e.parties["ben"].home, "wallet", "create", "--name", "doomed", "--chain", "ethereum", "--threshold", "2-of-3",
		"--parties", "ana,ben,vault", "--timeout", "2m", "--output", "json")
	var w createJSON
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &w) != nil || w.ID == "" {
		t.Fatalf("wallet create: %s", r)
	}
	needles := []string{w.ID, strings.TrimPrefix(strings.ToLower(w.Address), "0x"), w.PublicKey}

	// Each holder's sealed share files, as a copy left on disk would keep them.
	old := map[string]map[string][]byte{}
	for _, n := range holders {
		old[n] = map[string][]byte{}
		dir := filepath.Join(e.parties[n].home, "shares", "shares", w.ID)
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				old[n][path], err = os.ReadFile(path)
			}
			return err
		})
		if len(old[n]) == 0 || len(mentions(t, e.parties[n].home, needles...)) == 0 {
			t.Fatalf("%s holds no share files of %s before the destruction", n, w.ID)
		}
	}

	if r := destroyWith(t, e, e.parties["ana"].home, w.ID); r.code != 0 || !strings.Contains(r.stdout, "1 of 2 owners") {
		t.Fatalf("ana's approval: %s", r)
	}
	r = destroyWith(t, e, e.parties["vault"].home, w.ID, "--timeout", "90s")
	if r.code != 0 || !strings.Contains(r.stdout, "shares erased by: ana, ben, vault") || !strings.Contains(r.stdout, "not erased by:    none") {
		t.Fatalf("vault's approval (the destroying one): %s", r)
	}
	for _, n := range holders {
		if !strings.Contains(r.stderr, "erasure: "+n+" erased its share") {
			t.Errorf("no progress line for %s on stderr: %q", n, r.stderr)
		}
	}

	for _, n := range holders {
		home := e.parties[n].home
		if found := mentions(t, home, needles...); len(found) > 0 {
			t.Errorf("%s's home still holds %s in %v", n, w.ID, found)
		}
		kr := e.openKeyring(t, home)
		for path, data := range old[n] {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		st, err := shares.Open(filepath.Join(home, "shares"), kr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Active(w.ID, e.parties[n].fp); !errors.Is(err, shares.ErrAuth) {
			t.Errorf("%s's old share files, put back: %v, want ErrAuth (their key was deleted)", n, err)
		}
		kr.Close()
		os.RemoveAll(filepath.Join(home, "shares", "shares", w.ID))
		if audit, err := os.ReadFile(filepath.Join(home, "audit.log")); err != nil || !bytes.Contains(audit, []byte(`"share.erased"`)) {
			t.Errorf("%s's audit log has no share.erased entry: %v", n, err)
		}
	}

	show := e.cmd(e.parties["ana"].home, "wallet", "show", w.ID)
	if show.code != 0 || !strings.Contains(show.stdout, "destroyed") || !strings.Contains(show.stdout, "ana, ben, vault") {
		t.Errorf("wallet show after the destruction: %s", show)
	}
	start := time.Now()
	sign := e.cmd(e.parties["ben"].home, "wallet", "sign", w.ID, "--digest", digest())
	if sign.code == 0 || !strings.Contains(sign.stderr, "destroyed") || time.Since(start) > 30*time.Second {
		t.Errorf("wallet sign of the destroyed wallet: %s", sign)
	}
	e.healthy(t)
}
