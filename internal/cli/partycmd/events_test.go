package partycmd

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// TestEventLinesShowAnotherPartysWordsAsOneLine: the log line `party run
// --no-tui` writes for a failed ceremony carries the reason another party
// gave (an abort's text): 64 KiB of escape sequences and newlines become
// one line without a control character, cut short (SECURITY.md release
// case 16); with --output json the text is kept, escaped by JSON.
func TestEventLinesShowAnotherPartysWordsAsOneLine(t *testing.T) {
	hostile := strings.Repeat("\x1b[2J\x1b]0;pwned\x07\r\nAPPROVED\u009b6n\t", 64<<10/24)
	ev := coord.Event{Ceremony: "c-0123456789abcdef", What: "failed", Detail: "reported by vault: " + hostile,
		Err: errors.New("ceremony aborted: " + hostile), Request: &coord.Request{Kind: ceremony.KindSign, WalletID: "w-1"}}
	now := func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }

	ios, _, _, errOut := iostreams.Test()
	(&eventWriter{opts: &RunOptions{IO: ios, Now: now}}).write(ev)
	got := errOut.String()
	if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
		t.Fatalf("the event is not one line: %d newlines", strings.Count(got, "\n"))
	}
	if i := strings.IndexFunc(strings.TrimSuffix(got, "\n"), func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }); i >= 0 {
		t.Errorf("control character at %d of the line: %.200q", i, got[max(0, i-20):])
	}
	if len(got) > 2*maxLineText+200 {
		t.Errorf("the line is %d bytes: not cut short", len(got))
	}
	if !strings.Contains(got, "reported by vault") || !strings.Contains(got, "c-0123456789") {
		t.Errorf("the line lost what matters: %.300q", got)
	}

	ios, _, out, _ := iostreams.Test()
	(&eventWriter{opts: &RunOptions{IO: ios, Now: now, Output: output.FormatJSON}}).write(ev)
	var j eventJSON
	if err := json.Unmarshal(out.Bytes(), &j); err != nil || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("--output json: not one JSON line (%v)", err)
	}
	if j.Detail != ev.Detail {
		t.Errorf("--output json changed the detail: JSON escapes it, the reader decides")
	}
}
