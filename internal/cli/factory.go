package cli

import (
	"os"
	"time"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
)

// New returns the Factory of a real paratro run. Dependencies are built in
// dependency order, each from those above it.
func New() *cmdutil.Factory {
	f := &cmdutil.Factory{}
	f.IO = iostreams.System() // the process's streams; TTY and colour decided here, once
	f.Now = time.Now          // the wall clock
	// PARATRO_* settings; the secret ones are taken out of the environment now
	f.Getenv = cmdutil.TakeSecretEnv(os.LookupEnv, os.Unsetenv)
	f.PromptPassword = cmdutil.TermPassword(f)
	return f
}
