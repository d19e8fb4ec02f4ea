// Package cmdutil holds what every paratro command shares: the Factory of
// dependencies, the FlagError type for usage mistakes, hints attached to
// errors, argument validators and readers for the root's persistent flags.
//
// Commands receive a *Factory and copy the dependencies they use into their
// options struct; they never reach for globals, os or the environment.
package cmdutil

import (
	"time"

	"github.com/paratro/paratro/internal/iostreams"
)

// Factory carries the dependencies of every command. internal/cli.New builds
// the real one; clitest.NewFactory builds one on buffers and a fixed clock.
// Each field is a seam a test can replace.
type Factory struct {
	// IO are the standard streams and what is known about them.
	IO *iostreams.IOStreams
	// Now is the clock: every timestamp paratro prints or checks comes from it.
	Now func() time.Time
	// Getenv reads the environment (PARATRO_* settings).
	Getenv func(string) string
	// PromptPassword asks for a secret on the terminal without echo; nil
	// when there is no terminal to ask on.
	PromptPassword func(prompt string) ([]byte, error)
}
