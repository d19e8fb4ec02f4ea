package auditcmd_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/cli/clitest"
)

// threeEntries writes a party's log of one rejected sign request and one
// relay event, and returns its path.
func threeEntries(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	l.Now = func() time.Time { at = at.Add(time.Minute); return at }
	parties := []string{"ana (fp-ana)", "ben (fp-ben)"}
	for _, e := range []audit.Entry{
		{Event: audit.EventRequest, Actor: "ben (fp-ben)", Wallet: "w1", Ceremony: "c1", Kind: "sign", Parties: parties},
		{Event: audit.EventRejected, Actor: "ana (fp-ana)", Wallet: "w1", Ceremony: "c1", Kind: "sign", Parties: parties, Outcome: "rejected", Detail: "not today"},
		{Event: audit.EventRequest, Actor: "ben (fp-ben)", Wallet: "w2", Ceremony: "c2", Kind: "keygen", Parties: parties},
	} {
		if _, err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestVerifySaysOkThenNamesTheEditedEntry(t *testing.T) {
	path := threeEntries(t)
	f, _, _ := clitest.NewFactory(t)
	out, _, err := clitest.Run(t, f, "audit verify --file "+path)
	if err != nil || out != "ok: 3 entries, chain intact\n" {
		t.Fatalf("verify = %q, %v", out, err)
	}
	b, _ := os.ReadFile(path)
	i := bytes.IndexByte(b, '\n') + 1 + bytes.Index(b[bytes.IndexByte(b, '\n')+1:], []byte("not today"))
	b[i] = 'N'
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = clitest.Run(t, f, "audit verify --file "+path)
	if err == nil || out != "" || !strings.Contains(err.Error(), "line 2 (seq 2): the entry was edited") {
		t.Fatalf("verify of an edited log = %q, %v", out, err)
	}
}

func TestVerifyReadsTheHomesLogByDefault(t *testing.T) {
	path := threeEntries(t)
	f, _, _ := clitest.NewFactory(t)
	out, _, err := clitest.Run(t, f, "audit verify --home "+filepath.Dir(path))
	if err != nil || out != "ok: 3 entries, chain intact\n" {
		t.Fatalf("verify = %q, %v", out, err)
	}
}

func TestLogListsAndFilters(t *testing.T) {
	path := threeEntries(t)
	f, _, _ := clitest.NewFactory(t)
	out, errOut, err := clitest.Run(t, f, "audit log --file "+path)
	want := `TIME (UTC)            EVENT               BY    WALLET   PARTIES   OUTCOME
2026-11-20 08:01:00   ceremony.request    ben   w1       ana,ben
2026-11-20 08:02:00   ceremony.rejected   ana   w1       ana,ben   rejected
2026-11-20 08:03:00   ceremony.request    ben   w2       ana,ben
`
	if err != nil || errOut != "" || out != want {
		t.Fatalf("log = %v, stderr %q, stdout:\n%s", err, errOut, out)
	}
	for argv, n := range map[string]int{
		"--wallet w1":                                   2,
		"--kind keygen":                                 1,
		"--since 2026-11-20T08:02:00Z":                  2,
		"--wallet w2 --kind sign":                       0,
		"--since 2026-11-20T09:00:00Z":                  0,
		"--wallet w1 --since 2026-11-20T08:02:00+00:00": 1,
	} {
		out, _, err := clitest.Run(t, f, "audit log --output json --file "+path+" "+argv)
		var es []audit.Entry
		if err != nil || json.Unmarshal([]byte(out), &es) != nil || len(es) != n {
			t.Errorf("audit log %s = %v, %s; want %d entries", argv, err, out, n)
		}
	}
	_, _, err = clitest.Run(t, f, "audit log --since yesterday --file "+path)
	if err == nil || !strings.Contains(err.Error(), "invalid --since") {
		t.Errorf("--since yesterday = %v", err)
	}
}

func TestLogWarnsOfABrokenChain(t *testing.T) {
	path := threeEntries(t)
	b, _ := os.ReadFile(path)
	lines := bytes.SplitAfter(b, []byte("\n"))
	os.WriteFile(path, append(lines[0], lines[2]...), 0o600)
	f, _, _ := clitest.NewFactory(t)
	out, errOut, err := clitest.Run(t, f, "audit log --file "+path)
	if err != nil || strings.Count(out, "\n") != 3 || !strings.Contains(errOut, "warning: audit log "+path+": line 2 (seq 3): broken link") {
		t.Fatalf("log = %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
}

// TestVerifyChecksTheEvidenceFiles: an entry that keeps a misbehaving
// member's signed envelope as evidence names its file by SHA-256; verify
// counts the files when they are intact, and fails naming the entry and
// the sender when one was changed or removed.
func TestVerifyChecksTheEvidenceFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	envelope := []byte("a signed envelope, as the relay served it")
	sum, file, err := l.KeepEvidence(envelope)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(audit.Entry{Event: audit.EventRequest, Actor: "ben (fp-ben)", Wallet: "w1", Ceremony: "c1", Kind: "sign"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(audit.Entry{Event: audit.EventOutcome, Actor: "ana (fp-ana)", Wallet: "w1", Ceremony: "c1", Kind: "sign", Outcome: "failed",
		Culprits: []string{"vault (fp-vault)"},
		Evidence: []audit.Evidence{{Sender: "vault (fp-vault)", Type: "protocol", Round: 2, SHA256: sum, Size: len(envelope), File: file}}}); err != nil {
		t.Fatal(err)
	}
	l.Close()

	f, _, _ := clitest.NewFactory(t)
	out, _, err := clitest.Run(t, f, "audit verify --file "+path)
	if err != nil || out != "ok: 2 entries, chain intact, 1 evidence files intact\n" {
		t.Fatalf("verify = %q, %v", out, err)
	}
	kept := filepath.Join(filepath.Dir(path), file)
	if err := os.WriteFile(kept, []byte("another envelope"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = clitest.Run(t, f, "audit verify --file "+path)
	if err == nil || out != "" || !strings.Contains(err.Error(), "line 2 (seq 2): evidence from vault (fp-vault)") || !strings.Contains(err.Error(), "was changed") {
		t.Fatalf("verify with a changed evidence file = %q, %v", out, err)
	}
	if err := os.Remove(kept); err != nil {
		t.Fatal(err)
	}
	if _, _, err = clitest.Run(t, f, "audit verify --file "+path); err == nil || !strings.Contains(err.Error(), "evidence from vault") {
		t.Fatalf("verify with a removed evidence file: %v", err)
	}
}
