package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paratro/paratro/internal/audit"
)

// Evidence kept beside a log: the file holds the bytes (0600, in a 0700
// directory), the entry names it by SHA-256 and passes the chain check;
// its text fields are sanitised like the entry's; editing the entry's
// evidence breaks the chain, and a changed file is refused on reading.
func TestEvidenceIsKeptBesideTheLogAndChained(t *testing.T) {
	path := filepath.Join(t.TempDir(), "home", "audit.log")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	raw := []byte("a signed envelope, as the relay served it")
	sum, file, err := l.KeepEvidence(raw)
	d := sha256.Sum256(raw)
	if err != nil || sum != hex.EncodeToString(d[:]) || file != filepath.Join("evidence", sum+".envelope") {
		t.Fatalf("KeepEvidence: %q %q %v", sum, file, err)
	}
	if again, _, err := l.KeepEvidence(raw); err != nil || again != sum {
		t.Fatalf("the same envelope kept again: %q, %v", again, err)
	}
	ev := audit.Evidence{Sender: "vault (\x1b[31mab12)", Type: "protocol", Round: 2, Seq: 7, SHA256: sum, Size: len(raw), File: file}
	e, err := l.Append(audit.Entry{Event: audit.EventOutcome, Outcome: "failed", Culprits: []string{"ab12"}, Evidence: []audit.Evidence{ev}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(e.Evidence[0].Sender, '\x1b') {
		t.Errorf("evidence sender written unsanitised: %q", e.Evidence[0].Sender)
	}
	if n, err := audit.Verify(path); err != nil || n != 1 {
		t.Fatalf("verify: %d, %v", n, err)
	}
	got, err := audit.ReadEvidence(path, e.Evidence[0])
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("ReadEvidence: %q, %v", got, err)
	}
	for p, want := range map[string]os.FileMode{filepath.Dir(filepath.Join(filepath.Dir(path), file)): 0o700, filepath.Join(filepath.Dir(path), file): 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, want mode %v", p, fi, want)
		}
	}

	bad := e.Evidence[0]
	bad.SHA256 = "../../etc/passwd"
	if _, err := audit.ReadEvidence(path, bad); err == nil {
		t.Error("an evidence entry with a path for its SHA-256 was read")
	}
	b, _ := os.ReadFile(path)
	edited := bytes.Replace(b, []byte(sum), []byte(strings.Repeat("0", len(sum))), 1)
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	var ve *audit.VerifyError
	if _, err := audit.Verify(path); !errors.As(err, &ve) {
		t.Errorf("an entry whose evidence was edited verifies: %v", err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), file), append(raw, '!'), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.ReadEvidence(path, e.Evidence[0]); err == nil || !strings.Contains(err.Error(), "was changed") {
		t.Errorf("a changed evidence file was read: %v", err)
	}
}
