package approvals

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// View implements tea.Model. It renders from the model's clock only.
func (m Model) View() string {
	if m.quitting {
		return ""
	}
	w := m.width
	if w <= 0 {
		w = 80
	}
	var lines []string
	lines = append(lines, m.headerLine())
	if l, ok := m.presignaturesLine(); ok {
		lines = append(lines, l)
	}
	lines = append(lines, strings.Repeat("─", w))

	switch m.mode {
	case modeHelp:
		lines = append(lines, m.helpLines()...)
	case modeDetail, modeConfirmApprove, modeReason:
		if r, ok := m.currentRequest(); ok {
			lines = append(lines, m.detailLines(r, w)...)
		} else {
			lines = append(lines, m.inboxLines(w)...)
		}
	case modeConfirmQuit:
		if m.prev == modeInbox {
			lines = append(lines, m.inboxLines(w)...)
		} else if r, ok := m.currentRequest(); ok {
			lines = append(lines, m.detailLines(r, w)...)
		} else {
			lines = append(lines, m.inboxLines(w)...)
		}
	default:
		lines = append(lines, m.inboxLines(w)...)
	}

	if m.mode != modeHelp {
		lines = append(lines, "")
		lines = append(lines, m.runningLines()...)
		lines = append(lines, "")
		lines = append(lines, m.logLines()...)
	}
	lines = append(lines, strings.Repeat("─", w), m.footer())

	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "…")
	}
	return strings.Join(lines, "\n")
}

func (m Model) headerLine() string {
	s := m.styles
	state := s.Warn.Render("disconnected")
	if m.connected {
		state = s.Good.Render("connected")
	}
	wallets := fmt.Sprintf("%d wallets", m.header.Wallets)
	if m.header.Wallets == 1 {
		wallets = "1 wallet"
	}
	// The relay address comes last: it is what a narrow terminal cuts.
	return fmt.Sprintf("%s %s · %s · %s · relay %s",
		s.Title.Render(m.header.Operator), s.Dim.Render("("+m.header.Fingerprint+")"),
		state, wallets, m.header.Relay)
}

// presignaturesLine is the status line of the presignature pools:
// "presignatures: treasury 37 ready (1 in progress) · ops 4 ready". It is
// shown once a wallet has presignatures or a presign ceremony ran here.
func (m Model) presignaturesLine() (string, bool) {
	show := len(m.pools) > 0
	var parts []string
	shown := map[string]bool{}
	for _, c := range m.counts {
		show = show || c.Left > 0
		part := fmt.Sprintf("%s %d ready", c.Wallet, c.Left)
		if p := m.pool(c.WalletID); p != nil && len(p.running) > 0 {
			part += fmt.Sprintf(" (%d in progress)", len(p.running))
		}
		parts = append(parts, part)
		shown[c.WalletID] = true
	}
	for _, p := range m.pools {
		if !shown[p.walletID] && len(p.running) > 0 {
			parts = append(parts, fmt.Sprintf("%s %d in progress", p.wallet, len(p.running)))
		}
	}
	if !show || len(parts) == 0 {
		return "", false
	}
	return m.styles.Dim.Render("presignatures: ") + strings.Join(parts, " · "), true
}

func (m Model) pool(walletID string) *pool {
	for _, p := range m.pools {
		if p.walletID == walletID {
			return p
		}
	}
	return nil
}

func (m Model) inboxLines(w int) []string {
	s := m.styles
	out := []string{s.Title.Render(fmt.Sprintf("Inbox (%d)", len(m.pending)))}
	if len(m.pending) == 0 {
		return append(out, s.Dim.Render("  no requests waiting"))
	}
	wallet := 14
	if w < 70 {
		wallet = 10
	}
	for i, r := range m.pending {
		row := fmt.Sprintf("%-7s %-*s %-10s %9s  %s",
			r.Kind, wallet, clip(walletLabel(r), wallet), clip(r.Initiator.Name, 10),
			fmtDur(m.now.Sub(r.Received))+" ago", m.countdown(r.Deadline))
		if i == m.selected {
			out = append(out, s.Selected.Render("> "+row))
		} else {
			out = append(out, "  "+row)
		}
	}
	return out
}

func (m Model) countdown(deadline time.Time) string {
	if deadline.IsZero() {
		return "no deadline"
	}
	left := deadline.Sub(m.now)
	if left <= 0 {
		return m.styles.Warn.Render("expired")
	}
	return "expires in " + fmtDur(left)
}

func (m Model) detailLines(r Request, w int) []string {
	s := m.styles
	var out []string
	// field wraps long values (what is being signed must be read whole, never
	// cut) under an indent, breaking inside words such as a digest when needed.
	const indent = 13
	field := func(name, value string) {
		limit := max(w-indent, 16)
		for i, l := range strings.Split(ansi.Wrap(value, limit, ""), "\n") {
			if i == 0 {
				out = append(out, fmt.Sprintf("  %-10s %s", name, l))
			} else {
				out = append(out, strings.Repeat(" ", indent)+l)
			}
		}
	}
	out = append(out, s.Title.Render(fmt.Sprintf("%s request %s", r.Kind, r.ID)))
	wallet := walletLabel(r)
	if r.WalletName != "" && r.WalletID != "" {
		wallet += " (" + r.WalletID + ")"
	}
	if r.Chain != "" {
		wallet += " on " + r.Chain
	}
	field("wallet", wallet)
	initiator := r.Initiator.Name
	if r.Initiator.Fingerprint != "" {
		initiator += " (" + r.Initiator.Fingerprint + ")"
	}
	if r.Operator != "" {
		initiator += ", " + r.Operator
	}
	field("initiator", initiator)
	signers := strings.Join(r.Parties, ", ")
	if r.Required > 0 {
		signers += fmt.Sprintf("  (%d of %d required)", r.Required, len(r.Parties))
	}
	if r.Kind == KindPresign && len(r.Signers) > 0 {
		signers = strings.Join(r.Signers, ", ")
		if len(r.Parties) > 0 {
			signers += "  (of " + strings.Join(r.Parties, ", ") + ")"
		}
	}
	field("signers", signers)
	if r.Kind == KindPresign {
		field("what", "make presignatures for one-round signing with "+strings.Join(r.Signers, ", ")+
			s.Dim.Render("  (they sign nothing yet: each lets these signers sign once, later, in one round)"))
		if r.Batch > 1 {
			field("batch", fmt.Sprintf("batch of %d: approving approves all %d", r.Batch, r.Batch))
		}
	}
	if r.Summary != "" {
		field("what", r.Summary)
	}
	if r.Digest != "" {
		field("digest", r.Digest)
	}
	if r.Summary == "" && r.Digest == "" && r.Kind != KindPresign {
		field("what", s.Dim.Render("nothing to show: "+string(r.Kind)+" carries no payload"))
	}
	field("SAS", s.Title.Render(r.SAS)+s.Dim.Render("  compare with the other holders"))
	field("received", fmtDur(m.now.Sub(r.Received))+" ago · "+m.countdown(r.Deadline))
	return out
}

func (m Model) runningLines() []string {
	s := m.styles
	out := []string{s.Title.Render(fmt.Sprintf("Running (%d)", len(m.running)))}
	if len(m.running) == 0 {
		return append(out, s.Dim.Render("  no ceremonies running"))
	}
	for _, r := range m.running {
		if r.approved {
			out = append(out, fmt.Sprintf("  %s  approved, waiting for the ceremony to start", r.label))
			continue
		}
		step := "round"
		if r.step != "" {
			step = r.step + " round"
		}
		line := fmt.Sprintf("  %s  %s %s %d of %d  elapsed %s", r.label, bar(r.round, r.rounds, 10), step, r.round, r.rounds, fmtDur(r.elapsed))
		if len(r.waiting) > 0 {
			line += "  waiting for " + strings.Join(r.waiting, ", ")
		}
		out = append(out, line)
	}
	return out
}

func (m Model) logLines() []string {
	s := m.styles
	out := []string{s.Title.Render("Log")}
	if len(m.log) == 0 {
		return append(out, s.Dim.Render("  nothing yet"))
	}
	for _, e := range m.log {
		out = append(out, "  "+s.Dim.Render(e.at.UTC().Format("15:04:05"))+" "+e.text)
	}
	return out
}

func (m Model) helpLines() []string {
	return []string{
		m.styles.Title.Render("Keys"),
		"  up/down, k/j   move in the inbox",
		"  enter          show the selected request",
		"  a then y       approve (any other key cancels)",
		"  r              reject, with an optional reason (enter sends, esc cancels)",
		"  esc            back to the inbox",
		"  ?              this help (? or esc closes it)",
		"  q              quit (asks while a ceremony is running)",
		"",
		"Compare the SAS with the other holders before approving: the same",
		"string on every screen rules out a relay in the middle.",
	}
}

func (m Model) footer() string {
	s := m.styles
	switch m.mode {
	case modeConfirmApprove:
		r, _ := m.currentRequest()
		if r.Kind == KindPresign && r.Batch > 1 {
			return s.Warn.Render(fmt.Sprintf("approve all %d presign requests of the batch for %s? y confirm · esc cancel", r.Batch, walletLabel(r)))
		}
		return s.Warn.Render(fmt.Sprintf("approve %s for %s? y confirm · esc cancel", r.Kind, walletLabel(r)))
	case modeReason:
		return "reject reason (optional, enter sends, esc cancels): " + string(m.reason) + "_"
	case modeConfirmQuit:
		return s.Warn.Render("a ceremony is running: quit anyway? y/N")
	case modeHelp:
		return "? or esc close help"
	case modeDetail:
		return "a approve · r reject · esc back · ? help · q quit"
	}
	return "enter detail · a approve · r reject · ? help · q quit"
}

// fmtDur renders a duration coarsely: 45s, 2m05s, 1h02m; never negative.
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// bar renders an ASCII progress bar of width cells for round i of n.
func bar(i, n, width int) string {
	if n <= 0 {
		return "[" + strings.Repeat("-", width) + "]"
	}
	filled := i * width / n
	filled = max(0, min(filled, width))
	return "[" + strings.Repeat("#", filled) + strings.Repeat("-", width-filled) + "]"
}

// clip shortens s to at most n cells, marking the cut.
func clip(s string, n int) string {
	return ansi.Truncate(s, n, "…")
}
