package approvals

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// logSize bounds the log pane.
const logSize = 8

// maxReason bounds the typed rejection reason, in runes.
const maxReason = 200

type mode int

const (
	modeInbox mode = iota
	modeDetail
	modeConfirmApprove
	modeReason
	modeHelp
	modeConfirmQuit
)

type running struct {
	id       string
	label    string
	step     string
	round    int
	rounds   int
	waiting  []string
	elapsed  time.Duration
	approved bool // approved here, no progress seen yet
}

type logEntry struct {
	at   time.Time
	text string
	key  string // a later line with the same key replaces this one
}

// pool is what the screen knows of one wallet's background presign
// ceremonies since it started.
type pool struct {
	walletID string
	wallet   string
	running  map[string]bool
	made     int
	failed   int
	lastErr  string
	approved string // why the last one was approved without asking
}

// Model is the approval inbox. Build it with New; the zero value is not usable.
type Model struct {
	header    Header
	decide    func(Decision)
	styles    Styles
	now       time.Time
	width     int
	height    int
	connected bool

	pending  []Request
	selected int
	running  []*running
	log      []logEntry
	pools    []*pool     // by first appearance
	counts   []PoolCount // presignatures left, per wallet

	mode     mode
	prev     mode // the mode help or quit confirmation returns to
	current  string
	reason   []rune
	quitting bool
}

// Option configures New.
type Option func(*Model)

// WithNow sets the model's clock until the first Tick.
func WithNow(t time.Time) Option { return func(m *Model) { m.now = t } }

// WithStyles replaces the default styles, e.g. with PlainStyles in tests.
func WithStyles(s Styles) Option { return func(m *Model) { m.styles = s } }

// WithSize sets the initial terminal size (a WindowSizeMsg changes it).
func WithSize(width, height int) Option {
	return func(m *Model) { m.width, m.height = width, height }
}

// WithConnected sets the initial connection state.
func WithConnected(c bool) Option { return func(m *Model) { m.connected = c } }

// New returns the inbox model for the party described by h. Every decision the
// holder makes is passed to decide from a tea.Cmd, never from Update, so a slow
// receiver cannot stall the screen; decide may be nil.
func New(h Header, decide func(Decision), opts ...Option) Model {
	m := Model{
		header: h,
		decide: decide,
		styles: DefaultStyles(lipgloss.DefaultRenderer()),
		width:  80,
	}
	for _, o := range opts {
		o(&m)
	}
	return m
}

// Init implements tea.Model.
func (m Model) Init() tea.Cmd { return nil }

// Quitting reports whether the model has asked the program to quit.
func (m Model) Quitting() bool { return m.quitting }

// Pending returns the IDs of the requests in the inbox, oldest first.
func (m Model) Pending() []string {
	ids := make([]string, len(m.pending))
	for i, r := range m.pending {
		ids[i] = r.ID
	}
	return ids
}

// Running reports whether a ceremony approved here or reported by Progress has
// not finished yet.
func (m Model) Running() bool { return len(m.running) > 0 }

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case Tick:
		m.now = time.Time(msg)
	case Connected:
		if bool(msg) != m.connected {
			m.connected = bool(msg)
			if m.connected {
				m.addLog("connected to the relay")
			} else {
				m.addLog("disconnected from the relay")
			}
		}
	case WalletsHeld:
		m.header.Wallets = int(msg)
	case LogLine:
		m.addKeyedLog(msg.Text, msg.Key)
	case Background:
		m.background(msg)
	case Presignatures:
		m.counts = append([]PoolCount(nil), msg...)
	case RequestArrived:
		m.arrive(msg.Request)
	case RequestWithdrawn:
		m.withdraw(msg)
	case Progress:
		m.progress(msg)
	case Done:
		m.done(msg)
	case tea.KeyMsg:
		return m.keys(msg)
	}
	return m, nil
}

func (m *Model) addLog(text string) { m.addKeyedLog(text, "") }

// addKeyedLog adds a line; one with a key replaces the line with that key.
func (m *Model) addKeyedLog(text, key string) {
	text = printable(text, maxLogText)
	if key != "" {
		m.log = slices.DeleteFunc(slices.Clone(m.log), func(e logEntry) bool { return e.key == key })
	}
	m.log = append(m.log, logEntry{at: m.now, text: text, key: key})
	if len(m.log) > logSize {
		m.log = append([]logEntry(nil), m.log[len(m.log)-logSize:]...)
	}
}

func (m *Model) find(id string) int {
	for i, r := range m.pending {
		if r.ID == id {
			return i
		}
	}
	return -1
}

func (m *Model) arrive(r Request) {
	r = r.printable()
	if r.Received.IsZero() {
		r.Received = m.now
	}
	if i := m.find(r.ID); i >= 0 {
		m.pending[i] = r
		return
	}
	m.pending = append(m.pending, r)
	m.addLog(fmt.Sprintf("%s request %s for %s from %s%s", r.Kind, r.ID, walletLabel(r), r.Initiator.Name, batchNote(r)))
}

func (m *Model) remove(id string) {
	i := m.find(id)
	if i < 0 {
		return
	}
	m.pending = append(m.pending[:i:i], m.pending[i+1:]...)
	if m.selected >= len(m.pending) && m.selected > 0 {
		m.selected = len(m.pending) - 1
	}
	if m.current == id {
		m.current = ""
		m.reason = nil
		switch m.mode {
		case modeDetail, modeConfirmApprove, modeReason:
			m.mode = modeInbox
		case modeHelp, modeConfirmQuit:
			m.prev = modeInbox
		}
	}
}

func (m *Model) withdraw(w RequestWithdrawn) {
	if m.find(w.ID) < 0 {
		return
	}
	m.remove(w.ID)
	text := "request " + w.ID + " withdrawn"
	switch {
	case strings.HasPrefix(w.Reason, "by "): // "by ben: rejected by ana"
		text += " " + w.Reason
	case w.Reason != "":
		text += ": " + w.Reason
	}
	m.addLog(text)
}

func (m *Model) runningIndex(id string) int {
	for i, r := range m.running {
		if r.id == id {
			return i
		}
	}
	return -1
}

func (m *Model) progress(p Progress) {
	i := m.runningIndex(p.ID)
	if i < 0 {
		m.running = append(m.running, &running{id: p.ID, label: p.ID})
		i = len(m.running) - 1
		m.addLog("ceremony " + p.ID + " started")
	}
	r := m.running[i]
	r.round, r.rounds, r.elapsed, r.approved, r.step = p.Round, p.Rounds, p.Elapsed, false, p.Step
	r.waiting = printableAll(p.Waiting, 100)
}

func (m *Model) done(d Done) {
	if i := m.runningIndex(d.ID); i >= 0 {
		m.running = append(m.running[:i:i], m.running[i+1:]...)
	}
	status := "failed"
	if d.OK {
		status = "done"
	}
	text := "ceremony " + d.ID + " " + status
	if d.Text != "" {
		text += ": " + d.Text
	}
	m.addLog(text)
}

// background counts a background ceremony in its wallet's pool and
// rewrites that wallet's one log line.
func (m *Model) background(b Background) {
	if i := m.runningIndex(b.ID); i >= 0 {
		// the holder approved it (the first of a batch): from now on it
		// is counted with the others
		m.running = append(m.running[:i:i], m.running[i+1:]...)
	}
	var p *pool
	for i, q := range m.pools {
		if q.walletID == b.WalletID {
			// copy on write: an earlier Model value keeps its pools
			c := *q
			c.running = maps.Clone(q.running)
			p, m.pools = &c, slices.Clone(m.pools)
			m.pools[i] = p
		}
	}
	if p == nil {
		p = &pool{walletID: b.WalletID, wallet: b.Wallet, running: map[string]bool{}}
		m.pools = append(slices.Clone(m.pools), p)
	}
	if b.Wallet != "" {
		p.wallet = b.Wallet
	}
	switch b.State {
	case BackgroundApproved:
		p.running[b.ID] = true
		if b.Text != "" {
			p.approved = b.Text
		}
	case BackgroundStarted:
		p.running[b.ID] = true
	case BackgroundDone:
		delete(p.running, b.ID)
		p.made++
	case BackgroundFailed:
		delete(p.running, b.ID)
		p.failed++
		p.lastErr = b.Text
	}
	m.addKeyedLog(p.line(), "presign/"+b.WalletID)
}

// line is the pool's log line: "presign treasury: 12 made, 1 running ·
// auto-approved: batch b1 approved by the holder (27 more)". What matters
// most comes first: a narrow screen cuts the end.
func (p *pool) line() string {
	text := fmt.Sprintf("presign %s: %d made", p.wallet, p.made)
	if n := len(p.running); n > 0 {
		text += fmt.Sprintf(", %d running", n)
	}
	if p.failed > 0 {
		text += fmt.Sprintf(", %d failed", p.failed)
		if p.lastErr != "" {
			text += " (last: " + p.lastErr + ")"
		}
	}
	if p.approved != "" {
		text += " · auto-approved: " + p.approved
	}
	return text
}

func (m Model) currentRequest() (Request, bool) {
	if i := m.find(m.current); i >= 0 {
		return m.pending[i], true
	}
	return Request{}, false
}

func (m Model) send(d Decision) tea.Cmd {
	decide := m.decide
	if decide == nil {
		return nil
	}
	return func() tea.Msg {
		decide(d)
		return nil
	}
}

// keys handles a key message. The terminal may deliver several typed keys
// at once ("ay" typed quickly): each counts as its own press, in order. A
// paste is text, never key presses: it can fill in a reason, and does
// nothing anywhere else.
func (m Model) keys(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if k.Type != tea.KeyRunes || len(k.Runes) <= 1 && !k.Paste {
		return m.key(k)
	}
	if k.Paste {
		if m.mode == modeReason {
			return m.key(k)
		}
		return m, nil
	}
	var cmds []tea.Cmd
	var model tea.Model = m
	for _, r := range k.Runes {
		var cmd tea.Cmd
		model, cmd = model.(Model).key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		if cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	switch len(cmds) {
	case 0:
		return model, nil
	case 1:
		return model, cmds[0]
	}
	return model, tea.Batch(cmds...)
}

func (m Model) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch m.mode {
	case modeReason:
		return m.keyReason(k)
	case modeConfirmApprove:
		return m.keyConfirmApprove(k)
	case modeConfirmQuit:
		if k.String() == "y" || k.String() == "Y" {
			m.quitting = true
			return m, tea.Quit
		}
		m.mode = m.prev
		return m, nil
	case modeHelp:
		switch k.String() {
		case "?", "esc", "q":
			m.mode = m.prev
		case "ctrl+c":
			return m.quit()
		}
		return m, nil
	}

	switch k.String() {
	case "q", "ctrl+c":
		return m.quit()
	case "?":
		m.prev, m.mode = m.mode, modeHelp
		return m, nil
	}

	if m.mode == modeDetail {
		switch k.String() {
		case "esc", "backspace", "left", "h":
			m.mode, m.current = modeInbox, ""
		case "a":
			m.mode = modeConfirmApprove
		case "r":
			m.mode, m.reason = modeReason, nil
		}
		return m, nil
	}

	// modeInbox
	switch k.String() {
	case "up", "k":
		if m.selected > 0 {
			m.selected--
		}
	case "down", "j":
		if m.selected < len(m.pending)-1 {
			m.selected++
		}
	case "enter", "right", "l":
		if len(m.pending) > 0 {
			m.mode, m.current = modeDetail, m.pending[m.selected].ID
		}
	case "a":
		// Approval is always confirmed in front of the detail view, SAS included.
		if len(m.pending) > 0 {
			m.mode, m.current = modeConfirmApprove, m.pending[m.selected].ID
		}
	case "r":
		if len(m.pending) > 0 {
			m.mode, m.current, m.reason = modeReason, m.pending[m.selected].ID, nil
		}
	}
	return m, nil
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	if m.Running() {
		m.prev, m.mode = m.mode, modeConfirmQuit
		return m, nil
	}
	m.quitting = true
	return m, tea.Quit
}

func (m Model) keyConfirmApprove(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if k.String() != "y" {
		// esc, n or any other key: back to the detail view, nothing sent.
		m.mode = modeDetail
		return m, nil
	}
	r, ok := m.currentRequest()
	if !ok {
		m.mode = modeInbox
		return m, nil
	}
	m.remove(r.ID)
	m.mode, m.current = modeInbox, ""
	m.running = append(m.running, &running{id: r.ID, label: string(r.Kind) + " " + walletLabel(r), approved: true})
	m.addLog(fmt.Sprintf("approved %s %s for %s%s", r.Kind, r.ID, walletLabel(r), batchNote(r)))
	return m, m.send(Decision{ID: r.ID, Approve: true})
}

func (m Model) keyReason(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.Type {
	case tea.KeyEsc:
		m.reason = nil
		if m.find(m.current) >= 0 {
			m.mode = modeDetail
		} else {
			m.mode = modeInbox
		}
		return m, nil
	case tea.KeyCtrlC:
		m.reason = nil
		m.mode = modeDetail
		return m.quit()
	case tea.KeyEnter:
		r, ok := m.currentRequest()
		reason := string(m.reason)
		m.reason = nil
		if !ok {
			m.mode = modeInbox
			return m, nil
		}
		m.remove(r.ID)
		m.mode, m.current = modeInbox, ""
		text := fmt.Sprintf("rejected %s %s for %s", r.Kind, r.ID, walletLabel(r))
		if reason != "" {
			text += ": " + reason
		}
		m.addLog(text)
		return m, m.send(Decision{ID: r.ID, Approve: false, Reason: reason})
	case tea.KeyBackspace:
		if len(m.reason) > 0 {
			m.reason = m.reason[:len(m.reason)-1]
		}
	case tea.KeySpace:
		if len(m.reason) < maxReason {
			m.reason = append(m.reason, ' ')
		}
	case tea.KeyRunes:
		for _, r := range k.Runes {
			if len(m.reason) < maxReason && r >= ' ' && r != 0x7f {
				m.reason = append(m.reason, r)
			}
		}
	}
	return m, nil
}

// batchNote marks a request that opens a presign batch.
func batchNote(r Request) string {
	if r.Kind == KindPresign && r.Batch > 1 {
		return fmt.Sprintf(" (batch of %d)", r.Batch)
	}
	return ""
}

func walletLabel(r Request) string {
	if r.WalletName != "" {
		return r.WalletName
	}
	return r.WalletID
}

// maxLogText bounds a log line's text, in runes (the view cuts it to the
// screen's width too).
const maxLogText = 300

// printable is s as one line the terminal shows as text: newlines, tabs
// and carriage returns become spaces, every other control character (C0,
// C1 such as the 8-bit CSI, DEL) and every unprintable rune is dropped, so
// text from another party (an abort's or a rejection's reason) can neither
// move the cursor, clear or retitle the screen nor add lines of its own
// (SECURITY.md release case 16); it is cut to max runes. The model applies
// it to everything it is given, whatever its sender already did: the view's
// line cutting (ansi.Truncate) keeps escape sequences, as it must for the
// model's own styles.
func printable(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			r = ' '
		case !unicode.IsPrint(r):
			continue
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// printable is r with every text field made printable (see printable).
func (r Request) printable() Request {
	const max = 500
	for _, f := range []*string{&r.ID, &r.WalletID, &r.WalletName, &r.Chain, &r.Operator, &r.Digest, &r.Summary, &r.SAS,
		&r.Initiator.Name, &r.Initiator.Fingerprint} {
		*f = printable(*f, max)
	}
	r.Parties = printableAll(r.Parties, max)
	r.Signers = printableAll(r.Signers, max)
	return r
}

func printableAll(ss []string, max int) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = printable(s, max)
	}
	return out
}
