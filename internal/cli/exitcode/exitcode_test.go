package exitcode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/cli/cmdutil"
)

func TestForMapsErrorsToStatuses(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"success exits 0", nil, OK},
		{"an unclassified failure exits 1", errors.New("relay unreachable"), Failure},
		{"a flag error exits 2", cmdutil.FlagErrorf("bad --threshold"), Usage},
		{"a wrapped flag error exits 2", fmt.Errorf("wallet create: %w", cmdutil.FlagErrorf("bad")), Usage},
		{"cobra's unknown command exits 2", errors.New(`unknown command "walet" for "paratro"`), Usage},
		{"cobra's unknown flag exits 2", errors.New("unknown flag: --bogus"), Usage},
		{"a ceremony timeout exits 124", &ceremony.Error{Code: ceremony.CodeTimeout}, TimedOut},
		{"a wrapped ceremony timeout exits 124", fmt.Errorf("wallet create: %w", &ceremony.Error{Code: ceremony.CodeTimeout}), TimedOut},
		{"the timeout sentinel exits 124", ceremony.ErrTimeout, TimedOut},
		{"an invalid ceremony request exits 2", fmt.Errorf("wallet sign: %w", &ceremony.Error{Code: ceremony.CodeInvalid}), Usage},
		{"a misbehaving party exits 1", &ceremony.Error{Code: ceremony.CodeMisbehaviour}, Failure},
		{"an aborted ceremony exits 1", &ceremony.Error{Code: ceremony.CodeAborted}, Failure},
		{"a transport failure exits 1", &ceremony.Error{Code: ceremony.CodeTransport}, Failure},
		{"an interrupt exits 130", fmt.Errorf("party run: %w", context.Canceled), Interrupted},
		{"an own deadline is a failure, not an interrupt", context.DeadlineExceeded, Failure},
		{"a timeout wins over a usage-looking cause", fmt.Errorf("unknown: %w", ceremony.ErrTimeout), TimedOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := For(tt.err); got != tt.want {
				t.Errorf("For(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestHelpListsEveryCode(t *testing.T) {
	for _, code := range []int{OK, Failure, Usage, Rejected, MFARequired, MFAFailed, TimedOut, Interrupted} {
		if !strings.Contains(Help, fmt.Sprintf("\n  %-4d ", code)) {
			t.Errorf("Help does not list exit status %d", code)
		}
	}
}
