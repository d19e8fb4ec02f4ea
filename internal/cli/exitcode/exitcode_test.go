package exitcode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/backup"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/relay"
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
		{"a misbehaving party exits 8", &ceremony.Error{Code: ceremony.CodeMisbehaviour}, Misbehaviour},
		{"a relayed failure naming a culprit exits 8", fmt.Errorf("wallet sign: %w", &coord.FailedError{Failures: map[string]*coord.Outcome{"ana": {Code: "misbehaviour", Culprits: []string{"fp"}}}}), Misbehaviour},
		{"a relayed failure without culprit exits 1", &coord.FailedError{Failures: map[string]*coord.Outcome{"ana": {Code: "internal"}}}, Failure},
		{"a culprit wins over another party's timeout", &ceremony.Error{Code: ceremony.CodeMisbehaviour, Err: ceremony.ErrTimeout}, Misbehaviour},
		{"an aborted ceremony exits 1", &ceremony.Error{Code: ceremony.CodeAborted}, Failure},
		{"a transport failure exits 1", &ceremony.Error{Code: ceremony.CodeTransport}, Failure},
		{"an interrupt exits 130", fmt.Errorf("party run: %w", context.Canceled), Interrupted},
		{"an own deadline is a failure, not an interrupt", context.DeadlineExceeded, Failure},
		{"a timeout wins over a usage-looking cause", fmt.Errorf("unknown: %w", ceremony.ErrTimeout), TimedOut},
		{"no TOTP code to be had exits 4", cmdutil.WithHint(cmdutil.ErrOTPRequired, "x"), MFARequired},
		{"a malformed TOTP code exits 5", fmt.Errorf("%w: the code from PARATRO_OTP must be 6 digits", cmdutil.ErrOTPMalformed), MFAFailed},
		{"the relay asking for a code exits 4", api("mfa_required"), MFARequired},
		{"an operator without TOTP exits 4", api("mfa_not_enrolled"), MFARequired},
		{"a wrong code exits 5", fmt.Errorf("rotate-keys: post the request to the relay: %w", api("mfa_invalid")), MFAFailed},
		{"a reused code exits 5", api("mfa_reused"), MFAFailed},
		{"a locked-out operator exits 5", api("mfa_locked"), MFAFailed},
		{"a role too low exits 6", api("forbidden"), AccessRefused},
		{"an identity not admitted exits 6", cmdutil.WithHint(api("not_admitted"), "x"), AccessRefused},
		{"a relay without owner exits 6", api("no_owner"), AccessRefused},
		{"an invalid API key exits 6", api("invalid_api_key"), AccessRefused},
		{"a revoked API key exits 6", api("api_key_revoked"), AccessRefused},
		{"a stale share backup exits 7", fmt.Errorf("share restore: %w: epoch 1, the wallet is at 2", backup.ErrStale), StaleBackup},
		{"other relay refusals exit 1", api("last_owner"), Failure},
		{"a relay refusal without a code exits 1", &relay.APIError{Status: 502, Message: "bad gateway"}, Failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := For(tt.err); got != tt.want {
				t.Errorf("For(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func api(code string) error { return &relay.APIError{Status: 403, Code: code, Message: "refused"} }

func TestHelpListsEveryCode(t *testing.T) {
	for _, code := range []int{OK, Failure, Usage, Rejected, MFARequired, MFAFailed, AccessRefused, StaleBackup, TimedOut, Interrupted} {
		if !strings.Contains(Help, fmt.Sprintf("\n  %-4d ", code)) {
			t.Errorf("Help does not list exit status %d", code)
		}
	}
	if strings.Contains(Help, "reserved") {
		t.Error("Help still calls a status reserved")
	}
}

func TestEveryRelayCodeMapsToADocumentedStatus(t *testing.T) {
	for code, status := range relayCodes {
		if !strings.Contains(Help, fmt.Sprintf("\n  %-4d ", status)) {
			t.Errorf("relay code %s maps to %d, which Help does not list", code, status)
		}
	}
}
