// Package exitcode is the one place where paratro turns an error into the
// process exit status. Scripts rely on these numbers: add codes, never
// renumber them.
package exitcode

import (
	"context"
	"errors"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/backup"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/relay"
)

// The exit statuses of paratro.
const (
	// OK: the command did what was asked.
	OK = 0
	// Failure: anything not listed below.
	Failure = 1
	// Usage: a bad command line or an invalid ceremony request; nothing was started.
	Usage = 2
	// Rejected: a party rejected the request (by hand or by its policy).
	Rejected = 3
	// MFARequired: the operation needs a TOTP code and none was given, or
	// the operator has not enrolled one.
	MFARequired = 4
	// MFAFailed: the TOTP code was rejected (wrong, malformed or already
	// used), or the operator is locked out.
	MFAFailed = 5
	// AccessRefused: the relay refused the caller: its role is too low, it
	// is not admitted, the relay has no owner yet, or its API key is
	// invalid or revoked.
	AccessRefused = 6
	// StaleBackup: a share backup is of an older epoch than the wallet's
	// (a rotation made it useless), or its wallet was destroyed.
	StaleBackup = 7
	// Misbehaviour: a ceremony was aborted because a party sent an invalid
	// or conflicting message; the error names the culprit, and every
	// honest party's audit log holds the evidence. Nothing new was stored.
	Misbehaviour = 8
	// TimedOut: a ceremony did not finish before its deadline.
	TimedOut = 124
	// Interrupted: the run was interrupted (SIGINT or SIGTERM).
	Interrupted = 130
)

// relayCodes maps the relay's API error codes to exit statuses.
var relayCodes = map[string]int{
	"mfa_required":     MFARequired,
	"mfa_not_enrolled": MFARequired,
	"mfa_invalid":      MFAFailed,
	"mfa_reused":       MFAFailed,
	"mfa_locked":       MFAFailed,
	"forbidden":        AccessRefused,
	"not_admitted":     AccessRefused,
	"no_owner":         AccessRefused,
	"invalid_api_key":  AccessRefused,
	"api_key_revoked":  AccessRefused,
}

// For returns the exit status for err, the error a command returned. The
// order matters: an error that matches several rows gets the first.
func For(err error) int {
	var api *relay.APIError
	switch {
	case err == nil:
		return OK
	case cmdutil.IsUsageError(err):
		return Usage
	case errors.Is(err, coord.ErrRejected):
		return Rejected
	case errors.Is(err, cmdutil.ErrOTPRequired):
		return MFARequired
	case errors.Is(err, cmdutil.ErrOTPMalformed):
		return MFAFailed
	case errors.As(err, &api) && relayCodes[api.Code] != 0:
		return relayCodes[api.Code]
	case errors.Is(err, backup.ErrStale):
		return StaleBackup
	case errors.Is(err, ceremony.ErrMisbehaviour):
		// Before the timeout: a culprit named by one party says more than
		// another party's wait for the ceremony that culprit broke.
		return Misbehaviour
	case errors.Is(err, ceremony.ErrTimeout):
		return TimedOut
	case errors.Is(err, ceremony.ErrInvalid):
		return Usage
	case errors.Is(err, context.Canceled):
		// Commands run under a context that only an interrupt cancels.
		return Interrupted
	}
	return Failure
}

// Help is the text of "paratro help exit-codes".
const Help = `paratro exits with one of these statuses, so that scripts can tell
failures apart without reading stderr:

  0    success
  1    failure not listed below
  2    usage: unknown command or flag, bad flag value or arguments, or an
       invalid ceremony request (nothing was started)
  3    the request was rejected by a party (at its prompt or by its policy)
  4    an MFA (TOTP) code is required: none was given (set PARATRO_OTP or
       pass --otp-stdin when there is no terminal), or the operator has
       not enrolled TOTP yet (paratro mfa enroll)
  5    the MFA code was rejected (wrong, malformed or already used), or
       the operator is locked out after too many wrong codes
  6    access refused by the relay: the operator's role does not allow it,
       the identity is not admitted, the relay has no owner yet, or the
       API key is invalid or revoked
  7    a share backup is stale: it holds an older epoch than the wallet's
       (keys were rotated since it was exported) or the wallet was
       destroyed; export a new one (share backup verify, share restore)
  8    a ceremony was aborted because a party misbehaved: it sent an
       invalid proof, a malformed message or two different messages for
       one round; the message names the culprit, the honest parties'
       audit logs hold the evidence, and nothing new was stored
  124  a ceremony timed out (the message names the parties it waited for)
  130  interrupted by SIGINT or SIGTERM

A crash of paratro itself (a Go panic, a bug) also exits 2, with a Go
traceback on stderr instead of a "paratro: error:" line; the traceback
holds no secret. A party that crashed gives up its ceremonies when it is
started again, and the other parties are told.

Errors are printed on stderr as "paratro: error: <message>", followed by
"paratro: hint: ..." lines when paratro knows what to do next. Set
PARATRO_DEBUG=1 to also print each wrapped cause as "paratro: debug: ...".`
