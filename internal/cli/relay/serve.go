package relaycmd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/control"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/relay"
)

// ServeOptions are the inputs of serveRun.
type ServeOptions struct {
	IO  *iostreams.IOStreams
	Now func() time.Time

	Listen    string     // host:port
	DataDir   string     // absolute
	TLSCert   string     // with TLSKey: TLS 1.3
	TLSKey    string     //
	Insecure  bool       // plain HTTP off loopback
	AddrFile  string     // write the address listened on here, once listening
	LogLevel  slog.Level // of the relay's log on stderr
	LogFormat string     // "text" or "json"

	BackupDelay time.Duration // how long a backup export waits for other owners to cancel it
}

// NewCmdServe returns the "relay serve" command. runF replaces serveRun in
// tests; pass nil for the real one.
func NewCmdServe(f *cmdutil.Factory, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{IO: f.IO, Now: f.Now}
	var logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a relay",
		Long: `Run a relay until interrupted (Ctrl-C or SIGTERM), then stop cleanly:
waiting parties are told to retry, and they carry on once a relay is back
on the same data directory.

Everything the relay has acknowledged is on disk, in relay.db under the
data directory, before it answers; it survives a crash or a kill -9. The
data directory is created with mode 0700 if missing; a directory other
users may write to is refused. The default is $PARATRO_HOME/relay when
PARATRO_HOME is set (or --home is given), else $XDG_DATA_HOME/paratro/relay,
else ~/.local/share/paratro/relay (on Windows %LocalAppData%\paratro\relay).

Security events (identities registered, ceremonies created, access refused
to non-members, equivocations refused) are appended to the hash-chained
audit log audit.log in the data directory: paratro audit verify --file
<data>/audit.log checks it.

With --tls-cert and --tls-key the relay speaks TLS 1.3 only. Without them
it speaks plain HTTP, and only on a loopback address (127.0.0.1, ::1,
localhost) unless --insecure is given: requests stay signed and protocol
messages encrypted, but anyone on the network could see who takes part in
which ceremony.

The relay logs to stderr: registrations, new ceremonies and refusals, and
with --log-level debug one line per request. It never logs message
contents, signatures or nonces.`,
		Example: `  # a relay for the parties on this machine
  $ paratro relay serve

  # a relay for parties on other machines
  $ paratro relay serve --listen 0.0.0.0:8700 --tls-cert relay.crt --tls-key relay.key

  # pick a free port and tell a script which one
  $ paratro relay serve --listen 127.0.0.1:0 --addr-file relay.addr --data ./relay-data`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := fillServeOptions(cmd, opts, logLevel, f.Getenv); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", relay.DefaultListen, "listen on `ADDR` (host:port; port 0 picks a free one)")
	fl.StringVar(&opts.DataDir, "data", "", "keep the relay's state in `DIR` (default: $PARATRO_HOME/relay or the user data directory, see above)")
	fl.StringVar(&opts.TLSCert, "tls-cert", "", "serve TLS 1.3 with the PEM certificate chain in `FILE` (needs --tls-key)")
	fl.StringVar(&opts.TLSKey, "tls-key", "", "the PEM private key of --tls-cert, in `FILE`")
	fl.BoolVar(&opts.Insecure, "insecure", false, "allow plain HTTP on a non-loopback address")
	fl.StringVar(&opts.AddrFile, "addr-file", "", "once listening, write the address to `FILE` (for scripts using port 0)")
	fl.StringVar(&logLevel, "log-level", "info", "log `LEVEL`: info or debug (also warn, error)")
	fl.StringVar(&opts.LogFormat, "log-format", "text", "log `FORMAT`: text or json")
	fl.DurationVar(&opts.BackupDelay, "backup-delay", control.DefaultBackupDelay, "release a share backup export `DURATION` after an owner asks for it, unless another owner cancels it")
	_ = cmd.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"info", "debug", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// fillServeOptions checks the flags and completes opts from them and the
// environment.
func fillServeOptions(cmd *cobra.Command, opts *ServeOptions, logLevel string, getenv func(string) string) error {
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return cmdutil.FlagErrorf("--tls-cert and --tls-key go together: give both, or neither for plain HTTP on loopback")
	}
	if err := relay.CheckListen(opts.Listen, opts.TLSCert != "", opts.Insecure); err != nil {
		return cmdutil.FlagErrorWrap(err)
	}
	if err := opts.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return cmdutil.FlagErrorf("invalid --log-level %q: use info or debug (or warn, error)", logLevel)
	}
	if opts.LogFormat != "text" && opts.LogFormat != "json" {
		return cmdutil.FlagErrorf("invalid --log-format %q: use text or json", opts.LogFormat)
	}
	dir := opts.DataDir
	if dir == "" {
		var err error
		if dir, err = defaultDataDir(homeFlag(cmd), getenv, os.UserHomeDir, runtime.GOOS); err != nil {
			return cmdutil.WithHint(err, "give --data DIR")
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	opts.DataDir = abs
	return nil
}

// homeFlag is the value of the global --home flag, when the command tree
// has one and it was given.
func homeFlag(cmd *cobra.Command) string {
	if fl := cmd.Flag("home"); fl != nil && fl.Changed {
		return fl.Value.String()
	}
	return ""
}

// defaultDataDir is where a relay keeps its state when --data is not
// given: <paratro home>/relay when the home is set (--home or
// PARATRO_HOME), else the user's data directory's paratro/relay.
func defaultDataDir(home string, getenv func(string) string, userHome func() (string, error), goos string) (string, error) {
	if home == "" {
		home = getenv("PARATRO_HOME")
	}
	if home != "" {
		return filepath.Join(home, "relay"), nil
	}
	if x := getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "paratro", "relay"), nil
	}
	if goos == "windows" {
		if l := getenv("LocalAppData"); l != "" {
			return filepath.Join(l, "paratro", "relay"), nil
		}
	}
	h, err := userHome()
	if err != nil {
		return "", fmt.Errorf("no data directory for the relay: %w", err)
	}
	return filepath.Join(h, ".local", "share", "paratro", "relay"), nil
}

// serveRun runs the relay until ctx is cancelled.
func serveRun(ctx context.Context, opts *ServeOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg := relay.Config{
		Listen: opts.Listen, DataDir: opts.DataDir, TLSCert: opts.TLSCert, TLSKey: opts.TLSKey,
		Insecure: opts.Insecure, Logger: newLogger(opts), Now: opts.Now,
	}
	cfg.Setup = func(s *relay.Server) error { // the wallet API (internal/control)
		_, err := control.Attach(s, s.Store(), control.Options{Context: ctx, BackupDelay: opts.BackupDelay, Logger: cfg.Logger})
		return err
	}
	var srv *relay.Server
	cfg.Setup = keepServer(cfg.Setup, &srv)
	var addrErr error
	ready := func(addr string) {
		fmt.Fprintf(opts.IO.ErrOut, "relay listening on %s, data in %s\n", describe(addr, opts), opts.DataDir)
		startupNotes(opts.IO.ErrOut, srv, opts.DataDir)
		if opts.AddrFile != "" {
			if addrErr = writeAddrFile(opts.AddrFile, addr); addrErr != nil {
				cancel()
			}
		}
	}
	err := relay.Serve(ctx, cfg, ready)
	if addrErr != nil {
		return fmt.Errorf("write --addr-file: %w", addrErr)
	}
	if err == nil {
		cfg.Logger.Info("relay stopped")
	}
	return err
}

// describe is the URL of the relay and how it is reached, for people:
// "http://127.0.0.1:8700 (plain HTTP, loopback only)".
func describe(addr string, opts *ServeOptions) string {
	switch {
	case opts.TLSCert != "":
		return "https://" + addr + " (TLS 1.3)"
	case opts.Insecure && !loopback(addr):
		return "http://" + addr + " (plain HTTP, --insecure: not only on loopback)"
	}
	return "http://" + addr + " (plain HTTP, loopback only)"
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && relay.IsLoopback(host)
}

// writeAddrFile writes addr and a newline to path, atomically, so that a
// script waiting for the file never reads half of it.
func writeAddrFile(path, addr string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// newLogger logs to stderr at the chosen level and format.
func newLogger(opts *ServeOptions) *slog.Logger {
	ho := &slog.HandlerOptions{Level: opts.LogLevel}
	if strings.EqualFold(opts.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(opts.IO.ErrOut, ho))
	}
	return slog.New(slog.NewTextHandler(opts.IO.ErrOut, ho))
}
