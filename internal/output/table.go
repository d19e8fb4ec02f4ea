package output

import (
	"bytes"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// columnGap separates columns, as in kubectl's tables.
const columnGap = "   "

// Table writes rows under header in the paratro table style: no borders, no
// column or header rules, the header as given (callers write it in upper
// case), every cell left-aligned and verbatim (no wrapping, no trimming, no
// merging), columns three spaces apart, no trailing spaces and no colour:
//
//	NAME      CHAIN      ADDRESS
//	hot-eth   ethereum   0x9f…
//
// An empty rows prints the header alone. The look does not depend on the
// terminal, the locale or the environment.
func Table(w io.Writer, header []string, rows [][]string) error {
	return render(w, header, rows)
}

// KeyValues writes one object as two aligned columns, keys then values, with
// no header: the table form of "show" commands.
//
//	Name      hot-eth
//	Address   0x9f…
func KeyValues(w io.Writer, pairs [][2]string) error {
	rows := make([][]string, len(pairs))
	for i, p := range pairs {
		rows[i] = []string{p[0], p[1]}
	}
	return render(w, nil, rows)
}

// render draws the table into a buffer with the pinned style and copies it
// to w with trailing spaces cut from every line.
func render(w io.Writer, header []string, rows [][]string) error {
	var buf bytes.Buffer
	t := newTable(&buf)
	if len(header) > 0 {
		t.Header(header)
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := io.WriteString(w, trimLines(buf.String()))
	return err
}

// newTable pins every tablewriter setting that affects the output, so that
// a tablewriter default changing in a later release shows up as a golden
// test failure rather than as a silent change for scripts.
func newTable(w io.Writer) *tablewriter.Table {
	style := renderer.NewBlueprint(tw.Rendition{
		Borders: tw.BorderNone,
		Symbols: tw.NewSymbols(tw.StyleNone),
		Settings: tw.Settings{
			Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
			Lines:      tw.Lines{ShowHeaderLine: tw.Off, ShowFooterLine: tw.Off},
		},
	})
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(style),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: columnGap, Overwrite: true}),
		// Ambiguous-width characters count as one column whatever the locale.
		tablewriter.WithEastAsian(tw.Off),
	)
}

// trimLines removes trailing spaces from every line of s.
func trimLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		body, nl := strings.CutSuffix(l, "\n")
		b.WriteString(strings.TrimRight(body, " "))
		if nl {
			b.WriteString("\n")
		}
	}
	return b.String()
}
