//go:build linux

package hygiene

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

func scrubEnviron(names []string) error {
	if len(names) == 0 {
		return nil
	}
	start, end, err := environBounds()
	if err != nil {
		return fmt.Errorf("scrub the environment: %w", err)
	}
	mem, err := openMem()
	if err != nil {
		return fmt.Errorf("scrub the environment: %w", err)
	}
	defer mem.close()
	block := make([]byte, end-start)
	defer clear(block) // it held the values too
	if err := mem.rw(block, start, false); err != nil {
		return fmt.Errorf("scrub the environment: read the block: %w", err)
	}
	var errs []error
	for off := 0; off < len(block); {
		n := bytes.IndexByte(block[off:], 0)
		if n < 0 {
			n = len(block) - off // the last entry, unterminated within the bounds
		}
		entry := block[off : off+n]
		for _, name := range names {
			v := len(name) + 1 // where the value starts
			if len(entry) > v && entry[len(name)] == '=' && string(entry[:len(name)]) == name {
				if err := mem.rw(make([]byte, len(entry)-v), start+uint64(off+v), true); err != nil {
					errs = append(errs, fmt.Errorf("scrub the environment: %s: %w", name, err))
				}
			}
		}
		off += n + 1
	}
	return errors.Join(errs...)
}

// selfMem reads and writes this process's memory at an address: with
// pread and pwrite on /proc/self/mem, or, when that cannot be opened,
// with process_vm_readv and process_vm_writev on itself (fd -1).
// /proc/self/mem is owned by root once the process is not dumpable
// (PR_SET_DUMPABLE 0, as every paratro command makes itself), so another
// user cannot open it then; the process_vm calls check ptrace access,
// which a process always has to itself, but a container's seccomp filter
// may refuse them.
type selfMem struct{ fd int }

func openMem() (selfMem, error) {
	fd, err := unix.Open("/proc/self/mem", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return selfMem{fd: -1}, nil
	}
	if err != nil {
		return selfMem{}, fmt.Errorf("open /proc/self/mem: %w", err)
	}
	return selfMem{fd: fd}, nil
}

func (m selfMem) close() {
	if m.fd >= 0 {
		unix.Close(m.fd)
	}
}

// rw reads len(b) bytes at addr into b, or writes b there.
func (m selfMem) rw(b []byte, addr uint64, write bool) error {
	var n int
	var err error
	how := "/proc/self/mem"
	switch {
	case m.fd >= 0 && write:
		n, err = unix.Pwrite(m.fd, b, int64(addr))
	case m.fd >= 0:
		n, err = unix.Pread(m.fd, b, int64(addr))
	default:
		how = "process_vm_readv"
		local := []unix.Iovec{{Base: &b[0]}}
		local[0].SetLen(len(b))
		remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}
		if write {
			how = "process_vm_writev"
			n, err = unix.ProcessVMWritev(unix.Getpid(), local, remote, 0)
		} else {
			n, err = unix.ProcessVMReadv(unix.Getpid(), local, remote, 0)
		}
	}
	if err == nil && n != len(b) {
		err = fmt.Errorf("%d of %d bytes", n, len(b))
	}
	if err != nil {
		return fmt.Errorf("%s at %#x: %w", how, addr, err)
	}
	return nil
}

// environBounds returns env_start and env_end, fields 50 and 51 of
// /proc/self/stat (Linux 3.5 and later).
func environBounds() (start, end uint64, err error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces
	// and parentheses: the fields after it start at its last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("/proc/self/stat: no command name")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3
	const envStart, envEnd = 50 - 3, 51 - 3
	if len(f) <= envEnd {
		return 0, 0, fmt.Errorf("/proc/self/stat has %d fields, not the environment's bounds (fields 50 and 51)", len(f)+2)
	}
	if start, err = strconv.ParseUint(string(f[envStart]), 10, 64); err == nil {
		end, err = strconv.ParseUint(string(f[envEnd]), 10, 64)
	}
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("/proc/self/stat: the environment's bounds: %w", err)
	case start == 0 || end < start || end-start > 1<<30:
		return 0, 0, fmt.Errorf("/proc/self/stat: the environment's bounds %#x-%#x are not usable", start, end)
	}
	return start, end, nil
}
