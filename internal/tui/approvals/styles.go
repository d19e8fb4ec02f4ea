package approvals

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are the few looks the view uses.
type Styles struct {
	Title    lipgloss.Style
	Selected lipgloss.Style
	Dim      lipgloss.Style
	Good     lipgloss.Style
	Warn     lipgloss.Style
	Key      lipgloss.Style
}

// DefaultStyles returns the coloured styles for renderer r (which decides the
// colour profile from the terminal it writes to).
func DefaultStyles(r *lipgloss.Renderer) Styles {
	return Styles{
		Title:    r.NewStyle().Bold(true),
		Selected: r.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		Dim:      r.NewStyle().Faint(true),
		Good:     r.NewStyle().Foreground(lipgloss.Color("10")),
		Warn:     r.NewStyle().Foreground(lipgloss.Color("11")).Bold(true),
		Key:      r.NewStyle().Bold(true),
	}
}

// PlainStyles returns styles that emit no escape sequences at all: the same
// styles on a renderer fixed to the ASCII profile. Tests and dumb terminals use it.
func PlainStyles() Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return DefaultStyles(r)
}
