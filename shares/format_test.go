package shares_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/paratro/paratro/shares"
)

// TestShareNeverPrintsItsSecret formats a Share every way a careless caller
// might and looks for the secret in the output.
func TestShareNeverPrintsItsSecret(t *testing.T) {
	t.Parallel()
	sh := testShare(t, "w1", "alice", 3)
	copy(sh.Secret, "SECRET-MARKER-0123456789")
	formats := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"}
	var outputs []string
	for _, f := range formats {
		outputs = append(outputs, fmt.Sprintf(f, sh), fmt.Sprintf(f, *sh), fmt.Sprintf(f, []*shares.Share{sh}))
	}
	outputs = append(outputs, fmt.Sprint(sh), fmt.Sprintln(*sh), fmt.Sprintf("%v", struct{ S *shares.Share }{sh}))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("loaded", "share", sh, "value", *sh)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "share", sh)
	outputs = append(outputs, logged.String())
	js, err := json.Marshal(sh)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))

	for i, out := range outputs {
		if strings.Contains(out, "SECRET-MARKER") || strings.Contains(out, "5345435245542d4d41524b4552") {
			t.Errorf("output %d shows the secret: %s", i, out)
		}
		noSecretIn(t, out, sh.Secret)
	}
	t.Run("the description names wallet, party and epoch", func(t *testing.T) {
		want := "share for w1 (party alice, epoch 3, ecdsa 2-of-3, secret redacted)"
		if got := fmt.Sprint(sh); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if got := fmt.Sprintf("%#v", sh); !strings.Contains(got, `shares.Share{WalletID:"w1"`) || !strings.Contains(got, "Secret:<redacted>") {
			t.Errorf("%%#v = %q", got)
		}
	})
	t.Run("the JSON form carries the metadata only", func(t *testing.T) {
		var m map[string]any
		json.Unmarshal(js, &m)
		if m["WalletID"] != "w1" || m["Secret"] != nil {
			t.Errorf("json = %s", js)
		}
	})
}

func TestWipe(t *testing.T) {
	t.Parallel()
	sh := testShare(t, "w", "alice", 1)
	sh.Wipe()
	if !bytes.Equal(sh.Secret, make([]byte, len(sh.Secret))) {
		t.Error("Wipe left secret bytes")
	}
	var nilShare *shares.Share
	nilShare.Wipe() // must not panic
}
