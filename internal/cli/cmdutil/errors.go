package cmdutil

import (
	"errors"
	"fmt"
	"regexp"
)

// FlagError is a usage mistake: a bad flag, a bad flag value or the wrong
// arguments. paratro prints it with a hint pointing at the command's --help
// and exits with the usage code (2).
type FlagError struct {
	Err error
}

// Error returns the message of the wrapped error.
func (e *FlagError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf returns a *FlagError whose message is formatted as by fmt.Errorf
// (%w included). Messages are lowercase and end without a period.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// FlagErrorWrap marks err as a usage mistake; it returns nil for nil.
func FlagErrorWrap(err error) error {
	if err == nil {
		return nil
	}
	return &FlagError{Err: err}
}

// HintError is an error that carries advice for the user, printed after the
// message as "paratro: hint: …" lines. The hint may span several lines.
type HintError interface {
	error
	Hint() string
}

// WithHint attaches hint to err. The message stays that of err, and err
// stays reachable through errors.Is and errors.As. It returns nil for nil.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: hint}
}

type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }

// Hints returns the hints found along err's chain, outermost first.
func Hints(err error) []string {
	var hints []string
	for err != nil {
		if h, ok := err.(HintError); ok && h.Hint() != "" {
			hints = append(hints, h.Hint())
		}
		err = errors.Unwrap(err)
	}
	return hints
}

// cobraUsage matches the messages of the usage errors that cobra and pflag
// make themselves as plain errors: unknown subcommands and flags, bad flag
// values, cobra's own argument validators and flag constraints.
var cobraUsage = regexp.MustCompile(`^(unknown command ".*" for |unknown (shorthand )?flag: |invalid argument ".*" for ".*" flag: |flag needs an argument: |required flag\(s\) |(accepts|requires) .*arg\(s\), |(if any|none of the|at least one of the) flags in the group \[)`)

// IsUsageError reports whether err is a usage mistake: a *FlagError anywhere
// in its chain, or one of the usage errors cobra returns as plain errors.
func IsUsageError(err error) bool {
	var fe *FlagError
	if errors.As(err, &fe) {
		return true
	}
	return err != nil && cobraUsage.MatchString(err.Error())
}
