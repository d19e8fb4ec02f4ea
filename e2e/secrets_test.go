//go:build unix

package e2e_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/protocols/cmp"
	"github.com/taurusgroup/multi-party-sig/protocols/frost"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/shares"
)

// Secret hygiene: a whole lifecycle (the wallet the harness created, a
// sign, a rotate-keys, share list and audit verify) with the relay logging
// at debug level and every command run with PARATRO_DEBUG=1; then every
// file under the work directory (relay data and log, party logs, homes
// with their audit logs, sealed shares and keyrings) and every output of
// the commands run here, and of every command the other e2e tests ran
// before (kill -9 tests, backups exported, verified and restored, a wallet
// destroyed), is searched for each holder's secrets (its shares
// of both epochs, whole and by their secret scalars and primes, its
// identity key and its store's key), raw, in hex and in base64: none may
// be found. A planted leak checks that the search finds one.
func TestSecretHygiene(t *testing.T) {
	e := setup(t)
	checkHardened(t, e)
	restore := e.debugRelay(t)
	defer restore()

	var outputs []namedText
	secrets := e.collectSecrets(t, "before rotate-keys")

	d := digest()
	r := e.debugCmd(t, e.parties["ben"].home, "wallet", "sign", e.wallet.ID, "--digest", d, "--signers", "ana,ben", "--timeout", "60s")
	outputs = append(outputs, r.texts()...)
	if r.code != exitOK {
		t.Fatalf("sign:\n%s", r)
	}
	n := e.epoch(t)
	r = e.debugCmd(t, e.parties["ben"].home, "rotate-keys", e.wallet.ID, "--timeout", "90s", "--output", "json")
	outputs = append(outputs, r.texts()...)
	if r.code != exitOK {
		t.Fatalf("rotate-keys:\n%s", r)
	}
	if rot := decode[rotateJSON](t, r); rot.Epoch != n+1 {
		t.Fatalf("rotate-keys printed epoch %d, want %d", rot.Epoch, n+1)
	}
	for _, name := range holders {
		h := e.parties[name].home
		for _, args := range [][]string{{"share", "list"}, {"share", "list", "--output", "json"}, {"audit", "verify"}, {"audit"}} {
			r := e.debugCmd(t, h, args...)
			outputs = append(outputs, r.texts()...)
		}
	}
	for _, s := range e.collectSecrets(t, "after rotate-keys") {
		if !slices.ContainsFunc(secrets, func(o secret) bool { return bytes.Equal(o.value, s.value) }) {
			secrets = append(secrets, s) // not a share that rotate-keys left as it was
		}
	}
	t.Logf("%d secrets of %d holders, each searched raw, in hex, in base64 (std and URL, at any offset) and numbers in decimal", len(secrets), len(holders))
	debugLines := 0
	for _, l := range e.relay.logLines() {
		if l["level"] == "DEBUG" {
			debugLines++
		}
	}
	if debugLines == 0 {
		t.Errorf("the relay logged no debug line; its log:\n%s", tail(e.relay.logPath, 20))
	}

	// The search finds a planted leak: one share scalar in hex in a log
	// line, another in base64 at an offset that is not a multiple of 3.
	plant := filepath.Join(e.dir, "planted-leak.log")
	s0, s1 := secrets[firstScalar(t, secrets, 0)], secrets[firstScalar(t, secrets, 1)]
	leak := fmt.Sprintf("level=DEBUG msg=share x=%x\nlevel=DEBUG b=%s\n", s0.value, base64.StdEncoding.EncodeToString(append([]byte("ab"), s1.value...)))
	if err := os.WriteFile(plant, []byte(leak), 0o600); err != nil {
		t.Fatal(err)
	}
	var planted []string
	for _, f := range scanDir(t, e.dir, secrets) {
		if strings.HasPrefix(f, "planted-leak.log: ") {
			planted = append(planted, f)
		}
	}
	os.Remove(plant)
	if want := []string{"planted-leak.log: " + s0.label + " as hex", "planted-leak.log: " + s1.label + " as base64"}; !slices.Equal(planted, want) {
		t.Fatalf("the search does not find the planted leak: it found\n%s\nwant\n%s", strings.Join(planted, "\n"), strings.Join(want, "\n"))
	}

	// Every command the e2e tests ran before this one too: the kill -9
	// tests, backups exported, verified and restored, a wallet destroyed.
	e.transcriptMu.Lock()
	for _, r := range e.transcript {
		outputs = append(outputs, r.texts()...)
	}
	t.Logf("searching the output of %d commands", len(e.transcript))
	e.transcriptMu.Unlock()
	found := scanDir(t, e.dir, secrets)
	for _, o := range outputs {
		found = append(found, scan(o.name, []byte(o.text), secrets)...)
	}
	if len(found) > 0 {
		t.Errorf("secrets found in files or outputs:\n%s", strings.Join(found, "\n"))
	}
}

// checkHardened checks that every party said it disabled core dumps, and
// on Linux that the processes show it.
func checkHardened(t *testing.T, e *env) {
	t.Helper()
	for _, name := range holders {
		p := e.parties[name]
		b, err := os.ReadFile(p.logPath)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(b, []byte("core dumps off"))
		if i < 0 {
			t.Errorf("%s's party did not say it disabled core dumps; its log:\n%s", name, p.logTail())
			continue
		}
		line := string(b[max(0, bytes.LastIndexByte(b[:i], '\n')+1):])
		line, _, _ = strings.Cut(line, "\n")
		t.Logf("%s: %s", name, line)
		if runtime.GOOS != "linux" {
			continue
		}
		limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", p.cmd.Process.Pid))
		if err != nil {
			t.Logf("%s's party: %v", name, err)
			continue
		}
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)); err == nil {
			for l := range strings.SplitSeq(string(st), "\n") {
				if strings.HasPrefix(l, "VmLck:") || strings.HasPrefix(l, "VmRSS:") {
					t.Logf("%s's party: %s", name, strings.Join(strings.Fields(l), " "))
				}
			}
		}
		for l := range strings.SplitSeq(string(limits), "\n") {
			if strings.HasPrefix(l, "Max core file size") {
				if f := strings.Fields(l); len(f) < 6 || f[4] != "0" || f[5] != "0" {
					t.Errorf("%s's party: %q, want 0 0", name, l)
				}
			}
		}
	}
}

// debugRelay restarts the relay on its address and data with --log-level
// debug (into the same log), and returns how to put the harness's relay
// back.
func (e *env) debugRelay(t *testing.T) func() {
	t.Helper()
	r := e.relay
	r.kill()
	addrFile := filepath.Join(e.dir, "relay.addr")
	os.Remove(addrFile)
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "relay", "serve", "--listen", r.addr, "--data", r.data, "--addr-file", addrFile,
		"--log-format", "json", "--log-level", "debug")
	cmd.Env, cmd.SysProcAttr = e.childEnv(), childAttr()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.cmd, r.exit, r.stopped = cmd, make(chan struct{}), false
	r.starts++
	go func(exit chan struct{}) { cmd.Wait(); close(exit) }(r.exit)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if b, _ := os.ReadFile(addrFile); len(bytes.TrimSpace(b)) > 0 {
			break
		}
		if !r.running() || time.Now().After(deadline) {
			t.Fatalf("the relay with --log-level debug did not start:\n%s", tail(r.logPath, 20))
		}
	}
	return func() {
		r.kill()
		if err := r.start(); err != nil {
			t.Errorf("restart the relay: %v", err)
		}
	}
}

// debugCmd runs paratro args... --home home like e.cmd, with PARATRO_DEBUG=1.
func (e *env) debugCmd(t *testing.T, home string, args ...string) result {
	t.Helper()
	args = append(args, "--home", home)
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.SysProcAttr = append(e.childEnv(), "PARATRO_DEBUG=1"), childAttr()
	if needsOTP(args, e.enrolled) {
		code, err := e.nextOTP()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "PARATRO_OTP="+code)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	timer := time.AfterFunc(maxCommand, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{args: args, code: code, stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
}

// namedText is a command's output.
type namedText struct{ name, text string }

func (r result) texts() []namedText {
	cmd := "paratro " + strings.Join(r.args, " ")
	return []namedText{{cmd + " (stdout)", r.stdout}, {cmd + " (stderr)", r.stderr}}
}

// secret is one secret value and the forms it is searched in.
type secret struct {
	label  string
	value  []byte
	scalar bool
	forms  []form
}

type form struct {
	how string
	b   []byte
}

func newSecret(label string, v []byte, scalar bool, decimal string) secret {
	s := secret{label: label, value: bytes.Clone(v), scalar: scalar}
	s.forms = append(s.forms, form{"raw", s.value},
		form{"hex", []byte(hex.EncodeToString(v))}, form{"HEX", []byte(strings.ToUpper(hex.EncodeToString(v)))})
	// A base64 encoding of anything holding v contains, wherever v starts,
	// the encoding of v from its first byte on a 3-byte boundary: search
	// the whole-group encodings of v from each of its first three bytes.
	for off := range 3 {
		w := v[off:]
		w = w[:len(w)/3*3]
		s.forms = append(s.forms, form{"base64", []byte(base64.RawStdEncoding.EncodeToString(w))},
			form{"base64url", []byte(base64.RawURLEncoding.EncodeToString(w))})
	}
	if decimal != "" {
		s.forms = append(s.forms, form{"decimal", []byte(decimal)})
	}
	return s
}

// collectSecrets opens every holder's home (its file keyring, as its
// processes do) and returns its secrets: each stored share (the serialised
// share, the library's configuration, and its secret scalars and Paillier
// primes), its identity's private keys and the key of its share store.
func (e *env) collectSecrets(t *testing.T, when string) []secret {
	t.Helper()
	var out []secret
	for _, name := range holders {
		dir := e.parties[name].home
		kr, err := shares.OpenFileKeyring(filepath.Join(dir, "keyring.json"), []byte(e.pass))
		if err != nil {
			t.Fatal(err)
		}
		h, err := home.Open(dir, kr)
		if err != nil {
			kr.Close()
			t.Fatal(err)
		}
		out = append(out, newSecret(name+"'s identity private keys", h.ID.Secret(), false, ""))
		// The entry's name changes each time a wallet's share is erased
		// (wallet destroy replaces the key).
		kek, err := kr.Get(h.Store.KeyringEntry())
		if err != nil {
			t.Fatalf("%s's share store key: %v", name, err)
		}
		out = append(out, newSecret(name+"'s share store key", kek, false, ""))
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
			what := fmt.Sprintf("%s's %s share of %s epoch %d (%s)", name, en.State, en.WalletID, en.Epoch, when)
			out = append(out, shareSecrets(t, what, sh.Secret)...)
			sh.Wipe()
		}
		kr.Close()
	}
	return out
}

// shareSecrets are the secrets of one serialised ceremony.Share.
func shareSecrets(t *testing.T, what string, blob []byte) []secret {
	t.Helper()
	out := []secret{newSecret(what+": the serialised share", blob, false, "")}
	cs, err := ceremony.UnmarshalShare(blob)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	lc, err := cs.LibraryConfig()
	if err != nil {
		t.Fatal(err)
	}
	scalar := func(label string, m interface{ MarshalBinary() ([]byte, error) }) {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %s: %v", what, label, err)
		}
		out = append(out, newSecret(what+": "+label, b, true, new(big.Int).SetBytes(b).String()))
	}
	switch c := lc.(type) {
	case *cmp.Config:
		if b, err := c.MarshalBinary(); err == nil {
			out = append(out, newSecret(what+": the CMP configuration", b, false, ""))
		}
		scalar("ECDSA secret share", c.ECDSA)
		scalar("ElGamal secret", c.ElGamal)
		for label, n := range map[string]interface{ Big() *big.Int }{"Paillier P": c.Paillier.P(), "Paillier Q": c.Paillier.Q()} {
			out = append(out, newSecret(what+": "+label, n.Big().Bytes(), false, n.Big().String()))
		}
	case *frost.TaprootConfig:
		scalar("FROST private share", c.PrivateShare)
	default:
		t.Fatalf("%s: library configuration %T", what, lc)
	}
	return out
}

// firstScalar returns the index of the (skip+1)th secret scalar.
func firstScalar(t *testing.T, secrets []secret, skip int) int {
	t.Helper()
	for i, s := range secrets {
		if s.scalar {
			if skip == 0 {
				return i
			}
			skip--
		}
	}
	t.Fatal("no share scalar collected")
	return -1
}

// scanDir searches every file under dir except the paratro binary.
func scanDir(t *testing.T, dir string, secrets []secret) []string {
	t.Helper()
	var found []string
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || path == bin {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(dir, path)
		found = append(found, scan(rel, b, secrets)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("searched %d files under %s", files, dir)
	return found
}

// scan returns a line for each secret found in b, in the first form found.
func scan(name string, b []byte, secrets []secret) []string {
	var found []string
	for _, s := range secrets {
		for _, f := range s.forms {
			if len(f.b) > 0 && bytes.Contains(b, f.b) {
				found = append(found, fmt.Sprintf("%s: %s as %s", name, s.label, f.how))
				break
			}
		}
	}
	return found
}
