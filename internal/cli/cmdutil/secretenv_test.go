package cmdutil_test

import (
	"slices"
	"testing"

	"github.com/paratro/paratro/internal/cli/cmdutil"
)

func TestTakeSecretEnv(t *testing.T) {
	env := map[string]string{"PARATRO_OTP": "123456", "PARATRO_KEYRING_PASSPHRASE": "correct horse", "PARATRO_HOME": "/h", "PARATRO_BACKUP_PASSPHRASE": ""}
	var unset []string
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	getenv := cmdutil.TakeSecretEnv(lookup, func(k string) error {
		unset = append(unset, k)
		delete(env, k)
		return nil
	})
	slices.Sort(unset)
	if want := []string{"PARATRO_BACKUP_PASSPHRASE", "PARATRO_KEYRING_PASSPHRASE", "PARATRO_OTP"}; !slices.Equal(unset, want) {
		t.Errorf("unset %v, want %v (every secret that was set, even empty)", unset, want)
	}
	for k, want := range map[string]string{"PARATRO_OTP": "123456", "PARATRO_KEYRING_PASSPHRASE": "correct horse", "PARATRO_BACKUP_PASSPHRASE": "", "PARATRO_HOME": "/h"} {
		for range 2 { // read twice: the value stays with the Getenv
			if got := getenv(k); got != want {
				t.Errorf("getenv(%s) = %q, want %q", k, got, want)
			}
		}
	}
	env["PARATRO_HOME"] = "/other"
	if getenv("PARATRO_HOME") != "/other" {
		t.Error("other variables must be read when asked for")
	}
	env["PARATRO_OTP"] = "654321"
	if getenv("PARATRO_OTP") != "123456" {
		t.Error("a secret is read once, when TakeSecretEnv runs")
	}
	t.Run("a secret that was not set stays unset", func(t *testing.T) {
		var unset []string
		getenv := cmdutil.TakeSecretEnv(func(string) (string, bool) { return "", false }, func(k string) error { unset = append(unset, k); return nil })
		if len(unset) != 0 || getenv("PARATRO_OTP") != "" {
			t.Errorf("unset %v", unset)
		}
	})
}
