package shares

import (
	"crypto/rand"
	"fmt"
	"runtime/debug"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters of new file keyrings, which are also the minimum
// accepted when opening one. The maximums keep a crafted file from asking
// for unbounded memory or time.
const (
	kdfName         = "argon2id"
	kdfTime         = 3
	kdfMemoryKiB    = 64 * 1024
	kdfThreads      = 4
	kdfSaltLen      = 16
	kdfMaxTime      = 64
	kdfMaxMemoryKiB = 4 * 1024 * 1024
)

// kdfParams are the key-derivation settings stored in a file keyring.
type kdfParams struct {
	Name      string `json:"name"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
	Salt      []byte `json:"salt"`
}

func newKDFParams() kdfParams {
	salt := make([]byte, kdfSaltLen)
	rand.Read(salt) // never returns an error (crypto/rand)
	return kdfParams{Name: kdfName, Time: kdfTime, MemoryKiB: kdfMemoryKiB, Threads: kdfThreads, Salt: salt}
}

// check refuses unknown, weak or unreasonably expensive parameters.
func (p kdfParams) check() error {
	if p.Name != kdfName {
		return errorf(ErrUnsupportedFormat, "key derivation %q is not supported (want %s)", p.Name, kdfName)
	}
	if p.Time < kdfTime || p.MemoryKiB < kdfMemoryKiB || p.Threads < kdfThreads || len(p.Salt) < kdfSaltLen {
		return errorf(ErrWeakKDF, "its key derivation parameters (%s) are below the minimum (argon2id t=%d, m=%d KiB, p=%d, %d-byte salt); refusing to use it",
			p, kdfTime, kdfMemoryKiB, kdfThreads, kdfSaltLen)
	}
	if p.Time > kdfMaxTime || p.MemoryKiB > kdfMaxMemoryKiB {
		return errorf(ErrCorrupt, "its key derivation parameters (%s) are beyond the maximum (t=%d, m=%d KiB)", p, kdfMaxTime, kdfMaxMemoryKiB)
	}
	return nil
}

// String describes the parameters without the salt.
func (p kdfParams) String() string {
	return fmt.Sprintf("%s t=%d, m=%d KiB, p=%d, %d-byte salt", p.Name, p.Time, p.MemoryKiB, p.Threads, len(p.Salt))
}

// derive returns the 32-byte key for passphrase. argon2 keeps its working
// memory in buffers this package cannot zero.
func (p kdfParams) derive(passphrase []byte) []byte {
	key := argon2.IDKey(passphrase, p.Salt, p.Time, p.MemoryKiB, p.Threads, kekLen)
	// Give the working memory (64 MiB) back to the OS at once: a party
	// that unlocked its file keyring would otherwise keep it resident
	// while it idles (issue 8: idle party RSS).
	debug.FreeOSMemory()
	return key
}

// checkAAD binds the check value to the parameters, so that editing them
// reads as a wrong passphrase even when the derived key happens to match.
func (p kdfParams) checkAAD() []byte {
	return fmt.Appendf(nil, "%s%s t=%d m=%d p=%d salt=%x", checkAADPrefix, p.Name, p.Time, p.MemoryKiB, p.Threads, p.Salt)
}
