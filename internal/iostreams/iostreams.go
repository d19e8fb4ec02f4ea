// Package iostreams is where paratro meets its terminal: the three standard
// streams and the facts about them that commands act on (is stdout a
// terminal, may we colour, may we prompt).
//
// Those facts are decided once, by System for the real process and by Test
// for tests, and never by a command probing file descriptors itself. Tests
// flip them with SetStdinTTY, SetStdoutTTY and SetStderrTTY.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the standard streams of one paratro run, and what is known
// about them. stdout carries data; stderr carries everything meant for people
// (progress, prompts, the TUI).
type IOStreams struct {
	In     io.ReadCloser
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	// noColor is set when the environment asks for no colour (NO_COLOR,
	// TERM=dumb), whatever the streams are.
	noColor bool
}

// System returns the process's own streams. Whether each one is a terminal
// is asked once, here; NO_COLOR (any non-empty value) and TERM=dumb turn
// colour off.
func System() *IOStreams {
	return newSystem(os.Getenv, func(f *os.File) bool { return term.IsTerminal(int(f.Fd())) })
}

// newSystem is System with its two sources of facts made replaceable.
func newSystem(getenv func(string) string, isTerminal func(*os.File) bool) *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
		noColor:   getenv("NO_COLOR") != "" || getenv("TERM") == "dumb",
	}
}

// Test returns streams backed by buffers, none of them a terminal and colour
// allowed (so that SetStdoutTTY(true) alone turns colour on), together with
// the buffers: in is what the command will read, out and errOut collect what
// it writes.
func Test() (ios *IOStreams, in *bytes.Buffer, out *bytes.Buffer, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	ios = &IOStreams{In: io.NopCloser(in), Out: out, ErrOut: errOut}
	return ios, in, out, errOut
}

// SetStdinTTY records whether stdin is a terminal.
func (s *IOStreams) SetStdinTTY(isTTY bool) { s.stdinTTY = isTTY }

// SetStdoutTTY records whether stdout is a terminal.
func (s *IOStreams) SetStdoutTTY(isTTY bool) { s.stdoutTTY = isTTY }

// SetStderrTTY records whether stderr is a terminal.
func (s *IOStreams) SetStderrTTY(isTTY bool) { s.stderrTTY = isTTY }

// IsStdinTTY reports whether stdin is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether stdout is a terminal: when it is not, output is
// for a program and carries no colour, spinner or decoration.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether stderr is a terminal, which is where progress
// and the TUI are drawn.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// NoColor reports whether the environment asks for no colour (NO_COLOR, TERM=dumb).
func (s *IOStreams) NoColor() bool { return s.noColor }

// ColorEnabled reports whether stdout may carry colour: it is a terminal and
// the environment did not ask for plain text.
func (s *IOStreams) ColorEnabled() bool { return s.stdoutTTY && !s.noColor }

// CanPrompt reports whether paratro may ask the user something: stdin and
// stderr are both terminals. Prompts are written to stderr, so a command
// whose stdout is piped can still prompt.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stderrTTY }
