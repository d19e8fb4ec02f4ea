package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/atomicfile"
)

// EvidenceDir is the directory, beside a log, of the envelopes its
// entries keep as evidence.
const EvidenceDir = "evidence"

// Evidence is a signed envelope a party kept when a ceremony failed
// because its sender misbehaved: the envelope, exactly as the relay
// served it, is in the file evidence/<sha256>.envelope beside the log
// (mode 0600, in a 0700 directory); the entry names it by its SHA-256, so
// the log's hash chain also covers the file's content. Its signature
// verifies with the sender's public identity alone (envelope.Inspect), so
// anybody can check who sent it; a point-to-point envelope is sealed to
// the party that kept it, a broadcast to every other member.
//
// To extract one: paratro audit log --output json | jq '.[].evidence[]?'
// lists them; the file is the "file" field under the home.
type Evidence struct {
	// Sender is the member that signed the envelope: name (fingerprint).
	Sender string `json:"sender"`
	// Type is the ceremony message type (protocol, confirm or abort) and
	// Round the protocol round, as the signed header says.
	Type  string `json:"type"`
	Round int    `json:"round"`
	// To is the recipient's fingerprint; empty for a broadcast.
	To string `json:"to,omitempty"`
	// Seq is the relay's sequence number the envelope came under.
	Seq uint64 `json:"seq"`
	// SHA256 is the hash of the envelope's bytes (hex), Size their number.
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
	// File is the envelope's file, relative to the log's directory.
	File string `json:"file"`
}

// KeepEvidence writes the envelope raw into the log's evidence directory
// (atomically; the same bytes twice are one file) and returns the SHA-256
// and the file name (relative to the log's directory) an Evidence names it
// by.
func (l *Log) KeepEvidence(raw []byte) (sum, file string, err error) {
	d := sha256.Sum256(raw)
	sum = hex.EncodeToString(d[:])
	file = filepath.Join(EvidenceDir, sum+".envelope")
	if err := atomicfile.Write(filepath.Join(filepath.Dir(l.path), file), raw); err != nil {
		return "", "", fmt.Errorf("keep evidence: %w", err)
	}
	return sum, file, nil
}

// ReadEvidence returns the envelope ev names, kept beside the log at
// logPath, after checking that its bytes still have ev's SHA-256.
func ReadEvidence(logPath string, ev Evidence) ([]byte, error) {
	if b, err := hex.DecodeString(ev.SHA256); err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("read evidence: %q is not a SHA-256", ev.SHA256)
	}
	path := filepath.Join(filepath.Dir(logPath), EvidenceDir, ev.SHA256+".envelope")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	if d := sha256.Sum256(raw); hex.EncodeToString(d[:]) != ev.SHA256 {
		return nil, fmt.Errorf("read evidence: %s was changed: its SHA-256 is not the one the audit log names", path)
	}
	return raw, nil
}

func sanitizedEvidence(evs []Evidence) []Evidence {
	if len(evs) == 0 {
		return nil
	}
	out := make([]Evidence, len(evs))
	for i, ev := range evs {
		for _, s := range []*string{&ev.Sender, &ev.Type, &ev.To, &ev.SHA256, &ev.File} {
			*s = ceremony.Sanitize(*s)
		}
		out[i] = ev
	}
	return out
}
