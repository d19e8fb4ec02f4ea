package mfa

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A fixed instant in the middle of a time step: T-30 s and T+30 s are the
// previous and next steps, T-60 s the previous-but-one.
var T = time.Unix(1_750_000_000-1_750_000_000%30+12, 0).UTC()

// oathtoolPath finds Debian's oathtool, the independent TOTP generator.
// In CI (CI=true) a missing oathtool fails the test: the install step of
// scripts/setup-test-tools.sh must not silently go missing.
func oathtoolPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("oathtool")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("oathtool not on PATH in CI: scripts/setup-test-tools.sh should have installed it (%v)", err)
	}
	t.Skip("oathtool not on PATH; run sh scripts/setup-test-tools.sh (or apt-get install oathtool)")
	return ""
}

// oathtool returns oathtool's TOTP code for secret at instant at (SHA-1,
// 6 digits, 30 s). The secret goes on stdin, not argv. A zero at means now.
func oathtool(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	args := []string{"--totp", "-b"}
	if !at.IsZero() {
		args = append(args, "-N", "@"+strconv.FormatInt(at.Unix(), 10))
	}
	cmd := exec.Command(oathtoolPath(t), append(args, "-")...)
	cmd.Stdin = strings.NewReader(secret + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	code := strings.TrimSpace(string(out))
	if !wellFormed(code) {
		t.Fatalf("oathtool printed %q", code)
	}
	return code
}

// errs collects every error a test saw, to check none shows the secret.
type errs []error

func (es *errs) add(err error) error {
	if err != nil {
		*es = append(*es, err)
	}
	return err
}

func (es errs) checkNoSecret(t *testing.T, secret string) {
	t.Helper()
	for _, err := range es {
		if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(strings.ToLower(msg), strings.ToLower(secret)) {
			t.Fatalf("error shows the secret: %s", msg)
		}
	}
}

func newSecret(t *testing.T) string {
	t.Helper()
	e, err := Enroll("alice@wallet", "paratro")
	if err != nil {
		t.Fatal(err)
	}
	return e.Secret()
}

func fileVerifier(t *testing.T, path string) *Verifier {
	return NewVerifier(NewFileStore(path))
}

// RFC 6238 appendix B, SHA-1 (the 8-digit 94287082 truncated to 6, as
// oathtool prints it): no external tool needed.
func TestRFC6238Vector(t *testing.T) {
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	v := NewVerifier(NewFileStore(filepath.Join(t.TempDir(), "mfa.json")))
	if err := v.Verify("alice", secret, "287082", time.Unix(59, 0)); err != nil {
		t.Fatalf("RFC 6238 vector refused: %v", err)
	}
	if err := v.Verify("bob", secret, "287083", time.Unix(59, 0)); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("wrong code: %v", err)
	}
}

// Codes from oathtool for the current, previous and next step are accepted
// (skew 1); the steps two before and two after are refused.
func TestOathtoolCodes(t *testing.T) {
	secret := newSecret(t)
	var seen errs
	codes := map[int]string{}
	for _, d := range []int{-2, -1, 0, 1, 2} {
		codes[d] = oathtool(t, secret, T.Add(time.Duration(d)*30*time.Second))
	}
	for d, c := range codes {
		for d2, c2 := range codes {
			if d != d2 && c == c2 {
				t.Fatalf("steps %d and %d have the same code; pick another T", d, d2)
			}
		}
	}
	v := fileVerifier(t, filepath.Join(t.TempDir(), "mfa.json"))
	// A fresh operator per code, so replay protection does not interfere.
	for _, c := range []struct {
		step int
		ok   bool
	}{{0, true}, {-1, true}, {1, true}, {-2, false}, {2, false}} {
		err := seen.add(v.Verify(fmt.Sprintf("op%d", c.step), secret, codes[c.step], T))
		switch {
		case c.ok && err != nil:
			t.Errorf("code of step %+d refused: %v", c.step, err)
		case !c.ok && !errors.Is(err, ErrInvalidCode):
			t.Errorf("code of step %+d: got %v, want ErrInvalidCode", c.step, err)
		}
	}
	// And at the real time, with oathtool's own clock.
	if err := seen.add(v.Verify("now", secret, oathtool(t, secret, time.Time{}), time.Now())); err != nil {
		t.Errorf("oathtool's current code refused: %v", err)
	}
	seen.checkNoSecret(t, secret)
}

// A code is accepted once: again in the same step, later in its skew
// window, after a newer code, and after re-opening the store (a restart).
func TestReplayRefused(t *testing.T) {
	secret := newSecret(t)
	path := filepath.Join(t.TempDir(), "mfa.json")
	var seen errs
	v := fileVerifier(t, path)
	cur, prev, next := oathtool(t, secret, T), oathtool(t, secret, T.Add(-30*time.Second)), oathtool(t, secret, T.Add(30*time.Second))
	if err := v.Verify("alice", secret, cur, T); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		code string
		at   time.Time
	}{
		{"same code, same instant", cur, T},
		{"same code, 29 s later (next step, still in the window)", cur, T.Add(29 * time.Second)},
		{"previous step's code", prev, T},
	} {
		if err := seen.add(v.Verify("alice", secret, c.code, c.at)); !errors.Is(err, ErrReused) {
			t.Fatalf("%s: got %v, want ErrReused", c.name, err)
		}
	}
	// Restart: a new store and verifier on the same file.
	v = fileVerifier(t, path)
	if err := seen.add(v.Verify("alice", secret, cur, T.Add(30*time.Second))); !errors.Is(err, ErrReused) {
		t.Fatalf("after restart: got %v, want ErrReused", err)
	}
	st, err := NewFileStore(path).Load("alice")
	if err != nil || st.Failures != 0 {
		t.Fatalf("replays counted as failures: %+v %v", st, err)
	}
	// The next step's code is new, and is then used up too.
	if err := v.Verify("alice", secret, next, T.Add(30*time.Second)); err != nil {
		t.Fatalf("next code: %v", err)
	}
	if err := seen.add(v.Verify("alice", secret, next, T.Add(30*time.Second))); !errors.Is(err, ErrReused) {
		t.Fatalf("next code twice: got %v", err)
	}
	// Another operator with the same secret is not affected.
	if err := v.Verify("bob", secret, cur, T); err != nil {
		t.Fatalf("bob: %v", err)
	}
	if msg := ErrReused.Error(); msg != "code already used; wait for the next one" {
		t.Fatalf("message %q", msg)
	}
	seen.checkNoSecret(t, secret)
}

// wrongCode returns a well-formed code that matches no step around at.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	bad := map[string]bool{}
	for d := -1; d <= 1; d++ {
		bad[oathtool(t, secret, at.Add(time.Duration(d)*30*time.Second))] = true
	}
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", (i*137_731)%1_000_000)
		if !bad[c] {
			return c
		}
	}
}

// Five wrong codes lock the operator out for 15 minutes; the lockout is
// persisted; a correct code is refused during it and accepted afterwards.
func TestLockout(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	secret := newSecret(t)
	path := filepath.Join(t.TempDir(), "state", "mfa.json")
	var seen errs
	v := fileVerifier(t, path)
	wrong := wrongCode(t, secret, T)
	for i := 1; i <= 4; i++ {
		err := seen.add(v.Verify("alice", secret, wrong, T))
		want := fmt.Sprintf("code rejected (%d of 5 attempts left)", 5-i)
		if !errors.Is(err, ErrInvalidCode) || err.Error() != want {
			t.Fatalf("wrong code %d: got %v, want %q", i, err, want)
		}
	}
	until := T.Add(15 * time.Minute)
	wantLocked := "too many wrong codes; locked out until " + until.Format("15:04:05") + " UTC"
	for i := 5; i <= 6; i++ {
		err := seen.add(v.Verify("alice", secret, wrong, T))
		if !errors.Is(err, ErrLockedOut) || err.Error() != wantLocked {
			t.Fatalf("wrong code %d: got %v, want %q", i, err, wantLocked)
		}
	}
	if err := seen.add(v.Verify("alice", secret, oathtool(t, secret, T), T)); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("correct code during lockout: got %v, want ErrLockedOut", err)
	}
	// Persisted: a restart does not lift it.
	v = fileVerifier(t, path)
	at := until.Add(-time.Second)
	if err := seen.add(v.Verify("alice", secret, oathtool(t, secret, at), at)); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("correct code during lockout after restart: got %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v %v, want 0600", fi.Mode().Perm(), err)
	}
	// Other operators are unaffected.
	if err := v.Verify("bob", secret, oathtool(t, secret, T), T); err != nil {
		t.Fatalf("bob during alice's lockout: %v", err)
	}
	// After the lockout a correct code works, with a fresh count.
	if err := v.Verify("alice", secret, oathtool(t, secret, until), until); err != nil {
		t.Fatalf("correct code after the lockout: %v", err)
	}
	if st, _ := NewFileStore(path).Load("alice"); st.Failures != 0 || !st.LockedUntil.IsZero() {
		t.Fatalf("state after success %+v", st)
	}
	seen.checkNoSecret(t, secret)
}

// A success resets the failure count: 4 failures, a success, 4 failures is
// not a lockout.
func TestSuccessResetsFailures(t *testing.T) {
	secret := newSecret(t)
	v := NewVerifier(NewFileStore(filepath.Join(t.TempDir(), "mfa.json")))
	wrong := wrongCode(t, secret, T)
	fail4 := func(at time.Time) {
		for i := 0; i < 4; i++ {
			if err := v.Verify("alice", secret, wrong, at); !errors.Is(err, ErrInvalidCode) {
				t.Fatalf("wrong code: %v", err)
			}
		}
	}
	fail4(T)
	if err := v.Verify("alice", secret, oathtool(t, secret, T), T); err != nil {
		t.Fatal(err)
	}
	fail4(T)
	if err := v.Verify("alice", secret, oathtool(t, secret, T.Add(30*time.Second)), T.Add(30*time.Second)); err != nil {
		t.Fatalf("after 4+4 failures separated by a success: %v", err)
	}
}

// Malformed codes are refused with ErrInvalidCode and count as failures:
// each is a guess at the second factor, and not counting them would give
// an attacker free probes. A correct code with spaces around it is
// malformed too (no trimming).
func TestMalformedCodesCountAsFailures(t *testing.T) {
	secret := newSecret(t)
	v := NewVerifier(NewFileStore(filepath.Join(t.TempDir(), "mfa.json")))
	good := oathtool(t, secret, T)
	malformed := []string{
		"", good[:5], good + "0", good[:5] + "a", " " + good, good + "\n",
		"１２３４５６", "-12345", "+12345", "12 345", "١٢٣٤٥٦",
	}
	for i, code := range malformed {
		err := v.Verify(fmt.Sprintf("op%d", i), secret, code, T)
		if !errors.Is(err, ErrInvalidCode) || err.Error() != "code rejected (4 of 5 attempts left)" {
			t.Errorf("%q: got %v, want ErrInvalidCode counted", code, err)
		}
	}
	for i := 0; i < 4; i++ {
		v.Verify("alice", secret, "abcdef", T)
	}
	if err := v.Verify("alice", secret, "12345", T); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("5th malformed code: got %v, want ErrLockedOut", err)
	}
}

func TestLockoutConfigurable(t *testing.T) {
	secret := newSecret(t)
	v := NewVerifier(NewFileStore(filepath.Join(t.TempDir(), "mfa.json")))
	v.SetLockout(2, time.Minute)
	wrong := wrongCode(t, secret, T)
	if err := v.Verify("alice", secret, wrong, T); err == nil || err.Error() != "code rejected (1 of 2 attempts left)" {
		t.Fatalf("first: %v", err)
	}
	if err := v.Verify("alice", secret, wrong, T); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("second: %v", err)
	}
	at := T.Add(time.Minute)
	if err := v.Verify("alice", secret, oathtool(t, secret, at), at); err != nil {
		t.Fatalf("after one minute: %v", err)
	}
}

// failStore fails every Save: nothing may be accepted that is not recorded.
type failStore struct{ State }

func (f *failStore) Load(string) (State, error) { return f.State, nil }
func (f *failStore) Save(string, State) error   { return errors.New("disk full") }

func TestStoreErrorRefuses(t *testing.T) {
	secret := newSecret(t)
	v := NewVerifier(&failStore{})
	err := v.Verify("alice", secret, oathtool(t, secret, T), T)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v, want the store's error", err)
	}
	if err := v.Verify("alice", "not base32!", "123456", T); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("bad secret: %v", err)
	}
}
