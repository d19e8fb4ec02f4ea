package cli_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/paratro/paratro/internal/cli"
	"github.com/paratro/paratro/internal/cli/clitest"
	"github.com/paratro/paratro/internal/cli/cmdutil"
)

// secretWords are what a flag's name or usage would say if it took a
// secret, a code or key material on the command line, where every user of
// the machine can read it (ps, /proc/PID/cmdline) and the shell keeps it
// in its history.
var secretWords = regexp.MustCompile(`(?i)secret|passphrase|password|passwd|token|credential|mnemonic|seed|private|\botp\b|totp|\bcode\b|\bpin\b|\bkey\b|api.?key`)

// secretLookingFlags are the flags, as "COMMAND --FLAG", whose name or
// usage matches secretWords and which take no secret, each with the
// reason.
var secretLookingFlags = map[string]string{
	"paratro --keyring":                       `names a keyring backend ("os" or "file"); the passphrase comes from the environment or a prompt`,
	"paratro relay serve --tls-key":           "a path to the relay's PEM key file, not the key",
	"paratro relay serve --tls-cert":          "a path to a public certificate; its usage mentions --tls-key",
	"paratro share backup export --recipient": `an age public recipient (age1…), used "instead of a passphrase"`,
	"paratro apikey create --name":            "labels what will use the API key; the key is printed once, never read",
	"paratro wallet sign --index":             `a public BIP-32 child index; its usage mentions "the wallet key"`,
}

// Case 33 of SECURITY.md (c): no command has a flag that takes a secret.
func TestNoFlagTakesASecret(t *testing.T) {
	f, _, _ := clitest.NewFactory(t)
	used := map[string]bool{}
	for _, fl := range secretFlags(cli.NewCmdRoot(f)) {
		key := fl.cmd + " --" + fl.flag.Name
		if _, ok := secretLookingFlags[key]; ok {
			used[key] = true
			continue
		}
		t.Errorf("%s --%s (%s) looks like it takes a secret on the command line: %q; read it from stdin, a file, the environment or a prompt (or, if it takes none, allow-list it here with the reason)",
			fl.cmd, fl.flag.Name, fl.flag.Value.Type(), fl.flag.Usage)
	}
	for key := range secretLookingFlags {
		if !used[key] {
			t.Errorf("%s is allow-listed but needs it no more: remove it from secretLookingFlags", key)
		}
	}
	t.Run("the check finds a passphrase flag", func(t *testing.T) {
		c := &cobra.Command{Use: "x"}
		c.Flags().String("passphrase", "", "the keyring passphrase")
		c.Flags().String("otp", "", "a TOTP code")
		c.Flags().String("secret-file", "", "where it is")
		if got := secretFlags(c); len(got) != 3 {
			t.Fatalf("found %d of 3", len(got))
		}
	})
}

type namedFlag struct {
	cmd  string
	flag *pflag.Flag
}

// secretFlags are the flags of c and its subcommands whose name or usage
// matches secretWords, and which take a value: a bool flag such as
// --otp-stdin carries none.
func secretFlags(c *cobra.Command) []namedFlag {
	var out []namedFlag
	c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
		if secretWords.MatchString(fl.Name) || secretWords.MatchString(fl.Usage) {
			if fl.Value.Type() != "bool" {
				out = append(out, namedFlag{c.CommandPath(), fl})
			}
		}
	})
	for _, sub := range c.Commands() {
		out = append(out, secretFlags(sub)...)
	}
	return out
}

// Case 33 of SECURITY.md (c): the secrets given in the environment are
// taken out of it before any command runs, so that nothing paratro starts
// inherits them and os.Environ does not list them; the commands still
// read them.
func TestNewTakesSecretsOutOfTheEnvironment(t *testing.T) {
	values := map[string]string{}
	for _, k := range cmdutil.SecretEnv {
		values[k] = "s3cr3t-" + strings.ToLower(k)
		t.Setenv(k, values[k])
	}
	t.Setenv("PARATRO_HOME", "/nonexistent/home")
	f := cli.New()
	for k, v := range values {
		if got, ok := os.LookupEnv(k); ok {
			t.Errorf("%s is still in the environment: %q", k, got)
		}
		if got := f.Getenv(k); got != v {
			t.Errorf("f.Getenv(%s) = %q, want the value it had", k, got)
		}
	}
	if got := f.Getenv("PARATRO_HOME"); got != "/nonexistent/home" || os.Getenv("PARATRO_HOME") != got {
		t.Errorf("PARATRO_HOME = %q: other settings must stay", got)
	}
	env, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env command to start")
	}
	out, err := exec.Command(env).Output()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		if strings.Contains(string(out), v) || strings.Contains(string(out), k+"=") {
			t.Errorf("a child process inherited %s", k)
		}
	}
	if !strings.Contains(string(out), "PARATRO_HOME=/nonexistent/home") {
		t.Errorf("the child did not inherit PARATRO_HOME:\n%s", out)
	}
}

// Every secret environment variable the commands read is one New takes
// out of the environment: a new PARATRO_…PASSPHRASE, …OTP, …TOKEN,
// …SECRET, …PASSWORD or …KEY in internal/cli must be added to
// cmdutil.SecretEnv.
func TestEverySecretVariableIsTaken(t *testing.T) {
	name := regexp.MustCompile(`PARATRO_[A-Z0-9_]*(PASSPHRASE|OTP|TOKEN|SECRET|PASSWORD|KEY)\b`)
	found := map[string]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range name.FindAllString(string(b), -1) {
			found[m] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 3 {
		t.Fatalf("found only %v: is the pattern still right?", found)
	}
	for k, path := range found {
		// PARATRO_API_KEY is only named in an example that pipes a key
		// printed by apikey create into a CI secret; paratro never reads it.
		if k != "PARATRO_API_KEY" && !slices.Contains(cmdutil.SecretEnv, k) {
			t.Errorf("%s (in %s) is not in cmdutil.SecretEnv", k, path)
		}
	}
}
