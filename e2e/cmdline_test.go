//go:build linux

package e2e_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/shares"
)

// Case 33 of SECURITY.md (c): the command line of a running party run (and
// of the relay), as every user of the machine reads it in
// /proc/<pid>/cmdline, is exactly the arguments it was started with, and
// holds none of the holder's secrets: the keyring passphrase, the TOTP
// seed, the identity key, the share store's key or any share, raw, in hex
// or in base64. Its environment, /proc/<pid>/environ, holds the keyring
// passphrase the harness passed there blanked (hygiene.ScrubEnviron).
func TestPartyRunCommandLineHoldsNoSecret(t *testing.T) {
	e := setup(t)
	secrets := cmdlineSecrets(t, e)
	procs := map[string]*exec.Cmd{"the relay": e.relay.cmd}
	for _, name := range holders {
		procs[name+"'s party run"] = e.parties[name].cmd
	}
	for what, cmd := range procs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		// SECURITY.md case 34: no core dump can write its memory to disk.
		if lim, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid)); err != nil {
			t.Errorf("%s: %v", what, err)
		} else if !regexp.MustCompile(`(?m)^Max core file size\s+0\s+0\s`).Match(lim) {
			t.Errorf("%s may dump core: /proc limits:\n%s", what, lim)
		}
		argv := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		if !slices.Equal(argv, cmd.Args) {
			t.Errorf("%s: /proc cmdline is %q, started as %q", what, argv, cmd.Args)
		}
		for label, forms := range secrets {
			for _, f := range forms {
				if bytes.Contains(b, f) {
					t.Errorf("%s: /proc cmdline holds %s", what, label)
					break
				}
			}
		}
	}
	t.Logf("searched the command lines of %d processes for %d secrets", len(procs), len(secrets))

	// The environment: the keyring passphrase the harness passes there is
	// blanked in the kernel's copy (/proc/<pid>/environ) as Main starts;
	// the variable's name stays, the other variables are as passed.
	for what, cmd := range procs {
		blank := []byte("\x00PARATRO_KEYRING_PASSPHRASE=" + strings.Repeat("\x00", len(e.pass)+1))
		var b []byte
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			var err error
			if b, err = os.ReadFile(fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid)); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if bytes.Contains(b, blank) || time.Now().After(deadline) {
				break // (just restarted, it may not have got there yet)
			}
		}
		if !bytes.Contains(b, blank) || bytes.Contains(b, []byte(e.pass)) {
			t.Errorf("%s: /proc environ does not hold PARATRO_KEYRING_PASSPHRASE blanked (%d NULs), or holds the passphrase", what, len(e.pass))
		}
		last := map[string]string{} // exec keeps the last of a name given twice
		for _, kv := range cmd.Env {
			k, _, _ := strings.Cut(kv, "=")
			last[k] = kv
		}
		for k, kv := range last {
			if k != "PARATRO_KEYRING_PASSPHRASE" && !bytes.Contains(append([]byte{0}, b...), []byte("\x00"+kv+"\x00")) {
				t.Errorf("%s: /proc environ lost %q", what, kv)
			}
		}
	}
}

// cmdlineSecrets are the secrets of every holder, each with the forms it
// is searched in.
func cmdlineSecrets(t *testing.T, e *env) map[string][][]byte {
	t.Helper()
	out := map[string][][]byte{}
	add := func(label string, v []byte) {
		out[label] = [][]byte{v, []byte(hex.EncodeToString(v)), []byte(base64.StdEncoding.EncodeToString(v)),
			[]byte(base64.RawURLEncoding.EncodeToString(v))}
	}
	out["the keyring passphrase"] = [][]byte{[]byte(e.pass)}
	if e.totpSecret != "" {
		out["ben's TOTP seed"] = [][]byte{[]byte(e.totpSecret)}
	}
	for _, name := range holders {
		dir := e.parties[name].home
		h, kr := e.openHome(t, dir)
		add(name+"'s identity key", h.ID.Secret())
		if kek, err := kr.Get(h.Store.KeyringEntry()); err == nil {
			add(name+"'s share store key", kek)
		}
		list, err := h.Store.List()
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range list {
			get := h.Store.Active
			if en.State == shares.StatePending {
				get = h.Store.Pending
			}
			sh, err := get(en.WalletID, en.PartyID)
			if err != nil {
				t.Fatal(err)
			}
			add(fmt.Sprintf("%s's %s share of %s epoch %d", name, en.State, en.WalletID, en.Epoch), sh.Secret)
			sh.Wipe()
		}
	}
	return out
}
