// Package audit is paratro's tamper-evident log: an append-only file of
// JSON lines, one Entry each, chained by hashes. Every entry names the
// SHA-256 of the previous line's exact bytes (Prev) and carries the
// SHA-256 of its own canonical JSON (Hash), so editing, removing,
// reordering or cutting lines is found by Verify.
//
// The log holds no secrets: an Entry has only structured, public fields
// (names, fingerprints, wallet and ceremony ids, outcomes), and every text
// field is passed through ceremony.Sanitize before it is written, since
// much of it (reasons, names) comes from peers. The signed envelopes a
// party keeps as evidence against a misbehaving member are files beside
// the log, named in its entries by their SHA-256 (Evidence); they hold
// only ciphertext sealed to members and public header fields.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/paratro/paratro/ceremony"
)

// Events recorded by paratro.
const (
	EventRequest             = "ceremony.request"
	EventApproved            = "ceremony.approved"
	EventRejected            = "ceremony.rejected"
	EventOutcome             = "ceremony.outcome"
	EventAbortedAfterRestart = "ceremony.aborted-after-restart"
	EventSettled             = "ceremony.settled"
	EventWithdrawn           = "ceremony.withdrawn"
	EventExpired             = "ceremony.expired"
	EventCeremonyCreated     = "relay.ceremony.created"
	EventAccessRefused       = "relay.access.refused"
	EventEquivocation        = "relay.equivocation"
	EventIdentityRegistered  = "relay.identity.registered"
	EventBootstrap           = "relay.bootstrap"
	EventOperatorAdded       = "operator.added"
	EventOperatorRole        = "operator.role-changed"
	EventOperatorRemoved     = "operator.removed"
	EventAPIKeyCreated       = "apikey.created"
	EventAPIKeyRevoked       = "apikey.revoked"
	EventAuthRefused         = "auth.refused"
	EventMFAEnrollStarted    = "mfa.enroll-started"
	EventMFAEnrolled         = "mfa.enrolled"
	EventMFAVerified         = "mfa.verified"
	EventMFAFailed           = "mfa.failed"
	EventMFAReused           = "mfa.reused"
	EventMFALockedOut        = "mfa.locked-out"
	EventWalletRequested     = "wallet.create-requested"
	EventWalletCreated       = "wallet.created"
	EventWalletFailed        = "wallet.create-failed"
	EventRotateRequested     = "wallet.rotate-requested"
	EventRotated             = "wallet.rotated"
	EventSignRequested       = "wallet.sign-requested"
	EventSigned              = "wallet.signed"
	EventDestroyApproved     = "wallet.destroy-approved"
	EventDestroyed           = "wallet.destroyed"
	EventBackupRequested     = "backup.export-requested"
	EventBackupCancelled     = "backup.export-cancelled"
	EventBackupReleased      = "backup.export-released"
	EventActionConfirmed     = "action.confirmed"
)

// maxDetail bounds an entry's detail: room for a public key, a signature
// and an error.
const maxDetail = 1000

// ZeroHash is the Prev of a log's first entry.
var ZeroHash = strings.Repeat("0", 2*sha256.Size)

// Entry is one line of the log. Append fills in Seq, Time, Prev and Hash;
// the caller fills in the rest (empty fields are left out).
type Entry struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Event    string    `json:"event"`
	Actor    string    `json:"actor,omitempty"` // who acted: name (fingerprint)
	Wallet   string    `json:"wallet,omitempty"`
	Ceremony string    `json:"ceremony,omitempty"`
	Kind     string    `json:"kind,omitempty"`
	Parties  []string  `json:"parties,omitempty"`
	Outcome  string    `json:"outcome,omitempty"`
	Culprits []string  `json:"culprits,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	// Evidence lists the culprits' signed envelopes a party kept when a
	// ceremony failed because they misbehaved (evidence.go).
	Evidence []Evidence `json:"evidence,omitempty"`
	Prev     string     `json:"prev"`
	Hash     string     `json:"hash,omitempty"`
}

// computeHash is the SHA-256 of e's canonical JSON without its hash.
func (e Entry) computeHash() (string, error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:]), nil
}

// lineHash is what the next entry's Prev names.
func lineHash(line []byte) string {
	d := sha256.Sum256(line)
	return hex.EncodeToString(d[:])
}

// Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	// Now is the clock of the entries' times (nil: time.Now).
	Now func() time.Time

	path string
	mu   sync.Mutex
	f    *os.File
}

// Open opens the log at path for appending, creating it (0600, in a 0700
// directory) if missing. It refuses a log whose last line was cut short.
func Open(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l := &Log{path: path, f: f}
	if _, _, err := l.tail(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// Path is the log's file.
func (l *Log) Path() string { return l.path }

// Close closes the log, after any append in progress.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// Append writes e as the next entry, with one write, and syncs it to disk
// before returning the entry as written. Text fields are sanitised.
func (l *Log) Append(e Entry) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	unlock, err := lockFile(l.f)
	if err != nil {
		return Entry{}, fmt.Errorf("lock audit log: %w", err)
	}
	defer unlock()
	seq, prev, err := l.tail()
	if err != nil {
		return Entry{}, err
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	e = sanitized(e)
	e.Seq, e.Time, e.Prev = seq+1, now().UTC(), prev
	if e.Hash, err = e.computeHash(); err != nil {
		return Entry{}, err
	}
	line, err := json.Marshal(e)
	if err != nil {
		return Entry{}, err
	}
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		return Entry{}, fmt.Errorf("append to audit log: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return Entry{}, fmt.Errorf("sync audit log: %w", err)
	}
	return e, nil
}

func sanitized(e Entry) Entry {
	for _, s := range []*string{&e.Event, &e.Actor, &e.Wallet, &e.Ceremony, &e.Kind, &e.Outcome} {
		*s = ceremony.Sanitize(*s)
	}
	e.Detail = ceremony.SanitizeN(e.Detail, maxDetail)
	e.Parties = sanitizeAll(e.Parties)
	e.Culprits = sanitizeAll(e.Culprits)
	e.Evidence = sanitizedEvidence(e.Evidence)
	return e
}

func sanitizeAll(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = ceremony.Sanitize(s)
	}
	return out
}

// tail reads the last line: its seq and the hash the next entry links to
// (0 and ZeroHash for an empty log).
func (l *Log) tail() (uint64, string, error) {
	line, err := lastLine(l.f)
	if err != nil {
		return 0, "", err
	}
	if line == nil {
		return 0, ZeroHash, nil
	}
	var last Entry
	if err := json.Unmarshal(line, &last); err != nil {
		return 0, "", fmt.Errorf("audit log %s: the last entry is unreadable (run paratro audit verify --file %s)", l.path, l.path)
	}
	return last.Seq, lineHash(line), nil
}

// lastLine returns the last line of f without its newline, nil if f is
// empty, and an error if f does not end with a newline.
func lastLine(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size == 0 {
		return nil, nil
	}
	var buf []byte
	for off := size; off > 0; {
		n := min(off, 4096)
		off -= n
		chunk := make([]byte, n)
		if _, err := f.ReadAt(chunk, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		buf = append(chunk, buf...)
		if buf[len(buf)-1] != '\n' {
			return nil, fmt.Errorf("audit log %s ends with a truncated line (run paratro audit verify --file %s)", f.Name(), f.Name())
		}
		if i := bytes.LastIndexByte(buf[:len(buf)-1], '\n'); i >= 0 {
			return buf[i+1 : len(buf)-1], nil
		}
	}
	return buf[:len(buf)-1], nil
}
