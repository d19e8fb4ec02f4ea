package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/shares"
)

// The global flags that say where this operator's things are.
const (
	homeFlag    = "home"
	relayFlag   = "relay"
	keyringFlag = "keyring"
)

// AddHomeFlags adds --home, --relay and --keyring to cmd's persistent flags.
func AddHomeFlags(cmd *cobra.Command) {
	cmd.PersistentFlags().String(homeFlag, "", "this operator's paratro home (env PARATRO_HOME; default: $XDG_CONFIG_HOME/paratro)")
	cmd.PersistentFlags().String(relayFlag, "", "relay URL (env PARATRO_RELAY), e.g. https://relay.example:8700")
	cmd.PersistentFlags().String(keyringFlag, "", `keyring for private keys: "os" (the OS keyring) or "file" (a passphrase-protected file in the home; env PARATRO_KEYRING; default os)`)
}

func flagOrEnv(cmd *cobra.Command, f *Factory, flag, env string) string {
	if fl := cmd.Flag(flag); fl != nil && fl.Changed {
		return fl.Value.String()
	}
	return f.Getenv(env)
}

// HomeDir is the operator's home: --home, PARATRO_HOME, or the XDG config
// directory's paratro folder.
func HomeDir(cmd *cobra.Command, f *Factory) (string, error) {
	if dir := flagOrEnv(cmd, f, homeFlag, "PARATRO_HOME"); dir != "" {
		return filepath.Abs(dir)
	}
	if x := f.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "paratro"), nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", WithHint(fmt.Errorf("no home directory: %w", err), "give --home DIR or set PARATRO_HOME")
	}
	return filepath.Join(dir, "paratro"), nil
}

// Relay is where the relay is and how to trust it.
type Relay struct {
	URL    string
	CAFile string // PEM certificates to trust for https (PARATRO_RELAY_CA)
}

// RelayOf reads --relay / PARATRO_RELAY (required) and PARATRO_RELAY_CA.
func RelayOf(cmd *cobra.Command, f *Factory) (Relay, error) {
	u := flagOrEnv(cmd, f, relayFlag, "PARATRO_RELAY")
	if u == "" {
		return Relay{}, WithHint(FlagErrorf("no relay given"), "give --relay URL or set PARATRO_RELAY, e.g. http://127.0.0.1:8700 for a relay on this machine")
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return Relay{}, FlagErrorf("invalid --relay %q: give an http:// or https:// URL", u)
	}
	return Relay{URL: strings.TrimRight(u, "/"), CAFile: f.Getenv("PARATRO_RELAY_CA")}, nil
}

// OpenKeyring opens the keyring chosen by --keyring / PARATRO_KEYRING. The
// file keyring lives in the home; its passphrase comes from
// PARATRO_KEYRING_PASSPHRASE or, on a terminal, a prompt. The returned
// function closes it.
func OpenKeyring(cmd *cobra.Command, f *Factory, homeDir string) (shares.Keyring, func(), error) {
	backend := flagOrEnv(cmd, f, keyringFlag, "PARATRO_KEYRING")
	switch backend {
	case "", "os":
		return shares.NewOSKeyring("paratro", 10*time.Second), func() {}, nil
	case "file":
	default:
		return nil, nil, FlagErrorf(`invalid --keyring %q: use "os" or "file"`, backend)
	}
	pass, err := passphrase(f)
	if err != nil {
		return nil, nil, err
	}
	defer clear(pass)
	kr, err := shares.OpenFileKeyring(filepath.Join(homeDir, "keyring.json"), pass)
	if errors.Is(err, shares.ErrWrongPassphrase) {
		return nil, nil, WithHint(err, "check PARATRO_KEYRING_PASSPHRASE")
	}
	if err != nil {
		return nil, nil, err
	}
	return kr, kr.Close, nil
}

func passphrase(f *Factory) ([]byte, error) {
	if p := f.Getenv("PARATRO_KEYRING_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	if !f.IO.IsStdinTTY() || f.PromptPassword == nil {
		return nil, WithHint(errors.New("the file keyring needs a passphrase and there is no terminal to ask for it"),
			"set PARATRO_KEYRING_PASSPHRASE")
	}
	return f.PromptPassword("keyring passphrase: ")
}

// OpenHome opens the operator's initialised home and its keyring; the
// returned function closes the keyring.
func OpenHome(cmd *cobra.Command, f *Factory) (*home.Home, func(), error) {
	dir, err := HomeDir(cmd, f)
	if err != nil {
		return nil, nil, err
	}
	kr, closeKR, err := OpenKeyring(cmd, f, dir)
	if err != nil {
		return nil, nil, err
	}
	h, err := home.Open(dir, kr)
	if errors.Is(err, home.ErrNoIdentity) {
		closeKR()
		return nil, nil, WithHint(fmt.Errorf("no identity in %s", dir), "run paratro init --name NAME first (or give the right --home)")
	}
	if err != nil {
		closeKR()
		return nil, nil, err
	}
	return h, closeKR, nil
}

// TermPassword reads a password from the terminal on stdin without echo.
func TermPassword(f *Factory) func(prompt string) ([]byte, error) {
	return func(prompt string) ([]byte, error) {
		fmt.Fprint(f.IO.ErrOut, prompt)
		defer fmt.Fprintln(f.IO.ErrOut)
		fd, ok := f.IO.In.(interface{ Fd() uintptr })
		if !ok {
			return nil, errors.New("stdin is not a terminal")
		}
		return term.ReadPassword(int(fd.Fd()))
	}
}
