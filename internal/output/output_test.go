package output_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/paratro/paratro/internal/cli/clitest"
	"github.com/paratro/paratro/internal/output"
)

func TestFormatAcceptsOnlyTableAndJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    output.Format
		wantErr string
	}{
		{"table", output.FormatTable, ""},
		{"json", output.FormatJSON, ""},
		{"JSON", "", `must be "table" or "json"`},
		{"yaml", "", `must be "table" or "json"`},
		{"", "", `must be "table" or "json"`},
	}
	for _, tt := range tests {
		t.Run("set "+tt.in, func(t *testing.T) {
			f := output.FormatTable
			err := f.Set(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Set(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				if f != output.FormatTable {
					t.Errorf("a refused value changed the format to %q", f)
				}
				return
			}
			if err != nil || f != tt.want || f.String() != tt.in {
				t.Errorf("Set(%q) = %v, format %q; want %q", tt.in, err, f, tt.want)
			}
		})
	}
	var f output.Format
	if f.Type() != "format" {
		t.Errorf("Type() = %q, want format", f.Type())
	}
}

func TestJSONIsIndentedWithTrailingNewlineAndNoHTMLEscapes(t *testing.T) {
	type wallet struct {
		Name      string   `json:"name"`
		Threshold string   `json:"threshold"`
		Parties   []string `json:"parties"`
		Note      string   `json:"note,omitempty"`
	}
	var buf bytes.Buffer
	err := output.JSON(&buf, []wallet{
		{Name: "hot-eth", Threshold: "2-of-3", Parties: []string{"alice", "bob", "carol"}, Note: "a<b & c>d"},
		{Name: "cold-btc", Threshold: "3-of-5", Parties: []string{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	clitest.Golden(t, "json", buf.Bytes())
}

func TestTableIsBorderlessLeftAlignedAndTrimmed(t *testing.T) {
	var buf bytes.Buffer
	err := output.Table(&buf, []string{"NAME", "wallet_id", "THRESHOLD", "ADDRESS"}, [][]string{
		{"hot-eth", "w_01", "2-of-3", "0x9f2c4a1b7e3d5f6a8b9c0d1e2f3a4b5c6d7e8f90"},
		{"cold btc", "w_02", "3-of-5", "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"},
		{"same", "w_03", "2-of-2", ""},
		{"same", "w_04", "2-of-2", "a very long value that must neither wrap nor be cut at any terminal width whatsoever"},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertNoTrailingSpace(t, buf.String())
	clitest.Golden(t, "table", buf.Bytes())
}

func TestTableWithoutRowsPrintsTheHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := output.Table(&buf, []string{"NAME", "CHAIN"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "NAME   CHAIN\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestKeyValuesAlignsTwoColumnsWithoutHeader(t *testing.T) {
	var buf bytes.Buffer
	err := output.KeyValues(&buf, [][2]string{
		{"Name", "hot-eth"},
		{"Threshold", "2-of-3"},
		{"Public key", "02a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"},
		{"Note", ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertNoTrailingSpace(t, buf.String())
	clitest.Golden(t, "keyvalues", buf.Bytes())
}

func assertNoTrailingSpace(t *testing.T, s string) {
	t.Helper()
	for i, l := range strings.Split(s, "\n") {
		if strings.TrimRight(l, " ") != l {
			t.Errorf("line %d has trailing spaces: %q", i+1, l)
		}
	}
}
