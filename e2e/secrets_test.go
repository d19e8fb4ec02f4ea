//go:build unix

package e2e_test

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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

	"github.com/taurusgroup/multi-party-sig/pkg/paillier"
	"github.com/taurusgroup/multi-party-sig/protocols/cmp"
	"github.com/taurusgroup/multi-party-sig/protocols/frost"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/relay"
)

// Secret hygiene (release cases 24, 32 and 34): every journey of
// JOURNEYS.md that runs here, with the relay logging at debug level and
// every command run with PARATRO_DEBUG=1, and then every file under the
// work directory (relay data and log, party logs, homes with their audit
// logs, sealed shares and keyrings, backup files, the goroutine dumps),
// every output of the commands run here and of every command the other
// e2e tests ran before, and /proc/<pid>/cmdline and environ of the relay,
// the parties and each command, taken while they ran, are searched for
// every secret the world made: raw, in hex, base64 (std and URL, at any
// offset) and numbers in decimal. None may be found; in environ, the
// passphrases and TOTP codes the harness passes there are allowed only
// before the process blanked them (case 33: hygiene.ScrubEnviron as Main
// starts), and every process that lived must be seen blanked.
//
// The journeys: an ECDSA wallet (the harness's) and a Schnorr (FROST)
// wallet created, each signed with; bad input, an unknown wallet, a sign
// the policy rejects, a wrong TOTP code, a wrong backup passphrase, a
// missing backup file; rotate-keys; TOTP enrolment and use; a share
// backup exported (request, delay, file), verified and restored into a
// fresh home; an API key made, used, misused and revoked; presignatures
// made by party run --presign and one used; a panic induced in a party in
// a keygen and in a sign (inducedPanics); a party killed by SIGQUIT and
// SIGABRT in the middle of a sign with core dumps allowed (case 34: no
// core file). The secrets: each holder's shares of every epoch (whole,
// the library configuration, the secret scalars, Paillier primes and
// BIP-32 chain key), its presignatures (whole, KShare, ChiShare), its
// identity keys and share store key, the TOTP seeds and every code of
// them, the API keys, the keyring and backup passphrases, and what the
// relay's store holds sealed (case 24): the plaintext of every envelope
// (in the relay's data and log only) and the transient p2p shares they
// carry (FROST F_li, CMP keygen and refresh round-4 shares) everywhere.
// A planted leak checks that the search finds one.
func TestSecretHygiene(t *testing.T) {
	e := setup(t)
	began := time.Now()
	checkHardened(t, e)
	restore := e.debugRelay(t)
	defer restore()
	h := newHygiene(t, e)
	ben, ana := e.parties["ben"].home, e.parties["ana"].home
	secrets := h.collect(nil, "before rotate-keys")

	// A Schnorr (FROST) wallet, and a sign with each wallet.
	r := h.run(ben, nil, "wallet", "create", "--name", "hygiene-btc", "--chain", "bitcoin", "--scheme", "schnorr",
		"--threshold", "2-of-3", "--parties", "ana,ben,vault", "--timeout", "2m", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("wallet create (Schnorr):\n%s", r)
	}
	btc := decode[createJSON](t, r)
	for _, w := range []string{e.wallet.ID, btc.ID} {
		if r := h.run(ben, nil, "wallet", "sign", w, "--digest", digest(), "--signers", "ana,ben", "--timeout", "3m", "--output", "json"); r.code != exitOK {
			t.Fatalf("sign:\n%s", r)
		}
	}
	secrets = h.collect(secrets, "with the Schnorr wallet")

	// Error paths: bad input, an unknown wallet, a sign the policy rejects
	// (only ben may ask for one), a wrong TOTP code.
	for _, c := range []struct {
		home  string
		extra []string
		args  []string
		want  int
	}{
		{ben, nil, []string{"wallet", "sign", e.wallet.ID, "--digest", "zz" + digest()[2:]}, -1},
		{ben, nil, []string{"wallet", "sign", "wal_nosuchwallet0000", "--digest", digest()}, -1},
		{ana, nil, []string{"wallet", "sign", e.wallet.ID, "--digest", digest(), "--signers", "ana,vault", "--timeout", "30s"}, exitRejected},
		{ben, []string{"PARATRO_OTP=" + wrongCode(t, e)}, []string{"rotate-keys", e.wallet.ID, "--timeout", "30s"}, -1},
	} {
		r := h.run(c.home, c.extra, c.args...)
		if r.code == exitOK || c.want >= 0 && r.code != c.want {
			t.Errorf("want exit %d (-1: any failure):\n%s", c.want, r)
		}
	}

	// Case 32: an induced panic in vault's party in a keygen and a sign.
	h.inducedPanics()

	// rotate-keys (CMP refresh, the longest ceremony: /proc is read all along).
	n := e.epoch(t)
	r = h.run(ben, nil, "rotate-keys", e.wallet.ID, "--timeout", "5m", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("rotate-keys:\n%s", r)
	}
	if rot := decode[rotateJSON](t, r); rot.Epoch != n+1 {
		t.Fatalf("rotate-keys printed epoch %d, want %d", rot.Epoch, n+1)
	}
	secrets = h.collect(secrets, "after rotate-keys")

	// TOTP for ana, and her share backup: request, delay, file, verify
	// (and with a wrong passphrase), restore into a fresh home.
	e.enrolTOTP(t, ana)
	backupPass := "e2e hygiene backup " + e.pass
	pass := []string{"PARATRO_BACKUP_PASSPHRASE=" + backupPass}
	file := filepath.Join(e.dir, "hygiene-ana.age")
	os.Remove(file)
	r = h.run(ana, nil, "share", "backup", "export", e.wallet.ID, "--to", file, "--output", "json")
	var req struct {
		Status      string    `json:"status"`
		AvailableAt time.Time `json:"available_at"`
	}
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &req) != nil || req.Status != "requested" {
		t.Fatalf("backup export request:\n%s", r)
	}
	if d := time.Until(req.AvailableAt); d > time.Minute {
		t.Fatalf("the backup export is available in %s, not after the relay's --backup-delay %s", d, backupDelay)
	}
	time.Sleep(time.Until(req.AvailableAt) + 200*time.Millisecond)
	for _, c := range []struct {
		pass []string
		args []string
		ok   bool
	}{
		{pass, []string{"share", "backup", "export", e.wallet.ID, "--to", file}, true},
		{pass, []string{"share", "backup", "verify", file}, true},
		{[]string{"PARATRO_BACKUP_PASSPHRASE=not the passphrase"}, []string{"share", "backup", "verify", file}, false},
		{pass, []string{"share", "backup", "verify", file + ".missing"}, false},
	} {
		if r := h.run(ana, c.pass, c.args...); (r.code == exitOK) != c.ok {
			t.Errorf("want success %v:\n%s", c.ok, r)
		}
	}
	restored := filepath.Join(e.dir, "ana-restored-hygiene")
	os.RemoveAll(restored)
	if r := h.run(restored, pass, "share", "restore", file, "--output", "json"); r.code != exitOK {
		t.Fatalf("share restore:\n%s", r)
	}
	h.homes = append(h.homes, [2]string{"ana (restored)", restored})
	secrets = h.collect(secrets, "after the restore")

	// An API key: made, used, misused, revoked.
	h.apiKeyJourney()

	// Presignatures: party run --presign 1 fills a pool for each signer
	// set; a sign uses one; the pool refills.
	restart := func(args, env []string) {
		for _, name := range holders {
			p := e.parties[name]
			p.kill()
			p.args, p.extraEnv = args, env
			if err := p.start(); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() { restart(nil, nil) })
	restart([]string{"--presign", "1"}, []string{"PARATRO_DEBUG=1"})
	h.waitPools(2)
	secrets = h.collect(secrets, "presignatures made")
	if h.presignatures == 0 {
		t.Fatal("no presignature collected")
	}
	r = h.run(ben, nil, "wallet", "sign", e.wallet.ID, "--digest", digest(), "--signers", "ana,vault", "--timeout", "3m", "--output", "json")
	if s := decode[presigSignJSON](t, r); r.code != exitOK || s.Presignature == "" {
		t.Fatalf("sign with the pool full did not use a presignature:\n%s", r)
	}
	h.waitPools(2)
	secrets = h.collect(secrets, "presignatures refilled")
	restart(nil, nil)

	// Case 34: SIGQUIT and SIGABRT in the middle of a sign, core dumps allowed.
	h.coreDumps()
	for _, name := range holders {
		for _, args := range [][]string{{"share", "list"}, {"share", "list", "--output", "json"}, {"audit", "verify"}, {"audit"}} {
			h.run(e.parties[name].home, nil, args...)
		}
	}

	// The secrets typed or shown: TOTP seeds and codes, API keys, passphrases.
	totps := map[string]string{"ben": e.totpSecret}
	secrets = append(secrets, totpSecrets(t, "ben", e.totpSecret)...)
	for dir, o := range e.otherTOTP {
		totps[filepath.Base(dir)] = o.secret
		secrets = append(secrets, totpSecrets(t, filepath.Base(dir), o.secret)...)
	}
	for _, k := range h.apiKeys {
		secrets = append(secrets, apiKeySecrets(k)...)
	}
	for label, p := range map[string]string{"the keyring passphrase": e.pass, "the backup passphrase": backupPass} {
		s := newSecret(label, []byte(p), false, "")
		s.envOK = true
		secrets = append(secrets, s)
	}
	if b, err := os.ReadFile(filepath.Join(e.relay.data, relay.SecretsKeyFile)); err == nil {
		s := newSecret("the relay's TOTP sealing key", b, false, "")
		s.shownBy = filepath.Join("relay", relay.SecretsKeyFile)
		secrets = append(secrets, s)
	}
	born := began.Add(-e.setup)
	if st, err := os.Stat(filepath.Join(ben, "identity.json")); err == nil && st.ModTime().Before(born) {
		born = st.ModTime()
	}
	codes := totpCodes(t, totps, born, h.codes)

	// Case 24: the relay's store, with the relay down.
	e.relay.kill()
	plaintexts, transient := h.relayStore()
	secrets = append(secrets, transient...)

	t.Logf("%d secrets (%d presignatures) of %d homes, %d TOTP codes, %d envelope plaintexts; each searched raw, in hex, in base64 (std and URL, at any offset) and numbers in decimal",
		len(secrets), h.presignatures, len(h.homes), len(codes), len(plaintexts))
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
	outputs := h.outputs
	e.transcriptMu.Lock()
	for _, r := range e.transcript {
		outputs = append(outputs, r.texts()...)
	}
	t.Logf("searching the output of %d commands here and %d before", len(h.outputs)/2, len(e.transcript))
	e.transcriptMu.Unlock()
	found := scanDir(t, e.dir, slices.Concat(secrets, codes))
	found = append(found, scanDir(t, e.relay.data, plaintexts)...)
	if b, err := os.ReadFile(e.relay.logPath); err == nil {
		found = append(found, scan("relay.log", b, plaintexts)...)
	}
	for _, o := range outputs {
		found = append(found, scan(o.name, []byte(o.text), slices.Concat(secrets, codes))...)
	}
	// /proc: nothing in any command line; in the environment only what is
	// meant to be passed there (the passphrases, a TOTP code), and only
	// until the process blanked it (case 33: environFindings).
	var never, ok []secret
	for _, s := range slices.Concat(secrets, codes) {
		if s.envOK {
			ok = append(ok, s)
		} else {
			never = append(never, s)
		}
	}
	for _, sn := range h.snaps {
		if strings.Contains(sn.name, "/cmdline") {
			found = append(found, scan(sn.name, []byte(sn.text), slices.Concat(secrets, codes))...)
			continue
		}
		found = append(found, scan(sn.name, []byte(sn.text), never)...)
	}
	envFailures, inEnv, scrubbed := h.environFindings(ok)
	found = append(found, envFailures...)
	if runtime.GOOS == "linux" && scrubbed == 0 {
		t.Errorf("no process was seen with its secret variables blanked in /proc/<pid>/environ (%d snapshots)", len(h.environs))
	}
	// The goroutine dumps, also for machine words of secret numbers.
	limbs := limbForms(secrets)
	for _, d := range h.dumps {
		found = append(found, scan(d.name, []byte(d.text), slices.Concat(secrets, codes, limbs))...)
	}
	t.Logf("searched %d /proc snapshots and %d goroutine dumps (%d machine-word forms of secret numbers)", len(h.snaps), len(h.dumps), len(limbs))
	slices.Sort(inEnv)
	inEnv = slices.Compact(inEnv)
	t.Logf("/proc/<pid>/environ: %d processes seen with their secret variables blanked; %d findings in snapshots taken between exec and the blanking (the harness passes them there), e.g.\n%s",
		scrubbed, len(inEnv), strings.Join(summariseEnv(inEnv), "\n"))
	if len(found) > 0 {
		t.Errorf("secrets found in files or outputs:\n%s", strings.Join(found, "\n"))
	}
	t.Logf("secret hygiene took %s after setup", time.Since(began).Round(time.Second))
}

// wrongCode is a TOTP code that is not ben's now.
func wrongCode(t *testing.T, e *env) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(strings.ToUpper(e.totpSecret), "="))
	if err != nil {
		t.Fatal(err)
	}
	now := uint64(time.Now().Unix() / 30)
	for c := 100_000; ; c += 7919 {
		code := fmt.Sprintf("%06d", c%1_000_000)
		if code != hotp(key, now-1) && code != hotp(key, now) && code != hotp(key, now+1) && code != hotp(key, now+2) {
			return code
		}
	}
}

// summariseEnv is one line per process kind and secret of the environ
// findings.
func summariseEnv(lines []string) []string {
	var out []string
	for _, l := range lines {
		name, what, _ := strings.Cut(l, ": ")
		if i := strings.Index(name, " of "); i >= 0 {
			name = name[i+4:]
		}
		if strings.Contains(what, "TOTP code") {
			what = "a TOTP code"
		}
		out = append(out, "  "+name+": "+what)
	}
	slices.Sort(out)
	return slices.Compact(out)
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
		"--log-format", "json", "--log-level", "debug", "--backup-delay", backupDelay.String())
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
	// envOK: the secret is meant to be passed in the environment (a
	// passphrase, a TOTP code); in /proc/<pid>/environ it is allowed only
	// before the process blanked it (environFindings).
	envOK bool
	// shownBy is the output (a command name, or a file under the work
	// directory) whose job is to show the secret once: an enrolment's
	// TOTP seed, a new API key.
	shownBy string
}

type form struct {
	how string
	b   []byte
	// word: found only as a whole word, not inside a longer run of
	// letters and digits (a 6-digit code inside a hex string is no leak).
	word bool
}

func newSecret(label string, v []byte, scalar bool, decimal string) secret {
	s := secret{label: label, value: bytes.Clone(v), scalar: scalar}
	s.forms = append(s.forms, form{how: "raw", b: s.value},
		form{how: "hex", b: []byte(hex.EncodeToString(v))}, form{how: "HEX", b: []byte(strings.ToUpper(hex.EncodeToString(v)))})
	// A base64 encoding of anything holding v contains, wherever v starts,
	// the encoding of v from its first byte on a 3-byte boundary: search
	// the whole-group encodings of v from each of its first three bytes.
	for off := range min(3, len(v)) {
		w := v[off:]
		w = w[:len(w)/3*3]
		s.forms = append(s.forms, form{how: "base64", b: []byte(base64.RawStdEncoding.EncodeToString(w))},
			form{how: "base64url", b: []byte(base64.RawURLEncoding.EncodeToString(w))})
	}
	if decimal != "" {
		s.forms = append(s.forms, form{how: "decimal", b: []byte(decimal)})
	}
	return s
}

// shareSecrets are the secrets of one serialised ceremony.Share.
// It also returns the share's Paillier secret key (nil for FROST).
func shareSecrets(t *testing.T, what string, blob []byte) ([]secret, *paillier.SecretKey) {
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
	var sk *paillier.SecretKey
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
		out = append(out, newSecret(what+": BIP-32 chain key", c.ChainKey, false, ""))
		sk = c.Paillier
	case *frost.TaprootConfig:
		scalar("FROST private share", c.PrivateShare)
		if len(c.ChainKey) > 0 {
			out = append(out, newSecret(what+": BIP-32 chain key", c.ChainKey, false, ""))
		}
	default:
		t.Fatalf("%s: library configuration %T", what, lc)
	}
	return out, sk
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
		if s.shownBy != "" && strings.HasPrefix(name, s.shownBy) && !strings.HasSuffix(name, "(stderr)") {
			continue // the one output meant to show it
		}
		for _, f := range s.forms {
			if len(f.b) > 0 && contains(b, f.b, f.word) {
				found = append(found, fmt.Sprintf("%s: %s as %s", name, s.label, f.how))
				break
			}
		}
	}
	return found
}

// contains reports whether b contains v, as a whole word when word is set.
func contains(b, v []byte, word bool) bool {
	if !word {
		return bytes.Contains(b, v)
	}
	alnum := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for off := 0; ; {
		i := bytes.Index(b[off:], v)
		if i < 0 {
			return false
		}
		i += off
		if (i == 0 || !alnum(b[i-1])) && (i+len(v) == len(b) || !alnum(b[i+len(v)])) {
			return true
		}
		off = i + 1
	}
}
