package cmdutil

// SecretEnv are the environment variables that carry secrets: a TOTP code
// (PARATRO_OTP) and the passphrases of the file keyring and of share
// backups. TakeSecretEnv removes them from the process environment.
var SecretEnv = []string{otpEnv, "PARATRO_KEYRING_PASSPHRASE", "PARATRO_BACKUP_PASSPHRASE"}

// TakeSecretEnv reads each variable of SecretEnv once, now, removes it from
// the process environment with unsetenv, and returns a Getenv that answers
// with the values it took for those names and with lookup for any other.
// internal/cli.New calls it before any command runs, so that the secrets
// are not inherited by child processes nor listed by os.Environ (a
// goroutine dump, a debugging aid) while a long command such as party run
// goes on.
//
// The kernel's copy of the initial environment, /proc/PID/environ on
// Linux, is not changed by unsetenv: internal/cli.Main blanks these
// variables' values there with hygiene.ScrubEnviron right after. Until
// then (from exec to the start of Main) it is readable by the same user
// and root.
func TakeSecretEnv(lookup func(string) (string, bool), unsetenv func(string) error) func(string) string {
	taken := make(map[string]string, len(SecretEnv))
	for _, k := range SecretEnv {
		if v, ok := lookup(k); ok {
			taken[k] = v
			unsetenv(k)
		}
	}
	return func(k string) string {
		if v, ok := taken[k]; ok {
			return v
		}
		for _, s := range SecretEnv {
			if k == s {
				return "" // not set when TakeSecretEnv ran
			}
		}
		v, _ := lookup(k)
		return v
	}
}
