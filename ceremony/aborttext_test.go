package ceremony_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
)

// HostileAbortText is 64 KiB of text a malicious party puts in its abort
// notice: terminal escapes (clear screen, colours, a hyperlink, cursor
// moves), carriage returns and newlines that would forge log lines.
func hostileAbortText() string {
	line := "\x1b[2J\x1b[H\x1b[31mFATAL\x1b[0m: alice is the culprit\r\n2026-01-01 ceremony done ok\n\x1b]8;;http://evil\x07click\x1b]8;;\x07\t\x00\x7f"
	return strings.Repeat(line, 64<<10/len(line)+1)[:64<<10]
}

// safeText fails unless s has no control characters and is short.
func safeText(t *testing.T, what, s string, max int) {
	t.Helper()
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || !unicode.IsPrint(r) && r != ' ' {
			t.Fatalf("%s holds %q: %q", what, r, s)
		}
	}
	if n := utf8.RuneCountInString(s); n > max {
		t.Fatalf("%s is %d characters, want at most %d", what, n, max)
	}
}

// TestHostileAbortTextIsSanitisedAtEveryParty: carol, a malicious signer,
// sends instead of her first protocol message an abort notice with 64 KiB
// of escapes and newlines, as JSON and as bare bytes. Every honest party
// aborts, reported by carol; what its error says is her text stripped of
// control characters and cut short, shown as reported by her (SECURITY.md
// B4, B7, release case 16).
func TestHostileAbortTextIsSanitisedAtEveryParty(t *testing.T) {
	shares := ceremonytest.SchnorrShares(t)
	hostile := hostileAbortText()
	asJSON, err := json.Marshal(map[string]any{"reason": hostile, "culprits": []string{"alice", "\x1b[31mbob"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, payload := range map[string][]byte{"a JSON notice": asJSON, "bare bytes": []byte(hostile)} {
		t.Run(name, func(t *testing.T) {
			d := ceremonytest.Sign(shares, ceremonytest.Digest("hostile "+name), ceremonytest.FixtureParties...)
			net := ceremony.NewMemoryNetwork(d.Parties...)
			net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
				if m.From == "carol" {
					m.Type, m.Round, m.To, m.Payload = ceremony.TypeAbort, 0, "", payload
				}
				return []*ceremony.Message{m}
			})
			d.Deadline = time.Now().Add(30 * time.Second)
			go func() { // carol runs too: her messages are what the intercept turns into the notice
				_, _ = ceremony.Run(context.Background(), d, ceremony.Config{Self: "carol", Share: shares["carol"], Transport: net.Endpoint("carol")})
			}()
			out := ceremonytest.Run(context.Background(), d, net, []party.ID{"alice", "bob"}, func(id party.ID, c *ceremony.Config) { c.Share = shares[id] })
			for _, id := range []party.ID{"alice", "bob"} {
				var e *ceremony.Error
				err := out[id].Err
				if !errors.As(err, &e) || !errors.Is(err, ceremony.ErrAborted) {
					t.Fatalf("%s: got %v, want an abort", id, err)
				}
				// bob may hear alice's echo of carol's abort first: it
				// reports carol's in its text, cut shorter.
				if e.ReportedBy != "carol" && e.ReportedBy != "alice" && e.ReportedBy != "bob" {
					t.Fatalf("%s: reported by %q", id, e.ReportedBy)
				}
				text := err.Error()
				safeText(t, string(id)+"'s error", text, 400)
				safeText(t, string(id)+"'s reason", e.Reason, 201)
				if !strings.Contains(text, "reported by "+string(e.ReportedBy)+": ") || !strings.Contains(text, "FATAL") {
					t.Fatalf("%s: %q does not show the text as reported by %s", id, text, e.ReportedBy)
				}
				if strings.Contains(text, `\u00`) || strings.Contains(text, `"reason"`) {
					t.Fatalf("%s: the notice was shown as raw JSON: %q", id, text)
				}
				if e.Culprits != nil {
					t.Fatalf("%s: an unproven claim made culprits %v", id, e.Culprits)
				}
				for _, a := range e.Accused {
					if a != "alice" { // "\x1b[31mbob" is not a member: dropped
						t.Fatalf("%s: accused %q", id, a)
					}
				}
				t.Logf("%s: %s", id, text)
			}
			if e := (*ceremony.Error)(nil); errors.As(out["alice"].Err, &e) && e.ReportedBy != "carol" {
				t.Fatalf("alice heard the abort from %s, not carol", e.ReportedBy)
			}
		})
	}
}
