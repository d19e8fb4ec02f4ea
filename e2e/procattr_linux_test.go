//go:build linux

package e2e_test

import "syscall"

// childAttr makes every child process die with the test binary, even when
// it is killed or panics on -timeout without running TestMain's cleanup:
// parties would otherwise retry a dead relay forever.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
