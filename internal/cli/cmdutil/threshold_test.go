package cmdutil

import (
	"errors"
	"strings"
	"testing"
)

func TestParseThreshold(t *testing.T) {
	good := map[string][2]int{"2-of-3": {2, 3}, "3-of-5": {3, 5}, " 2OF3 ": {2, 3}, "2/2": {2, 2}, "64-of-64": {64, 64}}
	for in, want := range good {
		r, n, err := ParseThreshold("threshold", in)
		if err != nil || r != want[0] || n != want[1] {
			t.Errorf("ParseThreshold(%q) = %d, %d, %v; want %v", in, r, n, err, want)
		}
	}
	bad := map[string]string{
		"1-of-3":  "required must be at least 2",
		"4-of-3":  "required must be between 2 and total (3)",
		"0-of-3":  "required must be between 2 and total",
		"-1-of-3": "required must be between 2 and total (3), got -1",
		"2-of-65": "total must be between 2 and 64",
		"two":     "write it as REQUIRED-of-TOTAL",
		"a-of-b":  "whole numbers",
		"":        "write it as REQUIRED-of-TOTAL",
	}
	for in, want := range bad {
		_, _, err := ParseThreshold("threshold", in)
		var fe *FlagError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--threshold") {
			t.Errorf("ParseThreshold(%q) = %v; want a FlagError about --threshold containing %q", in, err, want)
		}
	}
}
