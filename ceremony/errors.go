package ceremony

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// Code classifies a ceremony failure.
type Code string

// The failure codes.
const (
	CodeInvalid      Code = "invalid"      // bad descriptor or input; nothing was started
	CodeTimeout      Code = "timeout"      // the deadline passed; Waiting names who never answered
	CodeMisbehaviour Code = "misbehaviour" // a party sent something this party rejected; Culprits names it
	CodeAborted      Code = "aborted"      // another party aborted the ceremony; ReportedBy names it
	CodeConfirmation Code = "confirmation" // parties did not confirm the same result
	CodeTransport    Code = "transport"    // the transport failed
	CodeInternal     Code = "internal"     // this party failed on its own
	CodeCancelled    Code = "cancelled"    // the caller cancelled the context
)

// Sentinels for errors.Is on an *Error.
var (
	ErrInvalid      = errors.New("invalid ceremony")
	ErrTimeout      = errors.New("ceremony timed out")
	ErrMisbehaviour = errors.New("party misbehaved")
	ErrAborted      = errors.New("ceremony aborted by another party")
	ErrConfirmation = errors.New("ceremony result not confirmed")
	ErrTransport    = errors.New("ceremony transport failed")
)

// Error is how a ceremony fails.
type Error struct {
	Code Code
	// Round and Rounds place the failure in the protocol (0 if not known).
	Round, Rounds int
	// Culprits are parties this party itself found at fault.
	Culprits []party.ID
	// Waiting are parties that had not answered at the deadline.
	Waiting []party.ID
	// ReportedBy is the party that aborted the ceremony (CodeAborted).
	// Accused are parties named without proof: those ReportedBy blamed, or
	// those whose confirmation differed (CodeConfirmation).
	ReportedBy party.ID
	Accused    []party.ID
	// Reason says what happened; peer-supplied text is sanitised.
	Reason string
	// Err is an underlying cause, if any.
	Err error
	// Unsettled is set when this party had confirmed a keygen or refresh
	// result but the ceremony then failed in a way that does not prove the
	// other parties failed too (deadline, transport, cancellation, or an
	// abort from a party that had confirmed as well): some party may hold
	// every confirmation and have switched to the new share. Keep the new
	// share pending, beside the old one, until the missing confirmations
	// are known (SECURITY.md B9).
	Unsettled bool
}

// Unsettled reports whether err leaves a keygen or refresh result possibly
// completed elsewhere; see Error.Unsettled.
func Unsettled(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Unsettled
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	switch e.Code {
	case CodeTimeout:
		b.WriteString("timed out")
		e.writeRound(&b, " in")
		if len(e.Waiting) > 0 {
			fmt.Fprintf(&b, " waiting for %s", names(e.Waiting))
		}
	case CodeMisbehaviour:
		fmt.Fprintf(&b, "aborted: %s", names(e.Culprits))
		e.writeRound(&b, " in")
		fmt.Fprintf(&b, " sent an invalid message: %s (culprit: %s)", e.Reason, names(e.Culprits))
		return b.String()
	case CodeAborted:
		// The reason is the aborting party's own claim, unverified
		// (SECURITY.md B7): shown as what it reported, never as a finding.
		fmt.Fprintf(&b, "aborted by %s", e.ReportedBy)
		e.writeRound(&b, " in")
		if e.Reason != "" {
			fmt.Fprintf(&b, " (reported by %s: %s)", e.ReportedBy, e.Reason)
		}
		if e.Err != nil && e.Reason == "" {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
		return b.String()
	case CodeConfirmation:
		b.WriteString("not confirmed")
	case CodeInvalid:
		b.WriteString("invalid ceremony")
	case CodeCancelled:
		return "ceremony cancelled"
	case CodeTransport:
		b.WriteString("transport failed")
		e.writeRound(&b, " in")
	default:
		b.WriteString("ceremony failed")
		e.writeRound(&b, " in")
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if len(e.Culprits) > 0 {
		fmt.Fprintf(&b, " (culprit: %s)", names(e.Culprits))
	}
	if e.Err != nil && e.Reason == "" {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) writeRound(b *strings.Builder, prefix string) {
	if e.Round > 0 && e.Rounds > 0 {
		fmt.Fprintf(b, "%s round %d/%d", prefix, e.Round, e.Rounds)
	}
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the package's sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrInvalid:
		return e.Code == CodeInvalid
	case ErrTimeout:
		return e.Code == CodeTimeout
	case ErrMisbehaviour:
		return e.Code == CodeMisbehaviour
	case ErrAborted:
		return e.Code == CodeAborted
	case ErrConfirmation:
		return e.Code == CodeConfirmation
	case ErrTransport:
		return e.Code == CodeTransport
	}
	return false
}

// Blames reports whether the error names id as culprit, accused or silent party.
func (e *Error) Blames(id party.ID) bool {
	for _, list := range [][]party.ID{e.Culprits, e.Accused, e.Waiting} {
		for _, x := range list {
			if x == id {
				return true
			}
		}
	}
	return false
}

// maxReason bounds peer-supplied text.
const maxReason = 200

// Sanitize makes peer-supplied text safe to show: control characters and
// escape sequences are dropped and the text is cut to a bounded length
// (SECURITY.md B4, release case 16).
func Sanitize(s string) string { return SanitizeN(s, maxReason) }

// SanitizeN is Sanitize with a cap of max characters.
func SanitizeN(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n >= max {
			b.WriteString("…")
			break
		}
		if r == '\n' || r == '\t' {
			r = ' '
		}
		if !unicode.IsPrint(r) {
			continue
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
