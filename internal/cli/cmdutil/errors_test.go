package cmdutil

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestFlagErrorKeepsMessageAndChain(t *testing.T) {
	err := FlagErrorf("bad --threshold %q: %w", "4-of-3", fs.ErrInvalid)
	if got, want := err.Error(), `bad --threshold "4-of-3": invalid argument`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrInvalid) {
		t.Error("the wrapped cause is lost")
	}
	if FlagErrorWrap(nil) != nil || WithHint(nil, "x") != nil {
		t.Error("wrapping nil must give nil")
	}
}

func TestIsUsageError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil is not", nil, false},
		{"a FlagError is", FlagErrorf("bad flag"), true},
		{"a wrapped FlagError is", fmt.Errorf("wallet create: %w", FlagErrorf("bad flag")), true},
		{"cobra's unknown command is", errors.New(`unknown command "x" for "paratro"`), true},
		{"cobra's unknown flag is", errors.New("unknown flag: --bogus"), true},
		{"cobra's unknown shorthand flag is", errors.New("unknown shorthand flag: 'z' in -z"), true},
		{"pflag's bad value is", errors.New(`invalid argument "x" for "-o, --output" flag: nope`), true},
		{"cobra's missing flag value is", errors.New("flag needs an argument: --output"), true},
		{"cobra's required flag is", errors.New(`required flag(s) "name" not set`), true},
		{"cobra's ExactArgs is", errors.New("accepts 1 arg(s), received 2"), true},
		{"cobra's MinimumNArgs is", errors.New("requires at least 1 arg(s), only received 0"), true},
		{"cobra's flag groups are", errors.New("if any flags in the group [a b] are set they must all be set; missing [b]"), true},
		{"an ordinary failure is not", errors.New("relay unreachable"), false},
		{"a message merely mentioning a flag is not", errors.New("wallet create: unknown flag: in config"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsUsageError(tt.err); got != tt.want {
				t.Errorf("IsUsageError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestHintsAreCollectedAlongTheChain(t *testing.T) {
	inner := WithHint(errors.New("no identity"), "run 'paratro init --name NAME' first")
	outer := WithHint(fmt.Errorf("wallet create: %w", inner), "or pass --home")
	got := Hints(outer)
	want := []string{"or pass --home", "run 'paratro init --name NAME' first"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Hints() = %q, want %q", got, want)
	}
	if outer.Error() != "wallet create: no identity" {
		t.Errorf("a hint changed the message: %q", outer.Error())
	}
	if Hints(errors.New("plain")) != nil {
		t.Error("a plain error has no hints")
	}
}
