package cmdutil

import (
	"errors"
	"testing"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/output"
)

func TestArgValidatorsReturnFlagErrors(t *testing.T) {
	cmd := &cobra.Command{Use: "show"}
	root := &cobra.Command{Use: "paratro"}
	root.AddCommand(cmd)
	tests := []struct {
		name    string
		check   cobra.PositionalArgs
		args    []string
		wantErr string
	}{
		{"NoArgs accepts none", NoArgs, nil, ""},
		{"NoArgs refuses one", NoArgs, []string{"x"}, `paratro show takes no arguments, got "x"`},
		{"ExactArgs accepts n", ExactArgs(1, "a wallet name"), []string{"hot"}, ""},
		{"ExactArgs refuses fewer", ExactArgs(1, "a wallet name"), nil, "paratro show needs a wallet name"},
		{"ExactArgs refuses more", ExactArgs(1, "a wallet name"), []string{"a", "b"}, "paratro show takes a wallet name, got 2 arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(cmd, tt.args)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var fe *FlagError
			if !errors.As(err, &fe) || err.Error() != tt.wantErr {
				t.Errorf("got %T %v, want FlagError %q", err, err, tt.wantErr)
			}
		})
	}
}

func TestPersistentFlagsAreReadFromSubcommands(t *testing.T) {
	format := output.FormatTable
	var quiet bool
	root := &cobra.Command{Use: "paratro"}
	AddOutputFlag(root, &format)
	AddQuietFlag(root, &quiet)
	var gotFormat output.Format
	var gotQuiet bool
	root.AddCommand(&cobra.Command{Use: "show", RunE: func(cmd *cobra.Command, _ []string) error {
		gotFormat, gotQuiet = OutputFormat(cmd), Quiet(cmd)
		return nil
	}})
	for _, tt := range []struct {
		args       []string
		wantFormat output.Format
		wantQuiet  bool
	}{
		{[]string{"show"}, output.FormatTable, false},
		{[]string{"show", "-o", "json", "-q"}, output.FormatJSON, true},
		{[]string{"--output=json", "show", "--quiet"}, output.FormatJSON, true},
	} {
		format, quiet = output.FormatTable, false
		root.SetArgs(tt.args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if gotFormat != tt.wantFormat || gotQuiet != tt.wantQuiet {
			t.Errorf("%v: format=%q quiet=%v, want %q %v", tt.args, gotFormat, gotQuiet, tt.wantFormat, tt.wantQuiet)
		}
	}
}

func TestFlagReadersDefaultWithoutTheFlags(t *testing.T) {
	cmd := &cobra.Command{Use: "bare"}
	if OutputFormat(cmd) != output.FormatTable || Quiet(cmd) {
		t.Error("a tree without the flags must read as table output, not quiet")
	}
}
