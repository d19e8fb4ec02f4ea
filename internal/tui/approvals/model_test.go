package approvals

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// updating reports the -update flag, which teatest (through x/exp/golden)
// already defines for this test binary.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden compares got with testdata/<name>.golden, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("view differs from %s (run with -update to accept it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
	if strings.Contains(got, "\x1b") {
		t.Errorf("view contains escape sequences")
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var testHeader = Header{Operator: "alice", Fingerprint: "SHA256:a1b2c3d4", Relay: "https://relay.example:8443", Wallets: 2}

func signRequest() Request {
	return Request{
		ID: "s-7f3a", Kind: KindSign, WalletID: "w-01", WalletName: "treasury", Chain: "ethereum",
		Initiator: Identity{Name: "bob", Fingerprint: "SHA256:b0b0b0b0"},
		Operator:  "for ben via the relay's API",
		Parties:   []string{"alice", "bob", "carol"}, Required: 2,
		Digest:   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Summary:  "send 1.5 ETH to 0x52908400098527886E0F7030069857D2E4169EE7, fee 0.0004 ETH, nonce 7",
		Deadline: t0.Add(5 * time.Minute), Received: t0.Add(-90 * time.Second),
		SAS: "tiger lemon 4821",
	}
}

func keygenRequest() Request {
	return Request{
		ID: "k-21c0", Kind: KindKeygen, WalletID: "w-02", WalletName: "ops-cold",
		Initiator: Identity{Name: "carol", Fingerprint: "SHA256:ca401ca4"},
		Parties:   []string{"alice", "bob", "carol"}, Required: 2,
		Deadline: t0.Add(10 * time.Minute), Received: t0.Add(-10 * time.Second),
		SAS: "otter plum 0193",
	}
}

// recorder collects decisions; the model hands them over inside tea.Cmds.
type recorder struct{ got []Decision }

func (r *recorder) decide(d Decision) { r.got = append(r.got, d) }

func newModel(t *testing.T, rec *recorder) Model {
	t.Helper()
	return New(testHeader, rec.decide, WithNow(t0), WithStyles(PlainStyles()), WithSize(80, 24), WithConnected(true))
}

// send feeds messages to m and runs every command they return, as the program
// loop would (tea.Quit is reported, not run).
func send(t *testing.T, m Model, msgs ...tea.Msg) (Model, bool) {
	t.Helper()
	quit := false
	for _, msg := range msgs {
		tm, cmd := m.Update(msg)
		m = tm.(Model)
		quit = run(cmd) || quit
	}
	return m, quit
}

// run runs cmd and the commands of a batch; it reports tea.Quit.
func run(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	switch msg := cmd().(type) {
	case tea.QuitMsg:
		return true
	case tea.BatchMsg:
		quit := false
		for _, c := range msg {
			quit = run(c) || quit
		}
		return quit
	}
	return false
}

func key(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case " ":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func typed(s string) []tea.Msg {
	var msgs []tea.Msg
	for _, r := range s {
		msgs = append(msgs, key(string(r)))
	}
	return msgs
}

func withTwo(t *testing.T, rec *recorder) Model {
	m, _ := send(t, newModel(t, rec),
		RequestArrived{Request: signRequest()},
		RequestArrived{Request: keygenRequest()},
		Tick(t0.Add(30*time.Second)),
	)
	return m
}

func TestEmptyInbox(t *testing.T) {
	m := New(testHeader, nil, WithNow(t0), WithStyles(PlainStyles()), WithSize(80, 24))
	golden(t, "empty_inbox", m.View())
}

func TestInboxTwoRequests(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, withTwo(t, rec), key("down"))
	golden(t, "inbox_two", m.View())
}

func TestDetail(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, withTwo(t, rec), key("enter"))
	golden(t, "detail", m.View())
	m, _ = send(t, m, key("esc"))
	if m.mode != modeInbox {
		t.Errorf("esc from detail: mode %d, want inbox", m.mode)
	}
}

func TestApproveConfirm(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, withTwo(t, rec), key("enter"), key("a"))
	golden(t, "approve_confirm", m.View())
	if len(rec.got) != 0 {
		t.Fatalf("decision sent before confirmation: %+v", rec.got)
	}
	// esc cancels: back to the detail, nothing sent, request still pending.
	m, _ = send(t, m, key("esc"))
	if m.mode != modeDetail || len(rec.got) != 0 || len(m.Pending()) != 2 {
		t.Errorf("after esc: mode %d, decisions %+v, pending %v", m.mode, rec.got, m.Pending())
	}
}

func TestApproveSent(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, withTwo(t, rec), key("enter"), key("a"), key("y"))
	golden(t, "approve_sent", m.View())
	want := []Decision{{ID: "s-7f3a", Approve: true}}
	if !slices.Equal(rec.got, want) {
		t.Errorf("decisions %+v, want %+v", rec.got, want)
	}
	if !slices.Equal(m.Pending(), []string{"k-21c0"}) || !m.Running() {
		t.Errorf("pending %v, running %v", m.Pending(), m.Running())
	}
}

func TestApproveFromInboxNeedsConfirm(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, withTwo(t, rec), key("a"), key("n"))
	if len(rec.got) != 0 || m.mode != modeDetail {
		t.Errorf("a then n: decisions %+v, mode %d", rec.got, m.mode)
	}
}

func TestRejectWithReason(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, withTwo(t, rec), key("down"), key("enter"), key("r"))
	m, _ = send(t, m, typed("not plannedx")...)
	m, _ = send(t, m, key("backspace"))
	golden(t, "reject_reason", m.View())
	m, _ = send(t, m, key("enter"))
	golden(t, "reject_sent", m.View())
	want := []Decision{{ID: "k-21c0", Approve: false, Reason: "not planned"}}
	if !slices.Equal(rec.got, want) {
		t.Errorf("decisions %+v, want %+v", rec.got, want)
	}
	if m.Running() {
		t.Error("a rejected request is running")
	}
}

func TestProgress(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, withTwo(t, rec), key("enter"), key("a"), key("y"),
		Progress{ID: "s-7f3a", Round: 2, Rounds: 5, Waiting: []string{"bob", "carol"}, Elapsed: 12 * time.Second},
		Progress{ID: "r-0001", Round: 1, Rounds: 3, Elapsed: 3 * time.Second},
		LogLine{Text: "relay heartbeat ok"},
	)
	golden(t, "progress", m.View())
	m, _ = send(t, m, Done{ID: "s-7f3a", OK: true, Text: "signature 0x1234…"}, Done{ID: "r-0001", OK: false, Text: "bob timed out"})
	if m.Running() {
		t.Error("still running after Done")
	}
}

func TestProgressOfTheTestSignature(t *testing.T) {
	m, _ := send(t, newModel(t, &recorder{}),
		Progress{ID: "r-0001", Round: 5, Rounds: 5, Elapsed: 9 * time.Second},
		Progress{ID: "r-0001", Step: "test signature", Round: 2, Rounds: 5, Waiting: []string{"vault"}, Elapsed: 10 * time.Second})
	v := m.View()
	if !strings.Contains(v, "test signature round 2 of 5") || !strings.Contains(v, "waiting for va") {
		t.Errorf("the running refresh does not say it is on its test signature:\n%s", v)
	}
}

func TestLogBounded(t *testing.T) {
	m := newModel(t, &recorder{})
	for i := range 20 {
		m, _ = send(t, m, LogLine{Text: strings.Repeat("x", i)})
	}
	if len(m.log) != logSize || m.log[logSize-1].text != strings.Repeat("x", 19) {
		t.Errorf("log has %d entries, last %q", len(m.log), m.log[len(m.log)-1].text)
	}
}

func TestWithdrawnWhileReading(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, withTwo(t, rec), key("enter"), key("a"),
		RequestWithdrawn{ID: "s-7f3a", Reason: "cancelled by bob"}, key("y"))
	if len(rec.got) != 0 || m.mode != modeInbox || !slices.Equal(m.Pending(), []string{"k-21c0"}) {
		t.Errorf("decisions %+v, mode %d, pending %v", rec.got, m.mode, m.Pending())
	}
}

func TestResize60(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, withTwo(t, rec), tea.WindowSizeMsg{Width: 60, Height: 20})
	v := m.View()
	golden(t, "resize_60", v)
	for i, l := range strings.Split(v, "\n") {
		if n := len([]rune(l)); n > 60 {
			t.Errorf("line %d is %d cells wide: %q", i, n, l)
		}
	}
	// The detail wraps what is being signed instead of cutting it.
	m, _ = send(t, m, key("enter"))
	v = m.View()
	golden(t, "resize_60_detail", v)
	if !strings.Contains(strings.ReplaceAll(v, "\n             ", ""), signRequest().Digest) {
		t.Errorf("digest not shown whole at 60 columns:\n%s", v)
	}
}

func TestHelp(t *testing.T) {
	m, _ := send(t, newModel(t, &recorder{}), key("?"))
	if !strings.Contains(m.View(), "a then y") {
		t.Errorf("help view:\n%s", m.View())
	}
	m, _ = send(t, m, key("?"))
	if m.mode != modeInbox {
		t.Errorf("? again: mode %d", m.mode)
	}
}

func TestQuitDuringCeremony(t *testing.T) {
	rec := &recorder{}
	m, quit := send(t, withTwo(t, rec),
		Progress{ID: "s-9999", Round: 1, Rounds: 4, Waiting: []string{"carol"}, Elapsed: time.Second},
		key("q"))
	if quit || m.Quitting() {
		t.Fatal("q quit while a ceremony runs")
	}
	golden(t, "quit_running", m.View())
	m, quit = send(t, m, key("n"))
	if quit || m.mode != modeInbox {
		t.Fatalf("n: quit %v, mode %d", quit, m.mode)
	}
	m, quit = send(t, m, key("q"), key("y"))
	if !quit || !m.Quitting() {
		t.Fatal("q then y did not quit")
	}
}

func TestQuitIdle(t *testing.T) {
	m, quit := send(t, withTwo(t, &recorder{}), key("q"))
	if !quit || !m.Quitting() {
		t.Fatal("q did not quit when idle")
	}
	golden(t, "quit_idle", m.View())
}

// Keys typed quickly arrive together ("ay" in one message): each is a press
// of its own. A paste is text: it never approves, and can fill a reason.
func TestKeysArrivingTogether(t *testing.T) {
	rec := &recorder{}
	m := withTwo(t, rec)
	m, _ = send(t, m, key("enter"), tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("ay"), Paste: true})
	if len(rec.got) != 0 || m.mode != modeDetail {
		t.Fatalf("a paste of \"ay\" acted: decisions %v, mode %v", rec.got, m.mode)
	}
	m, _ = send(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("ay")})
	if len(rec.got) != 1 || !rec.got[0].Approve || rec.got[0].ID != "s-7f3a" {
		t.Fatalf("\"ay\" typed at once: decisions %v", rec.got)
	}
	m, _ = send(t, m, key("enter"), key("r"), tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("unknown payee"), Paste: true}, key("enter"))
	if len(rec.got) != 2 || rec.got[1].Approve || rec.got[1].Reason != "unknown payee" {
		t.Fatalf("pasted reason: decisions %v", rec.got)
	}
}

func presignRequest() Request {
	return Request{
		ID: "p-0b1c", Kind: KindPresign, WalletID: "w-01", WalletName: "treasury", Chain: "ethereum",
		Initiator: Identity{Name: "bob", Fingerprint: "SHA256:b0b0b0b0"},
		Parties:   []string{"alice", "bob", "carol"}, Required: 2, Signers: []string{"alice", "bob"}, Batch: 40,
		Deadline: t0.Add(5 * time.Minute), Received: t0.Add(-5 * time.Second),
		SAS: "heron kiwi 5521",
	}
}

// A presign request says in words what approving does, and that one
// approval covers the whole batch.
func TestPresignRequestDetail(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, newModel(t, rec), RequestArrived{Request: presignRequest()}, key("enter"))
	golden(t, "presign_detail", m.View())
	v := m.View()
	for _, want := range []string{
		"what       make presignatures for one-round signing with alice, bob",
		"batch      batch of 40: approving approves all 40",
		"signers    alice, bob  (of alice, bob, carol)",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the detail lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "carries no payload") {
		t.Errorf("a presign request is described as carrying nothing:\n%s", v)
	}
	m, _ = send(t, m, key("a"))
	if f := m.footer(); f != "approve all 40 presign requests of the batch for treasury? y confirm · esc cancel" {
		t.Errorf("confirmation: %q", f)
	}
	m, _ = send(t, m, key("y"))
	if want := []Decision{{ID: "p-0b1c", Approve: true}}; !slices.Equal(rec.got, want) {
		t.Errorf("decisions %+v, want %+v", rec.got, want)
	}
	if last := m.log[len(m.log)-1].text; last != "approved presign p-0b1c for treasury (batch of 40)" {
		t.Errorf("log: %q", last)
	}

	// Without a batch: no batch line, the usual confirmation.
	single := presignRequest()
	single.Batch = 0
	m, _ = send(t, newModel(t, rec), RequestArrived{Request: single}, key("enter"), key("a"))
	if strings.Contains(m.View(), "batch") || m.footer() != "approve presign for treasury? y confirm · esc cancel" {
		t.Errorf("single presign request:\n%s", m.View())
	}
}

// Background presign ceremonies take one log line per wallet and the
// status line, never a row each; the first of a batch, approved by the
// holder, leaves the running list once it is counted with the others.
func TestBackgroundPresignsAreCompact(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, newModel(t, rec), RequestArrived{Request: presignRequest()}, key("a"), key("y"),
		Presignatures{{WalletID: "w-01", Wallet: "treasury", Left: 0}, {WalletID: "w-03", Wallet: "ops", Left: 4}})
	if !m.Running() {
		t.Fatal("the approved presign is not running")
	}
	m, _ = send(t, m, Background{ID: "p-0b1c", WalletID: "w-01", Wallet: "treasury", State: BackgroundStarted},
		Background{ID: "p-0b1c", WalletID: "w-01", Wallet: "treasury", State: BackgroundDone})
	for i := range 37 {
		id := fmt.Sprintf("p-%04d", i)
		m, _ = send(t, m,
			Background{ID: id, WalletID: "w-01", Wallet: "treasury", State: BackgroundApproved, Text: fmt.Sprintf("batch b1 approved by the holder (%d more)", 38-i)},
			Background{ID: id, WalletID: "w-01", Wallet: "treasury", State: BackgroundStarted})
		if i < 36 {
			m, _ = send(t, m, Background{ID: id, WalletID: "w-01", Wallet: "treasury", State: BackgroundDone})
		}
	}
	m, _ = send(t, m, Background{ID: "p-9999", WalletID: "w-01", Wallet: "treasury", State: BackgroundFailed, Text: "carol sent nothing"},
		Presignatures{{WalletID: "w-01", Wallet: "treasury", Left: 37}, {WalletID: "w-03", Wallet: "ops", Left: 4}},
		LogLine{Text: "relay heartbeat ok"})
	golden(t, "presign_background", m.View())
	if m.Running() {
		t.Error("background presigns count as running ceremonies (q would ask)")
	}
	var presignLines int
	for _, e := range m.log {
		if strings.HasPrefix(e.text, "presign treasury") {
			presignLines++
		}
	}
	if presignLines != 1 {
		t.Errorf("%d log lines for treasury's presignatures, want 1: %+v", presignLines, m.log)
	}
	want := "presign treasury: 37 made, 1 running, 1 failed (last: carol sent nothing) · auto-approved: batch b1 approved by the holder (2 more)"
	if got := m.log[len(m.log)-2].text; got != want {
		t.Errorf("treasury's log line is %q, want %q", got, want)
	}
	v := m.View()
	for _, want := range []string{
		"presignatures: treasury 37 ready (1 in progress) · ops 4 ready",
		"no ceremonies running",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the screen lacks %q:\n%s", want, v)
		}
	}
	if len(m.Pending()) != 0 {
		t.Errorf("auto-approved presigns wait in the inbox: %v", m.Pending())
	}
}

// The status line stays away until there is something to say.
func TestPresignaturesLineOnlyWhenUseful(t *testing.T) {
	m, _ := send(t, newModel(t, &recorder{}), Presignatures{{WalletID: "w-01", Wallet: "treasury"}})
	if strings.Contains(m.View(), "presignatures") {
		t.Errorf("no presignature and no pool, yet:\n%s", m.View())
	}
	m, _ = send(t, m, Presignatures{{WalletID: "w-01", Wallet: "treasury", Left: 2}})
	if !strings.Contains(m.View(), "presignatures: treasury 2 ready") {
		t.Errorf("two presignatures left, not shown:\n%s", m.View())
	}
}

func TestKeyedLogLineReplacesItsPredecessor(t *testing.T) {
	m, _ := send(t, newModel(t, &recorder{}),
		LogLine{Text: "pool: next try in 30s", Key: "pool"}, LogLine{Text: "other"},
		Tick(t0.Add(time.Minute)), LogLine{Text: "pool: next try in 10m", Key: "pool"})
	var got []string
	for _, e := range m.log {
		got = append(got, e.at.Format("15:04:05")+" "+e.text)
	}
	if want := []string{"12:00:00 other", "12:01:00 pool: next try in 10m"}; !slices.Equal(got, want) {
		t.Errorf("log %q, want %q", got, want)
	}
}

// hostileText is what a malicious party can put in an abort notice or a
// rejection reason (SECURITY.md release case 16): 64 KiB of terminal escape
// sequences (clear screen, move the cursor, set the title, a fake prompt),
// carriage returns and newlines.
func hostileText() string {
	var b strings.Builder
	for b.Len() < 64<<10 {
		b.WriteString("\x1b[2J\x1b[H\x1b]0;pwned\x07\rAPPROVED by everyone\n\x1b[31mreal\x1b[0m\x9b6n\u009b6n\t")
	}
	return b.String()
}

// TestHostileTextIsShownSanitised: whatever reaches the screen from another
// party (a failed ceremony's reason, a withdrawn request's reason) is shown
// on one line, without a control character, cut short: it cannot clear the
// screen, move the cursor, set the terminal's title or add lines of its own.
func TestHostileTextIsShownSanitised(t *testing.T) {
	rec := &recorder{}
	m, _ := send(t, withTwo(t, rec),
		Progress{ID: "s-9", Round: 2, Rounds: 5},
		Done{ID: "s-9", OK: false, Text: "aborted: reported by vault: " + hostileText()},
		RequestWithdrawn{ID: "s-7f3a", Reason: hostileText()},
	)
	view := m.View()
	if strings.ContainsAny(view, "\x1b\r\a\t\u009b") {
		t.Errorf("the view carries control characters from another party's text:\n%.600q", view)
	}
	lines := strings.Split(view, "\n")
	if len(lines) > 24 {
		t.Errorf("the view has %d lines on a 24-line screen", len(lines))
	}
	var failed, withdrawn string
	for _, l := range lines {
		switch {
		case strings.Contains(l, "ceremony s-9 failed"):
			failed = l
		case strings.Contains(l, "request s-7f3a withdrawn"):
			withdrawn = l
		}
		if n := len([]rune(l)); n > 80 {
			t.Errorf("a line of %d characters on an 80-column screen: %q", n, l)
		}
	}
	if failed == "" || !strings.Contains(failed, "reported by vault") {
		t.Errorf("the failed ceremony's line is missing or lost who reported it:\n%s", view)
	}
	if withdrawn == "" {
		t.Errorf("the withdrawn request's line is missing:\n%s", view)
	}
	if strings.Count(view, "APPROVED by everyone") > 2 {
		t.Errorf("the hostile text is shown more than once per line:\n%s", view)
	}
}
