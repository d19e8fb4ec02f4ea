package walletcmd

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares/sharestest"
)

// fakeControl answers the calls wallet destroy makes, as the relay's
// control plane does, recording the codes it was given.
type fakeControl struct {
	mu     sync.Mutex
	codes  []string
	answer func(n int) (int, string) // status and body of the n-th destroy
}

func (fc *fakeControl) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/v1/identities/self":
		w.Write([]byte("{}"))
	case r.Method == http.MethodGet && r.URL.Path == "/v1/wallets/ops":
		w.Write([]byte(`{"id":"wal_aaaaaaaaaaaaaaaa","name":"ops","status":"active"}`))
	case r.Method == http.MethodPost && r.URL.Path == "/v1/wallets/wal_aaaaaaaaaaaaaaaa/destroy":
		fc.mu.Lock()
		fc.codes = append(fc.codes, r.Header.Get(relay.HeaderOTP))
		status, body := fc.answer(len(fc.codes))
		fc.mu.Unlock()
		w.WriteHeader(status)
		w.Write([]byte(body))
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"not_found","message":"no such endpoint"}`))
	}
}

func destroyWorld(t *testing.T, answer func(int) (int, string)) (*fakeControl, *cmdutil.Operator) {
	t.Helper()
	fc := &fakeControl{answer: answer}
	ts := httptest.NewServer(fc)
	t.Cleanup(ts.Close)
	h, err := home.Init(t.TempDir(), sharestest.NewMemoryKeyring(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	c, err := relay.NewClient(ts.URL, h.ID, relay.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return fc, cmdutil.NewOperator(h, c, ts.URL)
}

func destroyOpts(op *cmdutil.Operator, code string) (*destroyOptions, *iostreams.IOStreams) {
	ios, _, _, _ := iostreams.Test()
	return &destroyOptions{IO: ios, Wallet: "ops", Format: output.FormatTable,
		Open:    func() (*cmdutil.Operator, error) { return op, nil },
		ReadOTP: func(string) (string, error) { return code, nil }}, ios
}

func TestDestroyFirstApprovalIsPending(t *testing.T) {
	fc, op := destroyWorld(t, func(int) (int, string) {
		return 202, `{"status":"destroy_pending","approvals":[{"name":"ana","fingerprint":"00","at":"2026-11-21T10:00:00Z"}],"needed":2}`
	})
	opts, ios := destroyOpts(op, "123456")
	if err := destroyRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	out := ios.Out.(interface{ String() string }).String()
	if out != "destroying wallet ops (wal_aaaaaaaaaaaaaaaa): approved by ana (1 of 2 owners)\n" {
		t.Errorf("stdout = %q", out)
	}
	if len(fc.codes) != 1 || fc.codes[0] != "123456" {
		t.Errorf("codes sent: %q", fc.codes)
	}
}

func TestDestroySecondOwnerDestroysAsJSON(t *testing.T) {
	_, op := destroyWorld(t, func(int) (int, string) { return 200, `{"status":"destroyed","approvals":["ana","ben"],"needed":2}` })
	opts, ios := destroyOpts(op, "123456")
	opts.Format = output.FormatJSON
	if err := destroyRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	var got destroyJSON
	if err := json.Unmarshal([]byte(ios.Out.(interface{ String() string }).String()), &got); err != nil ||
		got.Wallet != "wal_aaaaaaaaaaaaaaaa" || got.Name != "ops" || got.Status != "destroyed" || strings.Join(got.Approvals, ",") != "ana,ben" {
		t.Errorf("JSON %+v, %v", got, err)
	}
}

func TestDestroyTwiceBySameOwnerIsRefused(t *testing.T) {
	_, op := destroyWorld(t, func(int) (int, string) {
		return 409, `{"error":"duplicate_approval","message":"ana already approved destroying wal_aaaaaaaaaaaaaaaa"}`
	})
	opts, _ := destroyOpts(op, "123456")
	err := destroyRun(t.Context(), opts)
	if err == nil || !strings.Contains(err.Error(), "already approved") || exitcode.For(err) != exitcode.Failure ||
		!strings.Contains(strings.Join(cmdutil.Hints(err), " "), "another owner") {
		t.Fatalf("err = %v, hints %q", err, cmdutil.Hints(err))
	}
}

func TestDestroyRefusalsMapToExitCodes(t *testing.T) {
	for code, want := range map[string]int{"forbidden": exitcode.AccessRefused, "mfa_invalid": exitcode.MFAFailed, "mfa_required": exitcode.MFARequired} {
		_, op := destroyWorld(t, func(int) (int, string) { return 403, `{"error":"` + code + `","message":"refused"}` })
		opts, _ := destroyOpts(op, "123456")
		if err := destroyRun(t.Context(), opts); exitcode.For(err) != want {
			t.Errorf("%s: err = %v, exit %d, want %d", code, err, exitcode.For(err), want)
		}
	}
}

func TestDestroyAsksForTheNameAndTheCodeFirst(t *testing.T) {
	fc, op := destroyWorld(t, func(int) (int, string) { return 202, `{"status":"destroy_pending","approvals":["ana"],"needed":2}` })

	// no code: nothing is sent
	opts, _ := destroyOpts(op, "")
	opts.ReadOTP = func(string) (string, error) { return "", cmdutil.ErrOTPRequired }
	if err := destroyRun(t.Context(), opts); exitcode.For(err) != exitcode.MFARequired {
		t.Errorf("without a code: %v", err)
	}

	// a wrong name typed: nothing is sent
	ios, in, _, errOut := iostreams.Test()
	in.WriteString("opz\n")
	opts, _ = destroyOpts(op, "123456")
	opts.IO, opts.Confirm = ios, true
	if err := destroyRun(t.Context(), opts); err == nil || !strings.Contains(err.Error(), "not destroyed") {
		t.Errorf("wrong name: %v", err)
	}
	if !strings.Contains(errOut.String(), "Type the wallet's name to confirm: ") {
		t.Errorf("stderr = %q", errOut)
	}
	if len(fc.codes) != 0 {
		t.Fatalf("destroy sent %d times", len(fc.codes))
	}

	// the right name
	ios, in, _, _ = iostreams.Test()
	in.WriteString("ops\n")
	opts.IO = ios
	if err := destroyRun(t.Context(), opts); err != nil || len(fc.codes) != 1 {
		t.Errorf("right name: %v, %d sent", err, len(fc.codes))
	}
}

func TestDestroyNeedsYesWithoutATerminal(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IO: ios, Now: time.Now, Getenv: func(string) string { return "" }}
	ran := false
	cmd := newCmdDestroy(f, func(context.Context, *destroyOptions) error { ran = true; return nil })
	cmd.SetArgs([]string{"ops"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); exitcode.For(err) != exitcode.Usage || !strings.Contains(err.Error(), "--yes") || ran {
		t.Errorf("err = %v", err)
	}
	cmd = newCmdDestroy(f, func(_ context.Context, o *destroyOptions) error { ran = !o.Confirm; return nil })
	cmd.SetArgs([]string{"ops", "--yes"})
	if err := cmd.Execute(); err != nil || !ran {
		t.Errorf("--yes: %v, ran %v", err, ran)
	}
}
