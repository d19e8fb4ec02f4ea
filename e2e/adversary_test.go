//go:build unix

package e2e_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/audit"
)

// adversaryEnv is the variable that makes a party of the adversary build
// (go build -tags paratro_adversary; internal/coord/adversary_on.go)
// misbehave. A release binary must not know it.
const adversaryEnv = "PARATRO_ADVERSARY"

var (
	advOnce sync.Once
	advBin  string
	advErr  error
)

// adversaryBinary builds, once, paratro with the malicious party compiled
// in (PARATRO_E2E_ADVERSARY_BIN names a binary built so instead).
func adversaryBinary(t *testing.T) string {
	t.Helper()
	advOnce.Do(func() {
		if advBin = os.Getenv("PARATRO_E2E_ADVERSARY_BIN"); advBin != "" {
			return
		}
		advBin = filepath.Join(workDir, "paratro-adversary")
		start := time.Now()
		out, err := exec.Command("go", "build", "-tags", "paratro_adversary", "-o", advBin, "github.com/paratro/paratro/cmd/paratro").CombinedOutput()
		if err != nil {
			advErr = fmt.Errorf("go build -tags paratro_adversary ./cmd/paratro: %v\n%s", err, out)
			return
		}
		t.Logf("built the adversary binary in %s", time.Since(start).Round(100*time.Millisecond))
	})
	if advErr != nil {
		t.Fatal(advErr)
	}
	return advBin
}

// startAs (re)starts p's party run from binary with extra environment.
// The tests run one after another, so swapping the package's binary for
// the start is safe.
func startAs(p *partyProc, binary string, extra ...string) error {
	p.kill()
	saved := bin
	bin = binary
	defer func() { bin = saved }()
	p.extraEnv = extra
	return p.start()
}

// The release binary has no malicious party in it: neither the variable
// that drives it nor its banner is in the binary the other tests run, and
// without the tag the package compiles the no-op.
func TestAdversaryNotInReleaseBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: skipped under -short")
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{adversaryEnv, "ADVERSARY BUILD", "paratro: adversary:"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the release binary %s contains %q", bin, s)
		}
	}
	files := func(tags ...string) string {
		args := append([]string{"list"}, tags...)
		out, err := exec.Command("go", append(args, "-f", "{{.GoFiles}}", "github.com/paratro/paratro/internal/coord")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return string(out)
	}
	if f := files(); strings.Contains(f, "adversary_on.go") || !strings.Contains(f, "adversary_off.go") {
		t.Errorf("internal/coord without tags compiles %s", f)
	}
	if f := files("-tags", "paratro_adversary"); !strings.Contains(f, "adversary_on.go") || strings.Contains(f, "adversary_off.go") {
		t.Errorf("internal/coord with -tags paratro_adversary compiles %s", f)
	}
}

// A malicious party across processes: vault's party runs the adversary
// build (same identity, same share, the real relay protocol, every
// envelope validly signed) and lies in its own protocol messages of a CMP
// sign with ana; ben initiates. Each case ends with the wallet signing
// with the honest pair (ana, ben).
//
//   - tamper (SECURITY.md (c) case 12): one proof of a sign round changed
//     (enc in round 2, affg in round 3, log* in round 4): the sign fails
//     with the exit status paratro help exit-codes documents for a
//     misbehaving party (1, "failure", where it lists none) naming vault
//     as culprit, ana's party and ben's stay up,
//     ana's audit log records the failed outcome with vault as culprit
//     and keeps vault's signed envelopes of that sign as evidence (each
//     verifies with vault's public identity, one is of the changed
//     round), and nothing is printed on stdout (no signature);
//   - garbage (case 6): random bytes for a round-2 message: the same,
//     "undecodable";
//   - tamper-presign (case 12, presign): with every party running party
//     run --presign 1, vault changes the enc proof of its round-2 messages
//     of every CMP presign: the presigns of ana's and ben's signer sets
//     with vault fail naming vault, each keeping vault's signed round-2
//     envelope as evidence; no party stores a presignature of them (ana
//     and ben hold one each, of their own set; vault none); the honest
//     parties stay up and then sign without vault in one round, with the
//     presignature of their set, which leaves none;
//   - split (case 14): the round-5 broadcast sent as one point-to-point
//     envelope per recipient with different content: refused, naming
//     vault;
//   - equivocate (case 14): a second, different round-2 broadcast in a
//     second signed envelope: the relay refuses it (409), logs and audits
//     vault as the equivocator and keeps both envelopes; the honest parties
//     only ever see the first, so the sign completes with a valid signature.
func TestMaliciousPartyAcrossProcesses(t *testing.T) {
	e := setup(t)
	adv := adversaryBinary(t)
	ana, ben, vault := e.parties["ana"], e.parties["ben"], e.parties["vault"]
	wantExit := misbehaviourExit(t, e)
	t.Cleanup(func() {
		if err := startAs(vault, bin); err != nil {
			t.Error(err)
		}
	})
	for _, tc := range []struct {
		name, spec string
		want       string // in the honest signer's error
		round      int    // of the envelopes vault changed
	}{
		{"tamper-enc", "tamper:sign:round=2:field=ProofEnc", "round 2", 2},
		{"tamper-affg", "tamper:sign:round=3:field=DeltaProof", "affg proof", 3},
		{"tamper-logstar", "tamper:sign:round=4:field=ProofLog", "log", 4},
		{"garbage", "garbage:sign:round=2", "undecodable message", 2},
		{"split", "split:sign:round=5", "mixes broadcast and point-to-point", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.healthy(t)
			if err := startAs(vault, adv, adversaryEnv+"="+tc.spec); err != nil {
				t.Fatal(err)
			}
			marks := e.marks()
			r := e.cmd(ben.home, "wallet", "sign", e.wallet.ID, "--digest", digest(), "--signers", "ana,vault", "--timeout", "90s", "--output", "json")
			t.Logf("%s: sign --signers ana,vault: exit %d after %s; stderr:\n%s", tc.spec, r.code, r.elapsed.Round(10*time.Millisecond), r.stderr)
			if !strings.Contains(tail(vault.logPath, 40), "paratro: adversary: cmp/sign round") {
				t.Fatalf("vault's party did not misbehave; its log:\n%s", vault.logTail())
			}
			if r.code != wantExit {
				t.Fatalf("want exit %d (paratro help exit-codes: a party misbehaved)\n%s", wantExit, r)
			}
			if strings.TrimSpace(r.stdout) != "" {
				t.Errorf("a failed sign printed on stdout: %s", r.stdout)
			}
			if !strings.Contains(r.stderr, "(culprit: vault)") {
				t.Errorf("the error does not name vault as culprit:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, "paratro: hint: vault sent messages the other parties refused") || strings.Contains(r.stderr, "is running paratro party run") {
				t.Errorf("the hint should say vault sent refused messages, not that it may be down:\n%s", r.stderr)
			}
			ev := ana.waitEvent(t, marks["ana"], 10*time.Second, "failed sign", is("failed", "sign", ""))
			if !strings.Contains(ev.Error, "(culprit: "+vault.fp+")") || !strings.Contains(ev.Error, tc.want) {
				t.Errorf("ana's party should blame vault (%s) with %q; it reports: %s", vault.fp, tc.want, ev.Error)
			}
			if !ana.running() || !ben.running() {
				t.Fatalf("an honest party died: ana running %v, ben running %v", ana.running(), ben.running())
			}
			checkAuditBlames(t, filepath.Join(ana.home, "audit.log"), ev.Ceremony, vault.fp)
			e.checkEvidence(t, ana, ev.Ceremony, vault, tc.round)
			e.sign(t, "ana,ben")
		})
	}

	t.Run("equivocate", func(t *testing.T) {
		e.healthy(t)
		if err := startAs(vault, adv, adversaryEnv+"=equivocate:sign:round=2"); err != nil {
			t.Fatal(err)
		}
		s := e.sign(t, "ana,vault") // verified with go-ethereum
		if !strings.Contains(tail(vault.logPath, 40), "second, different broadcast refused by the relay") {
			t.Fatalf("vault's second broadcast was not refused by the relay; its log:\n%s", vault.logTail())
		}
		line, err := e.relay.waitLog(5*time.Second, func(l map[string]any) bool {
			return l["msg"] == "equivocation" && l["ceremony"] == s.CeremonyID && l["identity"] == vault.fp
		})
		if err != nil {
			t.Fatalf("the relay did not log vault's equivocation in %.12s: %v", s.CeremonyID, err)
		}
		t.Logf("relay log: %v", line)
		entries, err := audit.ReadAll(filepath.Join(e.relay.data, "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(entries, func(a audit.Entry) bool {
			return a.Event == audit.EventEquivocation && a.Ceremony == s.CeremonyID && a.Outcome == "refused" &&
				slices.ContainsFunc(a.Culprits, func(c string) bool { return strings.Contains(c, vault.fp) })
		}) {
			t.Errorf("the relay's audit log has no refused equivocation by vault in %.12s", s.CeremonyID)
		}
		e.sign(t, "ana,ben")
	})

	t.Run("tamper-presign", func(t *testing.T) {
		e.healthy(t)
		e.tamperPresign(t, adv)
	})
}

// checkAuditBlames checks that the audit log at path records ceremony cid
// as failed with culprit fp.
func checkAuditBlames(t *testing.T, path, cid, fp string) {
	t.Helper()
	entries, err := audit.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range entries {
		if a.Event == audit.EventOutcome && a.Ceremony == cid {
			if a.Outcome != "failed" || !slices.Contains(a.Culprits, fp) {
				t.Errorf("%s records ceremony %.12s as %s with culprits %v, want failed with %s", path, cid, a.Outcome, a.Culprits, fp)
			}
			return
		}
	}
	t.Errorf("%s has no outcome of ceremony %.12s", path, cid)
}

// misbehaviourExit is the exit status paratro help exit-codes documents
// for a ceremony a party aborted because another misbehaved, or 1
// (failure not listed) if it documents none.
func misbehaviourExit(t *testing.T, e *env) int {
	t.Helper()
	r := e.cmd("", "help", "exit-codes")
	if r.code != exitOK {
		t.Fatalf("help exit-codes:\n%s", r)
	}
	for line := range strings.SplitSeq(r.stdout, "\n") {
		var code int
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "%d", &code); err == nil && strings.Contains(line, "misbehav") {
			return code
		}
	}
	return exitFailure
}
