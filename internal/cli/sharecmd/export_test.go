package sharecmd

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/control"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
)

// The release time is shown in whole seconds rounded up: whoever waits
// until the time shown finds the export released.
func TestExportAvailableAtIsNeverEarly(t *testing.T) {
	created := time.Date(2026, 11, 21, 13, 15, 29, 462_000_000, time.UTC)
	bex := &control.BackupExport{ID: "bex_x", CreatedAt: created, AvailableAt: created.Add(3 * time.Second)}
	w := &home.Wallet{ID: "wal_x"}

	ios, _, out, _ := iostreams.Test()
	if err := printExport(&exportOptions{IO: ios, Format: output.FormatJSON}, "requested", bex, w, nil); err != nil {
		t.Fatal(err)
	}
	var j exportJSON
	if err := json.Unmarshal(out.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339, j.AvailableAt)
	if err != nil || at.Before(bex.AvailableAt) || at.Sub(bex.AvailableAt) >= time.Second {
		t.Fatalf("available_at %q for a release at %s", j.AvailableAt, bex.AvailableAt)
	}

	ios, _, out, _ = iostreams.Test()
	if err := printExport(&exportOptions{IO: ios}, "requested", bex, w, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "available after 2026-11-21 13:15:33 UTC (3s delay)") {
		t.Fatalf("table output: %q", out.String())
	}
}
