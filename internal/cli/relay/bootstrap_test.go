package relaycmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
)

// ownerFile writes ana's public identity as identity show prints it.
func ownerFile(t *testing.T) (string, identity.Public) {
	t.Helper()
	id, err := identity.New("ana")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(id.Public)
	path := filepath.Join(t.TempDir(), "ana.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, id.Public
}

func bootstrapOpts(t *testing.T, owner string, fp string) (*BootstrapOptions, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	return &BootstrapOptions{IO: ios, Format: output.FormatTable, DataDir: filepath.Join(t.TempDir(), "relay"),
		Owner: owner, Fingerprint: fp, Wait: 5 * time.Second, Poll: 10 * time.Millisecond}, out, errOut
}

func TestBootstrapFlags(t *testing.T) {
	tests := []struct {
		argv    []string
		tty     bool
		wantErr string
	}{
		{[]string{"--data", "D"}, false, "give --owner FILE"},
		{[]string{"--data", "D", "--owner", "a.json"}, false, "give --fingerprint FP"},
		{[]string{"--data", "D", "--owner", "-"}, true, "give --fingerprint with --owner -"},
		{[]string{"--data", "D", "--owner", "a.json", "--wait", "-1s", "--fingerprint", "ab"}, false, "--wait must not be negative"},
		{[]string{"--data", "D", "--owner", "a.json"}, true, ""},
		{[]string{"--data", "D", "--owner", "a.json", "--fingerprint", "AB cd"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			f, _, _ := newFactory()
			f.IO.SetStdinTTY(tt.tty)
			f.IO.SetStderrTTY(tt.tty)
			var got *BootstrapOptions
			cmd := NewCmdBootstrap(f, func(_ context.Context, o *BootstrapOptions) error { got = o; return nil })
			cmd.SetArgs(tt.argv)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitcode.For(err) != exitcode.Usage {
					t.Fatalf("err = %v, want a usage error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !filepath.IsAbs(got.DataDir) || got.Wait != 10*time.Second || strings.ContainsAny(got.Fingerprint, " ABCD") {
				t.Fatalf("err = %v, options %+v", err, got)
			}
		})
	}
}

func TestBootstrapWithoutARunningRelayWaitsForIt(t *testing.T) {
	path, pub := ownerFile(t)
	opts, out, _ := bootstrapOpts(t, path, pub.Fingerprint())
	opts.Wait = 50 * time.Millisecond
	if err := bootstrapRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if out.String() != "the relay is not running; ana becomes the owner when it starts\n" {
		t.Errorf("stdout = %q", out)
	}
	var left identity.Public
	b, err := os.ReadFile(filepath.Join(opts.DataDir, relay.BootstrapFile))
	if err != nil || json.Unmarshal(b, &left) != nil || !left.Equal(pub) {
		t.Errorf("bootstrap file: %s %v", b, err)
	}
}

// relayTakes plays a running relay: after a moment it takes the bootstrap
// file, or refuses it (recording why in the audit log, as the relay does).
func relayTakes(t *testing.T, dir string, refuse string) {
	path := filepath.Join(dir, relay.BootstrapFile)
	go func() {
		for i := 0; i < 200; i++ {
			if _, err := os.Stat(path); err == nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if refuse == "" {
			os.Remove(path)
			return
		}
		l, err := audit.Open(filepath.Join(dir, "audit.log"))
		if err == nil {
			l.Append(audit.Entry{Event: audit.EventBootstrap, Actor: "relay host", Outcome: "refused", Detail: refuse})
			l.Close()
		}
		os.Rename(path, path+relay.RefusedSuffix)
	}()
}

func TestBootstrapTakenByARunningRelay(t *testing.T) {
	path, pub := ownerFile(t)
	opts, out, _ := bootstrapOpts(t, path, pub.Fingerprint())
	relayTakes(t, opts.DataDir, "")
	if err := bootstrapRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if want := "ana (" + pub.DisplayFingerprint() + ") is now the owner of this relay\n"; out.String() != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
}

func TestBootstrapRefusedSaysWhy(t *testing.T) {
	path, pub := ownerFile(t)
	opts, out, _ := bootstrapOpts(t, path, pub.Fingerprint())
	opts.Format = output.FormatJSON
	relayTakes(t, opts.DataDir, "the relay already has an owner; owners add operators with paratro operator add")
	err := bootstrapRun(t.Context(), opts)
	if err == nil || err.Error() != "the relay refused the bootstrap: the relay already has an owner; owners add operators with paratro operator add" {
		t.Fatalf("err = %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q", out)
	}
}

func TestBootstrapChecksTheFingerprint(t *testing.T) {
	path, pub := ownerFile(t)
	opts, _, _ := bootstrapOpts(t, path, "0000000000000000")
	if err := bootstrapRun(t.Context(), opts); err == nil || !strings.Contains(err.Error(), "do not make it owner") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(opts.DataDir, relay.BootstrapFile)); err == nil {
		t.Error("a bootstrap file was written for a wrong fingerprint")
	}

	// On a terminal without --fingerprint: shown, and asked.
	for answer, ok := range map[string]bool{"y\n": true, "yes\n": true, "n\n": false, "\n": false} {
		ios, in, out, errOut := iostreams.Test()
		in.WriteString(answer)
		opts := &BootstrapOptions{IO: ios, DataDir: filepath.Join(t.TempDir(), "relay"), Owner: path, Poll: time.Millisecond}
		err := bootstrapRun(t.Context(), opts)
		if !strings.Contains(errOut.String(), "ana's fingerprint is "+pub.DisplayFingerprint()) {
			t.Errorf("%q: stderr = %q", answer, errOut)
		}
		if ok != (err == nil) || ok != strings.Contains(out.String(), "becomes the owner") {
			t.Errorf("%q: err = %v, stdout %q", answer, err, out)
		}
	}
}

func TestBootstrapRefusesANonIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(path, []byte(`{"name":"ana","signing_key":"00"}`), 0o600)
	opts, _, _ := bootstrapOpts(t, path, "00")
	err := bootstrapRun(t.Context(), opts)
	if err == nil || !strings.Contains(err.Error(), "is not an identity") || len(cmdutil.Hints(err)) == 0 {
		t.Fatalf("err = %v", err)
	}
}

func TestStartupNotes(t *testing.T) {
	dir := t.TempDir()
	st, err := relay.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	self, err := identity.New("relay")
	if err != nil {
		t.Fatal(err)
	}
	var srv *relay.Server
	setupRan := false
	setup := keepServer(func(*relay.Server) error { setupRan = true; return nil }, &srv)
	if err := setup(relay.NewServer(st, relay.Config{Self: self})); err != nil || srv == nil || !setupRan {
		t.Fatalf("keepServer: %v %v %v", err, srv, setupRan)
	}
	var b bytes.Buffer
	startupNotes(&b, srv, "/var/lib/paratro")
	want := "relay identity  relay (" + self.DisplayFingerprint() + "): parties that accept API requests trust it with paratro identity add --from-relay --fingerprint " + self.Fingerprint() + "\n" +
		"bootstrap: no owner yet; run \"paratro relay bootstrap --data /var/lib/paratro --owner IDENTITY.json\" on this host\n"
	if b.String() != want {
		t.Errorf("notes:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	startupNotes(&b, nil, "/x")
	if b.Len() != 0 {
		t.Errorf("notes without a server: %q", b.String())
	}
}
