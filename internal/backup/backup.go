// Package backup is the file format of a share backup: one party's share of
// one wallet, and that party's identity, encrypted with age
// (filippo.io/age) to a passphrase or to age recipients.
//
// A backup file is text:
//
//	paratro-share-backup v1
//	{"version":1,"wallet_id":"wal_…","party_name":"ana",…}
//	-----BEGIN AGE ENCRYPTED FILE-----
//	…
//	-----END AGE ENCRYPTED FILE-----
//
// The second line is the plaintext [Header]: public facts only (wallet,
// party, epoch, public key), so that a file can be told apart without a
// passphrase. The age payload holds the header's exact bytes again, the
// stored share (metadata and secret), the party's identity secret and the
// wallet's public record. [Open] refuses a file whose header differs from
// the copy inside it, so an edited header is detected; age authenticates
// the payload, so an edited payload is too.
package backup

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares"
)

// Version is the format version this package writes and reads.
const Version = 1

// magic is the first line of every backup file, before " v<Version>".
const magic = "paratro-share-backup"

// The encryption kinds a header names.
const (
	EncPassphrase = "passphrase" // an age scrypt recipient
	EncRecipients = "recipients" // age X25519 (or other) recipients
)

// Errors of Open and ParseHeader, for errors.Is.
var (
	// ErrFormat: the file is not a share backup, is truncated, or is of
	// an unknown version.
	ErrFormat = errors.New("not a readable paratro share backup")
	// ErrDecrypt: the passphrase or identity does not open the file.
	ErrDecrypt = errors.New("cannot decrypt the backup")
	// ErrTampered: the file decrypts, or partly, but was altered or
	// damaged: its header differs from the one inside, a payload chunk
	// fails authentication, or the share disagrees with its metadata.
	ErrTampered = errors.New("the backup was altered or is damaged")
	// ErrStale: the backup holds an older epoch of the wallet than the
	// current one (a rotation made it useless), or the wallet is gone.
	ErrStale = errors.New("stale backup")
)

// Header is the plaintext description of a backup. It holds no secret.
type Header struct {
	Version          int       `json:"version"`
	WalletID         string    `json:"wallet_id"`
	WalletName       string    `json:"wallet_name,omitempty"`
	Chain            string    `json:"chain,omitempty"`
	PartyName        string    `json:"party_name"`
	PartyFingerprint string    `json:"party_fingerprint"`
	Epoch            uint64    `json:"epoch"`
	Scheme           string    `json:"scheme"`
	Required         int       `json:"required"`
	Total            int       `json:"total"`
	PublicKey        string    `json:"public_key"`    // hex, as the wallet record
	ConfigDigest     string    `json:"config_digest"` // hex
	CreatedAt        time.Time `json:"created_at"`
	Encryption       string    `json:"encryption"` // EncPassphrase or EncRecipients
}

// Contents is what a backup carries. Wipe it when done.
type Contents struct {
	Header Header
	// Share is the stored share, secret included.
	Share *shares.Share
	// Identity is the party's identity, private keys included: a party's
	// ID is its identity's fingerprint, so the share is useless without it.
	Identity *identity.Identity
	// Wallet is the wallet's public record, with its parties' identities,
	// when the exporting home kept one; nil otherwise.
	Wallet *home.Wallet
}

// Wipe zeroes the share's secret. The identity's keys live in types Go
// cannot clear; drop the Contents promptly.
func (c *Contents) Wipe() {
	if c != nil {
		c.Share.Wipe()
	}
}

// NewHeader describes sh (of the party id) for a backup made at now.
// w, when not nil, gives the wallet's name and chain.
func NewHeader(sh *shares.Share, id *identity.Identity, w *home.Wallet, encryption string, now time.Time) Header {
	h := Header{Version: Version, WalletID: sh.WalletID, PartyName: id.Name, PartyFingerprint: id.Fingerprint(),
		Epoch: sh.Epoch, Scheme: sh.Scheme, Required: sh.Required, Total: len(sh.Parties),
		PublicKey: hex.EncodeToString(sh.PublicKey), ConfigDigest: hex.EncodeToString(sh.ConfigDigest),
		CreatedAt: now.UTC().Truncate(time.Second), Encryption: encryption}
	if w != nil {
		h.WalletName, h.Chain = w.Name, w.Chain
	}
	return h
}

// ParseHeader reads the plaintext header of a backup file without
// decrypting anything. It returns the header, its exact bytes and the
// armored age payload that follows.
func ParseHeader(file []byte) (Header, []byte, []byte, error) {
	first, rest, ok := bytes.Cut(file, []byte("\n"))
	if !ok || !strings.HasPrefix(string(first), magic+" ") {
		return Header{}, nil, nil, fmt.Errorf("%w: it does not start with %q", ErrFormat, magic)
	}
	if string(first) != fmt.Sprintf("%s v%d", magic, Version) {
		return Header{}, nil, nil, fmt.Errorf("%w: format %q is not supported by this paratro (it reads v%d)", ErrFormat, strings.TrimPrefix(string(first), magic+" "), Version)
	}
	hb, payload, ok := bytes.Cut(rest, []byte("\n"))
	if !ok || len(payload) == 0 {
		return Header{}, nil, nil, fmt.Errorf("%w: the file ends after its header (truncated?)", ErrFormat)
	}
	var h Header
	dec := json.NewDecoder(bytes.NewReader(hb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return Header{}, nil, nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	if h.Version != Version || h.WalletID == "" || h.PartyFingerprint == "" || h.Epoch == 0 {
		return Header{}, nil, nil, fmt.Errorf("%w: the header lacks its version, wallet, party or epoch", ErrFormat)
	}
	return h, hb, payload, nil
}

// headerLine is the one-line JSON of h, as written.
func headerLine(h Header) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// firstLines is the text before the payload: magic line and header line.
func firstLines(hb []byte) []byte {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	fmt.Fprintf(w, "%s v%d\n", magic, Version)
	w.Write(hb)
	w.WriteByte('\n')
	w.Flush()
	return buf.Bytes()
}
