package mfacmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/mfa"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares/sharestest"
)

// ownerOfNewRelay starts a relay (httptest) and returns its first owner,
// ana, as a paratro operator of it.
func ownerOfNewRelay(t *testing.T) *cmdutil.Operator {
	t.Helper()
	dir := t.TempDir()
	st, err := relay.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := relay.NewServer(st, relay.Config{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	h, err := home.Init(t.TempDir(), sharestest.NewMemoryKeyring(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if err := relay.WriteBootstrap(dir, h.ID.Public); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	srv.WatchBootstrap(done, dir, time.Hour) // takes the file once, then returns
	c, err := relay.NewClient(ts.URL, h.ID, relay.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cmdutil.NewOperator(h, c, ts.URL)
}

var secretRE = regexp.MustCompile(`secret=([A-Z2-7]+)`)

// codeFor is the current code of the secret in the otpauth URI found in s.
func codeFor(t *testing.T, s string) string { t.Helper(); return codeAt(t, s, 0) }

// codeAt is the code of the secret in s, d from now.
func codeAt(t *testing.T, s string, d time.Duration) string {
	t.Helper()
	m := secretRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no otpauth secret in %q", s)
	}
	code, err := totp.GenerateCode(m[1], time.Now().Add(d))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// wrongCodeFor is a code the relay rejects for the secret in s: none of
// those of the steps it accepts now.
func wrongCodeFor(t *testing.T, s string) string {
	t.Helper()
	good := map[string]bool{}
	for _, d := range []time.Duration{-time.Minute, -30 * time.Second, 0, 30 * time.Second, time.Minute} {
		good[codeAt(t, s, d)] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444", "555555"} {
		if !good[c] {
			return c
		}
	}
	t.Fatal("no wrong code")
	return ""
}

func status(t *testing.T, op *cmdutil.Operator) *relay.MFAStatus {
	t.Helper()
	st, err := op.Client.MFAStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestEnrollOnATerminalShowsTheQRCodeAndConfirms(t *testing.T) {
	op := ownerOfNewRelay(t)
	ios, _, stdout, stderr := iostreams.Test()
	var prompts []string
	opts := &enrollOptions{IO: ios, Interactive: true, Format: output.FormatTable,
		Open: func() (*cmdutil.Operator, error) { return op, nil },
		ReadOTP: func(string) (string, error) {
			t.Error("ReadOTP called for a first enrolment")
			return "", nil
		},
		Prompt: func(p string) ([]byte, error) {
			prompts = append(prompts, p)
			if len(prompts) == 1 {
				return []byte(wrongCodeFor(t, stderr.String())), nil
			}
			return []byte(codeFor(t, stderr.String())), nil
		}}
	if err := enrollRun(t.Context(), opts); err != nil {
		t.Fatalf("enroll: %v\nstderr:\n%s", err, stderr)
	}
	if stdout.String() != "TOTP enrolled for ana\n" {
		t.Errorf("stdout = %q", stdout)
	}
	out := stderr.String()
	for _, want := range []string{"Scan this QR code", "▀", "otpauth://totp/", "  account  ana\n", "  secret   "} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if len(prompts) != 2 || !strings.Contains(out, "code rejected (4 of 5 attempts left); try the next code") {
		t.Errorf("a rejected code is not explained:\n%s", out)
	}
	if prompts[0] != "TOTP code to confirm: " {
		t.Errorf("prompt %q", prompts[0])
	}
	if st := status(t, op); !st.Enrolled || st.Pending {
		t.Errorf("status after enrolment: %+v", st)
	}
}

func TestEnrollAsJSONLeavesItPendingWithoutACode(t *testing.T) {
	op := ownerOfNewRelay(t)
	ios, _, stdout, stderr := iostreams.Test()
	opts := &enrollOptions{IO: ios, Format: output.FormatJSON,
		Open: func() (*cmdutil.Operator, error) { return op, nil }}
	if err := enrollRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	var got enrollJSON
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got.Account != "ana" || len(got.Secret) != 32 ||
		!strings.HasPrefix(got.URI, "otpauth://totp/") || !strings.Contains(got.URI, got.Secret) {
		t.Fatalf("stdout %s: %+v %v", stdout, got, err)
	}
	if !strings.Contains(stderr.String(), "pending") || strings.Contains(stderr.String(), got.Secret) {
		t.Errorf("stderr = %q", stderr)
	}
	if st := status(t, op); st.Enrolled || !st.Pending {
		t.Errorf("status: %+v", st)
	}

	// confirm, with the code a script gives
	ios, _, stdout, _ = iostreams.Test()
	copts := &confirmOptions{IO: ios, Format: output.FormatTable, Open: func() (*cmdutil.Operator, error) { return op, nil },
		ReadOTP: func(who string) (string, error) {
			if who != "ana" {
				t.Errorf("code asked for %q", who)
			}
			return codeFor(t, got.URI), nil
		}}
	if err := confirmRun(t.Context(), copts); err != nil || stdout.String() != "TOTP enrolled for ana\n" {
		t.Fatalf("confirm: %v, stdout %q", err, stdout)
	}
}

func TestScriptedEnrollConfirmsAtOnceWithACode(t *testing.T) {
	op := ownerOfNewRelay(t)
	ios, _, stdout, stderr := iostreams.Test()
	opts := &enrollOptions{IO: ios, Format: output.FormatTable, Scripted: true,
		Open:    func() (*cmdutil.Operator, error) { return op, nil },
		ReadOTP: func(string) (string, error) { return codeFor(t, stdout.String()), nil }}
	if err := enrollRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^secret +[A-Z2-7]{32}$`).MatchString(stdout.String()) {
		t.Errorf("stdout = %q", stdout)
	}
	if stderr.String() != "TOTP enrolled for ana\n" {
		t.Errorf("stderr = %q", stderr)
	}
	if st := status(t, op); !st.Enrolled {
		t.Errorf("status: %+v", st)
	}

	// status, as a table
	ios, _, stdout, _ = iostreams.Test()
	if err := statusRun(t.Context(), &statusOptions{IO: ios, Format: output.FormatTable,
		Open: func() (*cmdutil.Operator, error) { return op, nil }}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^operator +ana\nenrolled +yes, since \d{4}-\d\d-\d\d \d\d:\d\d UTC\n$`).MatchString(stdout.String()) {
		t.Errorf("status table = %q", stdout)
	}

	// a second enrolment needs a code from the current secret: without one, exit 4
	ios, _, _, _ = iostreams.Test()
	opts = &enrollOptions{IO: ios, Format: output.FormatJSON,
		Open:    func() (*cmdutil.Operator, error) { return op, nil },
		ReadOTP: func(string) (string, error) { return "", cmdutil.ErrOTPRequired }}
	if err := enrollRun(t.Context(), opts); !errors.Is(err, cmdutil.ErrOTPRequired) || exitcode.For(err) != exitcode.MFARequired {
		t.Errorf("re-enrol without a code: %v", err)
	}
}

func TestConfirmWithAWrongCodeExits5WithTheAttemptsLeft(t *testing.T) {
	op := ownerOfNewRelay(t)
	en, err := op.Client.MFAEnroll(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ios, _, stdout, _ := iostreams.Test()
	err = confirmRun(t.Context(), &confirmOptions{IO: ios, Open: func() (*cmdutil.Operator, error) { return op, nil },
		ReadOTP: func(string) (string, error) { return wrongCodeFor(t, en.URI), nil }})
	if exitcode.For(err) != exitcode.MFAFailed || !strings.Contains(err.Error(), "attempts left") || stdout.Len() != 0 {
		t.Fatalf("err = %v (exit %d), stdout %q", err, exitcode.For(err), stdout)
	}
	if len(cmdutil.Hints(err)) == 0 {
		t.Error("no hint")
	}
}

func TestGroupSecret(t *testing.T) {
	if got := groupSecret("ABCDEFGHIJ"); got != "ABCD EFGH IJ" {
		t.Errorf("groupSecret = %q", got)
	}
	var b bytes.Buffer
	if err := mfa.DrawQR(&b, "otpauth://totp/x?secret=ABC"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\x1b") || strings.Count(b.String(), "\n") < 10 {
		t.Errorf("QR code uses escapes or is too small:\n%s", b.String())
	}
}
