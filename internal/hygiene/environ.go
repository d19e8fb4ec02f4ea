package hygiene

// ScrubEnviron blanks the values of the named variables in this process's
// original environment block: the copy the kernel made at exec, which
// /proc/<pid>/environ shows for as long as the process lives. Unsetting a
// variable (os.Unsetenv) changes only the Go runtime's copy of the
// environment, never that block; a secret passed by environment
// (PARATRO_KEYRING_PASSPHRASE, PARATRO_OTP) would otherwise stay readable
// there by the same user and root.
//
// Each NAME=value entry keeps its name and gets its value overwritten with
// NUL bytes, in place: the block cannot shrink or move (the kernel's
// bounds of it are fixed, and a C library's environ points into it), so
// blanking the value is what can be done. /proc/<pid>/environ then shows
// "NAME=" followed by empty entries, and a C getenv finds the variable
// empty. The name is kept on purpose: it tells whoever reads the block
// that the variable was passed and taken (not that it never was), and its
// value's length, which the NUL run still shows, was visible before too.
//
// On Linux the block's bounds are env_start and env_end of
// /proc/self/stat and it is rewritten through /proc/self/mem (a process
// may always write its own memory there, dumpable or not). Elsewhere
// ScrubEnviron does nothing and returns nil. It is best effort: an error
// says why nothing (or not everything) was blanked, and the caller goes
// on. The Go runtime copied the environment at start-up and never reads
// the block again, so os.Getenv and os.Environ are unaffected.
func ScrubEnviron(names ...string) error { return scrubEnviron(names) }
