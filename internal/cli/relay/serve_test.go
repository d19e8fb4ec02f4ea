package relaycmd

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
)

// childEnv, when set, makes the test binary run "relay serve" with the
// arguments in it (space-separated), stopping on SIGTERM or SIGINT as
// paratro's Main does, and exit 0 when the command returns nil.
const childEnv = "PARATRO_RELAYCMD_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		cmd := NewCmdRelay(&cmdutil.Factory{IO: iostreams.System(), Now: time.Now, Getenv: os.Getenv})
		cmd.SetArgs(strings.Fields(args))
		if err := cmd.ExecuteContext(ctx); err != nil {
			os.Stderr.WriteString("paratro: error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func newFactory() (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	return &cmdutil.Factory{IO: ios, Now: time.Now, Getenv: os.Getenv}, out, errOut
}

// parse runs "relay serve argv" up to the point of serving and returns the
// options it would serve with.
func parse(t *testing.T, argv ...string) (*ServeOptions, error) {
	t.Helper()
	f, _, _ := newFactory()
	var got *ServeOptions
	cmd := NewCmdServe(f, func(_ context.Context, o *ServeOptions) error { got = o; return nil })
	cmd.SetArgs(argv)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	return got, err
}

func TestServeDefaultsToLoopbackAndTheHomesRelayDirectory(t *testing.T) {
	t.Setenv("PARATRO_HOME", "/srv/paratro")
	o, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if o.Listen != "127.0.0.1:8700" || o.DataDir != filepath.FromSlash("/srv/paratro/relay") || o.TLSCert != "" ||
		o.Insecure || o.LogLevel != slog.LevelInfo || o.LogFormat != "text" {
		t.Fatalf("options = %+v", o)
	}
}

func TestServeFlags(t *testing.T) {
	o, err := parse(t, "--listen", "0.0.0.0:9000", "--data", "d", "--tls-cert", "c.pem", "--tls-key", "k.pem",
		"--log-level", "debug", "--log-format", "json", "--addr-file", "a")
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if o.Listen != "0.0.0.0:9000" || o.DataDir != filepath.Join(wd, "d") || o.TLSCert != "c.pem" || o.TLSKey != "k.pem" ||
		o.LogLevel != slog.LevelDebug || o.LogFormat != "json" || o.AddrFile != "a" {
		t.Fatalf("options = %+v", o)
	}
}

func TestServeUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{[]string{"--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-key", "k.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--listen", "8700"}, "want host:port"},
		{[]string{"--listen", "0.0.0.0:8700"}, "give --tls-cert and --tls-key, or --insecure"},
		{[]string{"--listen", ":8700"}, "not a loopback address"},
		{[]string{"--log-level", "loud"}, "invalid --log-level"},
		{[]string{"--log-format", "xml"}, "invalid --log-format"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			_, err := parse(t, append([]string{"--data", t.TempDir()}, tt.argv...)...)
			if err == nil || !cmdutil.IsUsageError(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v (usage error: %v), want a usage error containing %q", err, cmdutil.IsUsageError(err), tt.want)
			}
		})
	}
	t.Run("--insecure allows plain HTTP off loopback", func(t *testing.T) {
		if _, err := parse(t, "--data", t.TempDir(), "--listen", "0.0.0.0:8700", "--insecure"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDefaultDataDir(t *testing.T) {
	home := func() (string, error) { return "/home/ana", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	for _, tt := range []struct {
		name, flag string
		env        map[string]string
		goos       string
		userHome   func() (string, error)
		want       string
	}{
		{"--home wins", "/h", map[string]string{"PARATRO_HOME": "/p"}, "linux", home, "/h/relay"},
		{"then PARATRO_HOME", "", map[string]string{"PARATRO_HOME": "/p", "XDG_DATA_HOME": "/x"}, "linux", home, "/p/relay"},
		{"then XDG_DATA_HOME", "", map[string]string{"XDG_DATA_HOME": "/x"}, "linux", home, "/x/paratro/relay"},
		{"then LocalAppData on Windows", "", map[string]string{"LocalAppData": "/l"}, "windows", home, "/l/paratro/relay"},
		{"then ~/.local/share", "", nil, "darwin", home, "/home/ana/.local/share/paratro/relay"},
		{"or an error", "", nil, "linux", noHome, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultDataDir(tt.flag, func(k string) string { return tt.env[k] }, tt.userHome, tt.goos)
			if got != filepath.FromSlash(tt.want) || (err != nil) != (tt.want == "") {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestServeRunServesUntilCancelled(t *testing.T) {
	f, stdout, stderr := newFactory()
	dir := filepath.Join(t.TempDir(), "relay")
	addrFile := filepath.Join(t.TempDir(), "addr")
	opts := &ServeOptions{IO: f.IO, Now: time.Now, Listen: "127.0.0.1:0", DataDir: dir,
		AddrFile: addrFile, LogLevel: slog.LevelInfo, LogFormat: "text"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveRun(ctx, opts) }()
	addr := waitForFile(t, addrFile)
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("addr file = %q", addr)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serveRun after cancel: %v", err)
	}
	want := "relay listening on http://" + addr + " (plain HTTP, loopback only), data in " + dir + "\n"
	if !strings.HasPrefix(stderr.String(), want) || stdout.Len() != 0 {
		t.Fatalf("stderr = %q, stdout = %q; want stderr to start %q", stderr, stdout, want)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir: %v, %v", fi.Mode().Perm(), err)
	}
}

// waitForFile returns the first line of path once it exists.
func waitForFile(t *testing.T, path string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	t.Fatalf("%s never appeared", path)
	return ""
}

func TestServeExitsZeroOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a relay process")
	}
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			addrFile := filepath.Join(t.TempDir(), "addr")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=serve --listen 127.0.0.1:0 --data "+t.TempDir()+" --addr-file "+addrFile)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitForFile(t, addrFile)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("relay serve after %v: %v\n%s", sig, err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "relay listening on http://") || !strings.Contains(stderr.String(), "relay stopped") {
				t.Fatalf("stderr = %s", stderr.String())
			}
		})
	}
}
