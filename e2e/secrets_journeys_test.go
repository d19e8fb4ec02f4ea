//go:build unix

package e2e_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/paillier"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"

	"github.com/fxamacker/cbor/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares"
)

// hygiene is what TestSecretHygiene gathers while it runs the journeys:
// every output, the /proc snapshots and goroutine dumps, the TOTP codes
// and API keys it typed, and the homes whose secrets it collects.
type hygiene struct {
	e *env
	t *testing.T

	mu      sync.Mutex
	outputs []namedText // stdout and stderr of every command run here
	snaps   []namedText // /proc/<pid>/cmdline and environ, mid-ceremony
	seen    map[string]bool
	dumps   []namedText // what the runtime printed on SIGQUIT and SIGABRT
	codes   []string    // TOTP codes typed, right and wrong
	apiKeys []string    // whole API keys made
	homes   [][2]string // name, directory: every home whose secrets are collected
	extra   []int       // pids of long-running processes started here (snapshotted too)
	// environs are the /proc/<pid>/environ snapshots (also in snaps), in
	// the order taken, and ran how long each command run here lived:
	// whether a secret there is a failure depends on when it was taken
	// (environFindings).
	environs []environSnap
	ran      map[string]time.Duration // by the snapshots' name

	// paillier are the Paillier secret keys of every share collected, by
	// the holder's fingerprint, to read the CMP keygen round-4 shares.
	paillier map[string][]*paillier.SecretKey
	// presignatures counts the presignatures whose secrets were collected.
	presignatures int
}

func newHygiene(t *testing.T, e *env) *hygiene {
	h := &hygiene{e: e, t: t, seen: map[string]bool{}, paillier: map[string][]*paillier.SecretKey{}, ran: map[string]time.Duration{}}
	for _, n := range holders {
		h.homes = append(h.homes, [2]string{n, e.parties[n].home})
	}
	return h
}

// run runs paratro args... --home home (when not empty) with PARATRO_DEBUG=1,
// a TOTP code when the command asks for one (of the home's enrolment) and
// extra environment variables last (they win), snapshotting /proc of it,
// the relay and the parties while it runs.
func (h *hygiene) run(home string, extra []string, args ...string) result {
	t, e := h.t, h.e
	t.Helper()
	if home != "" {
		args = append(args, "--home", home)
	}
	cmd := exec.Command(bin, args...)
	env := append(e.childEnv(), "PARATRO_DEBUG=1")
	secret, lastStep, enrolled := e.totpSecret, &e.lastStep, e.enrolled
	if o := e.otherTOTP[home]; o != nil {
		secret, lastStep, enrolled = o.secret, &o.lastStep, true
	}
	if needsOTP(args, enrolled) {
		code, err := nextCode(secret, lastStep)
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, "PARATRO_OTP="+code)
		h.codes = append(h.codes, code)
	}
	for _, kv := range extra {
		if code, ok := strings.CutPrefix(kv, "PARATRO_OTP="); ok {
			h.codes = append(h.codes, code)
		}
	}
	cmd.Env, cmd.SysProcAttr = append(env, extra...), childAttr()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	what := "paratro " + strings.Join(args[:min(2, len(args))], " ")
	stop := h.snapshotWhile(map[int]string{cmd.Process.Pid: what})
	timer := time.AfterFunc(2*maxCommand, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	stop()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	r := result{args: args, code: code, stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	h.mu.Lock()
	h.outputs = append(h.outputs, r.texts()...)
	h.ran[fmt.Sprintf("/proc/%d/environ of %s", cmd.Process.Pid, what)] = r.elapsed
	h.mu.Unlock()
	return r
}

// waitPools waits (a busy machine may take minutes) until every holder
// has want presignatures left, snapshotting /proc meanwhile.
func (h *hygiene) waitPools(want int) {
	t := h.t
	t.Helper()
	stop := h.snapshotWhile(map[int]string{})
	defer stop()
	deadline := time.Now().Add(8 * time.Minute)
	for {
		var got []int
		ok := true
		for _, n := range holders {
			k := h.e.presignaturesLeft(t, n)
			got = append(got, k)
			ok = ok && k == want
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("presignatures left (ana, ben, vault): %v, want %d each; vault's log:\n%s", got, want, h.e.parties["vault"].logTail())
		}
		time.Sleep(time.Second)
	}
}

// longRunning are the relay's and the parties' pids, and those started here.
func (h *hygiene) longRunning() map[int]string {
	m := map[int]string{}
	if r := h.e.relay; r.running() {
		m[r.cmd.Process.Pid] = "the relay"
	}
	for _, n := range holders {
		if p := h.e.parties[n]; p.running() {
			m[p.cmd.Process.Pid] = n + "'s party"
		}
	}
	for _, pid := range h.extra {
		m[pid] = "vault's party (ulimit -c unlimited)"
	}
	return m
}

// snapshotWhile snapshots /proc of pids and of the long-running processes
// every 200 ms until the returned function is called (once more then).
func (h *hygiene) snapshotWhile(pids map[int]string) (stop func()) {
	if runtime.GOOS != "linux" {
		return func() {}
	}
	maps.Copy(pids, h.longRunning())
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			h.snapshot(pids)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// snapshot reads /proc/<pid>/cmdline and environ of each pid, keeping each
// distinct text once.
func (h *hygiene) snapshot(pids map[int]string) {
	for pid, what := range pids {
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
			if err != nil || len(b) == 0 {
				continue // gone (or not yet exec'd)
			}
			sep := []byte(" ")
			if f == "environ" {
				sep = []byte("\n")
			}
			text := string(bytes.ReplaceAll(b, []byte{0}, sep))
			name := fmt.Sprintf("/proc/%d/%s of %s", pid, f, what)
			h.mu.Lock()
			if !h.seen[name+"\x00"+text] {
				h.seen[name+"\x00"+text] = true
				h.snaps = append(h.snaps, namedText{name, text})
				if f == "environ" {
					h.environs = append(h.environs, environSnap{name: name, text: text, state: scrubState(b)})
				}
			}
			h.mu.Unlock()
		}
	}
}

// collect returns the secrets of every home (collectHome) and, once per
// value, adds them to secrets.
func (h *hygiene) collect(secrets []secret, when string) []secret {
	h.t.Helper()
	for _, hm := range h.homes {
		for _, s := range h.collectHome(hm[0], hm[1], when) {
			if !slices.ContainsFunc(secrets, func(o secret) bool { return o.label == s.label || bytes.Equal(o.value, s.value) }) {
				secrets = append(secrets, s)
			}
		}
	}
	return secrets
}

// collectHome opens a home (its file keyring, as its processes do) and
// returns its secrets: its identity's private keys (whole and each key),
// its share store's key, each stored share (the serialised share, the
// library's configuration, its secret scalars, Paillier primes and BIP-32
// chain key) and each unused presignature (serialised, and its secret
// nonce shares k_i and χ_i).
func (h *hygiene) collectHome(name, dir, when string) []secret {
	t := h.t
	t.Helper()
	hm, kr := h.e.openHome(t, dir)
	idSecret := hm.ID.Secret()
	out := []secret{
		newSecret(name+"'s identity private keys", idSecret, false, ""),
		newSecret(name+"'s identity signing seed", idSecret[:32], false, ""),
		newSecret(name+"'s identity box key", idSecret[32:], false, ""),
	}
	fp := hm.ID.Fingerprint()
	// The entry's name changes each time a wallet's share is erased
	// (wallet destroy replaces the key).
	kek, err := kr.Get(hm.Store.KeyringEntry())
	if err != nil {
		t.Fatalf("%s's share store key: %v", name, err)
	}
	out = append(out, newSecret(name+"'s share store key", kek, false, ""))
	list, err := hm.Store.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range list {
		get := hm.Store.Active
		if en.State == shares.StatePending {
			get = hm.Store.Pending
		}
		sh, err := get(en.WalletID, en.PartyID)
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("%s's %s share of %s epoch %d (%s)", name, en.State, en.WalletID, en.Epoch, when)
		ss, sk := shareSecrets(t, what, sh.Secret)
		out = append(out, ss...)
		if sk != nil {
			h.paillier[fp] = append(h.paillier[fp], sk)
		}
		sh.Wipe()
		if en.State != shares.StateActive {
			continue
		}
		metas, err := hm.Store.Presignatures(en.WalletID, en.PartyID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metas {
			p, err := hm.Store.OpenPresignature(en.WalletID, en.PartyID, m.ID)
			if err != nil {
				continue // used meanwhile
			}
			out = append(out, presignatureSecrets(t, fmt.Sprintf("%s's presignature %.12s of %s", name, m.ID, en.WalletID), p.Secret)...)
			p.Wipe()
			h.presignatures++
		}
	}
	return out
}

// presignatureSecrets are the secrets of one serialised presignature.
func presignatureSecrets(t *testing.T, what string, blob []byte) []secret {
	t.Helper()
	out := []secret{newSecret(what+": the serialised presignature", blob, false, "")}
	ps, err := ceremony.UnmarshalPresignature(blob)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for label, s := range map[string]interface{ MarshalBinary() ([]byte, error) }{"KShare": ps.KShare, "ChiShare": ps.ChiShare} {
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, newSecret(what+": "+label, b, true, new(big.Int).SetBytes(b).String()))
	}
	return out
}

// totpSecrets are an enrolment's TOTP seed (base32 as shown, and its raw
// bytes in every form), allowed only in the output of the mfa enroll that
// showed it.
func totpSecrets(t *testing.T, who, b32 string) []secret {
	t.Helper()
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(strings.ToUpper(b32), "="))
	if err != nil {
		t.Fatalf("%s's TOTP secret %q is not base32: %v", who, b32, err)
	}
	s := newSecret(who+"'s TOTP seed", raw, false, "")
	s.forms = append(s.forms, form{how: "base32", b: []byte(strings.TrimRight(b32, "="))},
		form{how: "base32 (lower case)", b: []byte(strings.ToLower(strings.TrimRight(b32, "=")))})
	s.shownBy = "paratro mfa enroll"
	return []secret{s}
}

// totpCodes are the codes of every TOTP secret for each time step from
// since until a minute from now: every code typed in the world's life,
// searched as whole numbers (not inside a longer word or number).
func totpCodes(t *testing.T, secrets map[string]string, since time.Time, typed []string) []secret {
	t.Helper()
	codes := map[string]string{}
	for who, b32 := range secrets {
		key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(strings.ToUpper(b32), "="))
		if err != nil {
			t.Fatal(err)
		}
		for step := since.Unix()/30 - 2; step <= time.Now().Unix()/30+2; step++ {
			codes[hotp(key, uint64(step))] = who + "'s TOTP code"
		}
	}
	for _, c := range typed {
		if _, ok := codes[c]; !ok {
			codes[c] = "a TOTP code typed"
		}
	}
	var out []secret
	for c, label := range codes {
		out = append(out, secret{label: label + " " + c, value: []byte(c), envOK: true, forms: []form{{how: "a number", b: []byte(c), word: true}}})
	}
	slices.SortFunc(out, func(a, b secret) int { return strings.Compare(a.label, b.label) })
	return out
}

// hotp is RFC 4226 with SHA-1 and 6 digits (oathtool --totp's default).
func hotp(key []byte, counter uint64) string {
	m := hmac.New(sha1.New, key)
	m.Write(binary.BigEndian.AppendUint64(nil, counter))
	sum := m.Sum(nil)
	o := sum[len(sum)-1] & 0xf
	v := binary.BigEndian.Uint32(sum[o:]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// apiKeySecrets are an API key, whole and its secret part, allowed only
// in the output of the apikey create that showed it.
func apiKeySecrets(key string) []secret {
	whole := newSecret("API key "+key[:min(len(key), 20)]+"…", []byte(key), false, "")
	whole.shownBy = "paratro apikey create"
	out := []secret{whole}
	if i := strings.LastIndexByte(key, '_'); i > 0 {
		part := newSecret("API key "+key[:min(len(key), 20)]+"…: its secret part", []byte(key[i+1:]), false, "")
		part.shownBy = whole.shownBy
		out = append(out, part)
	}
	return out
}

// apiKeyJourney makes an API key for ben, calls the relay's API with it
// (who am I, the audit log), with a wrong secret, a mangled key and a bad
// TOTP code, revokes it and calls again.
func (h *hygiene) apiKeyJourney() {
	t, e := h.t, h.e
	t.Helper()
	ben := e.parties["ben"].home
	r := h.run(ben, nil, "apikey", "create", "--name", "hygiene", "--output", "json")
	var k struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &k) != nil || k.Key == "" {
		t.Fatalf("apikey create:\n%s", r)
	}
	h.apiKeys = append(h.apiKeys, k.Key)
	wrong := k.Key[:len(k.Key)-4] + "abcd"
	if strings.HasSuffix(k.Key, "abcd") {
		wrong = k.Key[:len(k.Key)-4] + "efgh"
	}
	call := func(method, path, key string, hdr map[string]string, want int) {
		t.Helper()
		req, err := http.NewRequest(method, e.relay.url()+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		name := fmt.Sprintf("HTTP %s %s with an API key (response %d)", method, path, resp.StatusCode)
		h.mu.Lock()
		h.outputs = append(h.outputs, namedText{name, body.String()})
		h.mu.Unlock()
		if want != 0 && resp.StatusCode != want {
			t.Errorf("%s: %s, want %d", name, strings.TrimSpace(body.String()), want)
		}
	}
	call("GET", "/v1/whoami", k.Key, nil, http.StatusOK)
	call("GET", "/v1/audit", k.Key, nil, http.StatusOK)
	call("GET", "/v1/api-keys", k.Key, nil, http.StatusOK)
	call("GET", "/v1/whoami", wrong, nil, http.StatusUnauthorized)
	call("GET", "/v1/whoami", k.Key+"x", nil, http.StatusUnauthorized)
	call("GET", "/v1/whoami", "prt_"+strings.TrimPrefix(wrong, "prt_")[1:], nil, http.StatusUnauthorized)
	h.codes = append(h.codes, "917353")
	call("POST", "/v1/mfa/confirm", k.Key, map[string]string{relay.HeaderOTP: "917353"}, 0) // no pending enrolment, or a wrong code
	if r := h.run(ben, nil, "apikey", "list"); r.code != exitOK {
		t.Errorf("apikey list:\n%s", r)
	}
	if r := h.run(ben, nil, "apikey", "revoke", k.ID); r.code != exitOK {
		t.Fatalf("apikey revoke:\n%s", r)
	}
	call("GET", "/v1/whoami", k.Key, nil, http.StatusUnauthorized)
}

// relayStore checks the relay's database, the relay being down: every
// stored envelope opens for its recipients only (a p2p envelope for its
// one recipient, a broadcast for every member but its sender) and for no
// other identity (the other members, an outsider, the relay's own), and
// no plaintext is stored. It returns the plaintexts of what it opened as
// secrets to search the relay's data and log for (their content in the
// clear would be a stored plaintext), and the transient secrets the p2p
// messages carried: the FROST keygen shares F_li, and the CMP keygen and
// refresh round-4 shares, decrypted with the recipient's Paillier key.
func (h *hygiene) relayStore() (plaintexts, transient []secret) {
	t, e := h.t, h.e
	t.Helper()
	if e.relay.running() {
		t.Fatal("relayStore: the relay is running")
	}
	ids := map[string]*identity.Identity{}
	for _, n := range append(slices.Clone(holders), "eve") {
		dir := filepath.Join(e.dir, n)
		if p := e.parties[n]; p != nil {
			dir = p.home
		}
		id := e.loadIdentity(t, dir)
		ids[id.Fingerprint()] = id
	}
	relayID, err := relay.LoadIdentity(e.relay.data, "relay")
	if err != nil {
		t.Fatal(err)
	}
	ids[relayID.Fingerprint()] = relayID
	db, err := bolt.Open(filepath.Join(e.relay.data, relay.DBFile), 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("open the relay's database: %v", err)
	}
	defer db.Close()
	var envelopes, opened, frostShares, cmpShares, undecryptable int
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCeremonies).ForEach(func(cid, _ []byte) error {
			id := string(cid)
			members, err := ceremonyMembers(tx, id)
			if err != nil {
				return err
			}
			log, err := ceremonyLog(tx, id)
			if err != nil {
				return err
			}
			for _, m := range log {
				if m.Kind != relay.KindEnvelope {
					continue
				}
				envelopes++
				hd, err := envelope.Inspect(m.Data, members)
				if err != nil {
					if !e.tampered[id] { // TestTamperedEnvelope's, changed on purpose
						t.Errorf("ceremony %.12s seq %d: a stored envelope does not check: %v", id, m.Seq, err)
					}
					continue
				}
				var pt []byte
				for fp, self := range ids {
					_, isMember := members(fp)
					mayOpen := isMember && fp != hd.From && (hd.To == "" || hd.To == fp)
					// A broadcast is sealed to the ceremony's other parties:
					// a member that is not one of them (an initiator that
					// does not sign) does not open it.
					mustOpen := mayOpen && hd.To == fp
					_, p, err := envelope.Open(self, m.Data, members)
					switch {
					case err == nil && !mayOpen:
						t.Errorf("ceremony %.12s seq %d (round %d from %.8s to %.8s): the envelope opens for %s", id, m.Seq, hd.Round, hd.From, hd.To, self.Name)
					case err != nil && mustOpen:
						t.Errorf("ceremony %.12s seq %d (round %d from %.8s to %.8s): the envelope does not open for its recipient %s: %v", id, m.Seq, hd.Round, hd.From, hd.To, self.Name, err)
					case err == nil && hd.To == fp:
						pt = p
					case err == nil && pt == nil:
						pt = p
					}
				}
				if pt == nil {
					t.Errorf("ceremony %.12s seq %d (round %d from %.8s to %.8s): the envelope opens for no member", id, m.Seq, hd.Round, hd.From, hd.To)
					continue
				}
				opened++
				where := fmt.Sprintf("ceremony %.12s seq %d (round %d from %.8s to %.8s)", id, m.Seq, hd.Round, hd.From, cmpOr(hd.To, "all"))
				plaintexts = append(plaintexts, newSecret("the plaintext of "+where, pt, false, ""))
				var pm protocol.Message
				if pm.UnmarshalBinary(pt) != nil || len(pm.Data) == 0 {
					continue // not a protocol message (confirm, abort)
				}
				if len(pm.Data) >= 16 {
					plaintexts = append(plaintexts, newSecret("the protocol content of "+where, pm.Data, false, ""))
				}
				if hd.To == "" {
					continue
				}
				var fields map[string]cbor.RawMessage
				if cbor.Unmarshal(pm.Data, &fields) != nil {
					continue
				}
				switch {
				case pm.Protocol == "frost/keygen-threshold-taproot" && fields["F_li"] != nil:
					var b []byte
					if cbor.Unmarshal(fields["F_li"], &b) == nil && len(b) > 0 {
						transient = append(transient, newSecret("FROST keygen F_li of "+where, b, true, new(big.Int).SetBytes(b).String()))
						frostShares++
					}
				case (pm.Protocol == "cmp/keygen-threshold" || pm.Protocol == "cmp/refresh-threshold") && fields["Share"] != nil:
					x := h.decryptShare(hd.To, fields["Share"])
					if x == nil {
						undecryptable++
						continue
					}
					b := make([]byte, 32)
					x.FillBytes(b)
					transient = append(transient, newSecret("CMP round-4 share of "+where, b, true, x.String()))
					cmpShares++
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("relay store: %d envelopes, each tried with %d identities; %d opened by their recipient; transient shares read: %d FROST F_li, %d CMP round-4 (%d of old epochs' keys no longer held)",
		envelopes, len(ids), opened, frostShares, cmpShares, undecryptable)
	if envelopes == 0 || frostShares == 0 || cmpShares == 0 {
		t.Errorf("the relay store check saw %d envelopes, %d FROST and %d CMP p2p shares: want some of each", envelopes, frostShares, cmpShares)
	}
	return plaintexts, transient
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

// decryptShare decrypts a CMP round-4 Share (a Paillier ciphertext) with
// one of the recipient's Paillier keys: the one whose plaintext is a
// scalar (below 2^256); nil if none.
func (h *hygiene) decryptShare(to string, raw cbor.RawMessage) *big.Int {
	var b []byte
	if cbor.Unmarshal(raw, &b) != nil {
		return nil
	}
	ct := new(paillier.Ciphertext)
	if ct.UnmarshalBinary(b) != nil {
		return nil
	}
	for _, sk := range h.paillier[to] {
		m, err := sk.Dec(ct)
		if err != nil {
			continue
		}
		x := m.Big()
		if x.Sign() >= 0 && x.BitLen() <= 256 {
			return x
		}
	}
	return nil
}

// limbForms returns, for the secret scalars and primes among secrets, the
// forms a traceback shows a machine word in: each aligned 8-byte and
// 4-byte word of the value as 0x-hex, as whole words.
func limbForms(secrets []secret) []secret {
	var out []secret
	for _, s := range secrets {
		if !s.scalar && !strings.Contains(s.label, "Paillier") {
			continue
		}
		v := s.value
		l := secret{label: s.label + " (a machine word of it)", value: v}
		for _, size := range []int{8, 4} {
			for end := len(v); end-size >= 0; end -= size {
				w := v[end-size : end]
				var n uint64
				for _, c := range w {
					n = n<<8 | uint64(c)
				}
				le := binary.LittleEndian.Uint64(append(slices.Clone(w), make([]byte, 8-size)...))
				if n >= 1<<24 {
					l.forms = append(l.forms, form{how: fmt.Sprintf("a %d-byte word", size), b: fmt.Appendf(nil, "%#x", n), word: true})
				}
				if le >= 1<<24 {
					l.forms = append(l.forms, form{how: fmt.Sprintf("a %d-byte little-endian word", size), b: fmt.Appendf(nil, "%#x", le), word: true})
				}
			}
		}
		out = append(out, l)
	}
	return out
}

// coreDumps is release case 34: vault's party is started with RLIMIT_CORE
// unlimited (ulimit -c unlimited in a shell that execs it) and
// GOTRACEBACK=crash (so that the runtime, after printing its dump, aborts
// to get a core) in a directory of its own; in the middle of a CMP sign it
// gets SIGQUIT, then (started again) SIGABRT. No core file may appear
// there or where core_pattern points; the goroutine dumps are returned to
// be searched. A control process (sleep, not hardened) killed the same way
// shows that this machine does write cores there.
func (h *hygiene) coreDumps() {
	t, e := h.t, h.e
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Log("core dumps: not Linux; skipped")
		return
	}
	pattern, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
	pat := strings.TrimSpace(string(pattern))
	dir := filepath.Join(e.dir, "core-cwd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cores := func() []string {
		var out []string
		ents, _ := os.ReadDir(dir)
		for _, en := range ents {
			if strings.HasPrefix(en.Name(), "core") {
				out = append(out, filepath.Join(dir, en.Name()))
			}
		}
		if strings.HasPrefix(pat, "/") {
			d := filepath.Dir(pat)
			ents, _ := os.ReadDir(d)
			base := strings.SplitN(filepath.Base(pat), "%", 2)[0]
			for _, en := range ents {
				if base != "" && strings.HasPrefix(en.Name(), base) {
					out = append(out, filepath.Join(d, en.Name()))
				}
			}
		}
		return out
	}
	wrap := func(args ...string) *exec.Cmd {
		cmd := exec.Command("sh", append([]string{"-c", `ulimit -c unlimited && exec "$0" "$@"`}, args...)...)
		cmd.Dir = dir
		cmd.SysProcAttr = childAttr()
		return cmd
	}
	// The control: sleep dumps core on SIGQUIT.
	control := wrap("sleep", "30")
	if err := control.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	control.Process.Signal(syscall.SIGQUIT)
	control.Wait()
	controlCores := cores()
	if len(controlCores) == 0 {
		t.Logf("core dumps: the control (sleep, ulimit -c unlimited, SIGQUIT) left no core in %s either (core_pattern %q): the check below cannot fail here", dir, pat)
	} else {
		t.Logf("core dumps: the control left %s (core_pattern %q)", strings.Join(controlCores, ", "), pat)
		for _, c := range controlCores {
			os.Remove(c)
		}
	}

	vault := e.parties["vault"]
	for _, sig := range []os.Signal{syscall.SIGQUIT, syscall.SIGABRT} {
		vault.kill()
		dumpPath := filepath.Join(dir, fmt.Sprintf("vault.%s.stderr", sigName(sig)))
		errf, err := os.Create(dumpPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := wrap(bin, "party", "run", "--no-tui", "--policy", filepath.Join(e.dir, "policy.yaml"), "--output", "json", "--home", vault.home)
		cmd.Env = append(e.childEnv(), "GOTRACEBACK=crash")
		started := make(chan string, 16)
		cmd.Stderr = errf
		cmd.Stdout = &lineWriter{copyTo: errf, line: func(s string) {
			var ev event
			if json.Unmarshal([]byte(s), &ev) == nil && ev.Event == "started" && ev.Kind == "sign" {
				select {
				case started <- ev.Ceremony:
				default:
				}
			}
		}}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		h.extra = []int{cmd.Process.Pid}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if b, _ := os.ReadFile(dumpPath); bytes.Contains(b, []byte("core dumps off")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("vault's party (ulimit -c unlimited) did not start:\n%s", tail(dumpPath, 20))
			}
		}
		time.Sleep(time.Second) // registered and polling its inbox
		if limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid)); err == nil {
			for l := range strings.SplitSeq(string(limits), "\n") {
				if strings.HasPrefix(l, "Max core file size") {
					t.Logf("vault's party started with ulimit -c unlimited: %s", strings.Join(strings.Fields(l), " "))
				}
			}
		}
		signDone := make(chan result, 1)
		go func() {
			signDone <- h.run(e.parties["ben"].home, nil, "wallet", "sign", e.wallet.ID, "--digest", digest(), "--signers", "ana,vault", "--timeout", "15s")
		}()
		select {
		case cid := <-started:
			time.Sleep(150 * time.Millisecond) // into its rounds
			snapshotPIDs := map[int]string{cmd.Process.Pid: "vault's party (ulimit -c unlimited)"}
			h.snapshot(snapshotPIDs)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			t.Logf("core dumps: %s sent to vault's party in sign %.12s", sigName(sig), cid)
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("vault's party did not start the sign:\n%s", tail(dumpPath, 20))
		}
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("vault's party did not die of %s", sigName(sig))
		}
		errf.Close()
		h.extra = nil
		r := <-signDone
		if r.code == exitOK {
			t.Logf("the sign succeeded although vault died (%s)", sigName(sig))
		}
		b, err := os.ReadFile(dumpPath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("goroutine ")) {
			t.Errorf("vault's party printed no goroutine dump on %s:\n%s", sigName(sig), tail(dumpPath, 20))
		}
		h.dumps = append(h.dumps, namedText{fmt.Sprintf("vault's goroutine dump on %s", sigName(sig)), string(b)})
		time.Sleep(500 * time.Millisecond) // a core is written before the parent sees the exit, but be generous
		if c := cores(); len(c) > 0 {
			t.Errorf("core dumps: vault's party left a core file on %s: %s", sigName(sig), strings.Join(c, ", "))
			for _, f := range c {
				os.Remove(f)
			}
		}
	}
	if err := vault.start(); err != nil {
		t.Fatal(err)
	}
}

// sigName is SIGQUIT or SIGABRT.
func sigName(s os.Signal) string {
	if s == syscall.SIGQUIT {
		return "SIGQUIT"
	}
	return "SIGABRT"
}
