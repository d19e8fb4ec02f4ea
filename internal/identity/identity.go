// Package identity is an operator's long-term identity: an Ed25519 key that
// signs (relay requests, protocol envelopes, approvals) and an X25519 key
// that protocol messages are encrypted to. The public half is shared as
// JSON and checked by people through its fingerprint; the private half
// lives only in the keyring.
package identity

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// fingerprintDomain separates identity fingerprints from every other hash.
const fingerprintDomain = "paratro/identity/v1\x00"

// FingerprintLen is the length of a fingerprint in hex characters (64 bits).
const FingerprintLen = 16

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// ValidateName checks an operator name: 1 to 32 characters, lower-case
// letters, digits, '.', '_' or '-', starting with a letter or digit.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid name %q: use 1 to 32 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// Public is the part of an identity others need: to check its signatures
// and to encrypt to it.
type Public struct {
	Name       string
	SigningKey ed25519.PublicKey // 32 bytes
	BoxKey     []byte            // X25519 public key, 32 bytes
}

// Fingerprint is the first 64 bits of SHA-256 over both public keys, as 16
// lower-case hex characters. It is also the party ID of this identity in
// every ceremony (SECURITY.md B11: fixed-length, printable, derived from
// the identity key).
func (p Public) Fingerprint() string {
	h := sha256.New()
	h.Write([]byte(fingerprintDomain))
	h.Write(p.SigningKey)
	h.Write(p.BoxKey)
	return hex.EncodeToString(h.Sum(nil))[:FingerprintLen]
}

// PartyID is the identity's party ID in ceremonies: its fingerprint.
func (p Public) PartyID() party.ID { return party.ID(p.Fingerprint()) }

// DisplayFingerprint groups the fingerprint for reading aloud: "3f9a 11c2 7e04 b8d1".
func (p Public) DisplayFingerprint() string { return GroupFingerprint(p.Fingerprint()) }

// GroupFingerprint splits a hex fingerprint into groups of four characters.
func GroupFingerprint(fp string) string {
	var parts []string
	for i := 0; i < len(fp); i += 4 {
		parts = append(parts, fp[i:min(i+4, len(fp))])
	}
	return strings.Join(parts, " ")
}

// Label is how people see the identity: "ana (3f9a11c27e04b8d1)".
func (p Public) Label() string { return p.Name + " (" + p.Fingerprint() + ")" }

// Equal reports whether p and q are the same identity (same keys and name).
func (p Public) Equal(q Public) bool {
	return p.Name == q.Name && p.SigningKey.Equal(q.SigningKey) && string(p.BoxKey) == string(q.BoxKey)
}

// Validate checks key lengths, that the X25519 key is a valid point, and the name.
func (p Public) Validate() error {
	if err := ValidateName(p.Name); err != nil {
		return err
	}
	if len(p.SigningKey) != ed25519.PublicKeySize {
		return fmt.Errorf("identity %s: signing key must be %d bytes, got %d", p.Name, ed25519.PublicKeySize, len(p.SigningKey))
	}
	if _, err := ecdh.X25519().NewPublicKey(p.BoxKey); err != nil {
		return fmt.Errorf("identity %s: invalid X25519 key: %w", p.Name, err)
	}
	return nil
}

// BoxPublicKey returns the X25519 key as a crypto/ecdh key.
func (p Public) BoxPublicKey() (*ecdh.PublicKey, error) { return ecdh.X25519().NewPublicKey(p.BoxKey) }

// Verify checks sig over msg with the identity's signing key.
func (p Public) Verify(msg, sig []byte) bool {
	return len(p.SigningKey) == ed25519.PublicKeySize && ed25519.Verify(p.SigningKey, msg, sig)
}

// Find returns the identity in list whose fingerprint is fp.
func Find(list []Public, fp string) (Public, bool) {
	for _, p := range list {
		if p.Fingerprint() == fp {
			return p, true
		}
	}
	return Public{}, false
}

// publicJSON is the shared JSON form of a public identity.
type publicJSON struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	SigningKey  string `json:"signing_key"`
	BoxKey      string `json:"box_key"`
}

// MarshalJSON writes {"name","fingerprint","signing_key","box_key"} with hex keys.
func (p Public) MarshalJSON() ([]byte, error) {
	return json.Marshal(publicJSON{Name: p.Name, Fingerprint: p.Fingerprint(),
		SigningKey: hex.EncodeToString(p.SigningKey), BoxKey: hex.EncodeToString(p.BoxKey)})
}

// UnmarshalJSON reads the JSON form, validates it and, when a fingerprint is
// given, checks that it matches the keys.
func (p *Public) UnmarshalJSON(b []byte) error {
	var j publicJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	sk, err := hex.DecodeString(j.SigningKey)
	if err != nil {
		return fmt.Errorf("identity %s: signing_key is not hex", j.Name)
	}
	bk, err := hex.DecodeString(j.BoxKey)
	if err != nil {
		return fmt.Errorf("identity %s: box_key is not hex", j.Name)
	}
	q := Public{Name: j.Name, SigningKey: sk, BoxKey: bk}
	if err := q.Validate(); err != nil {
		return err
	}
	if j.Fingerprint != "" && j.Fingerprint != q.Fingerprint() {
		return fmt.Errorf("identity %s: fingerprint %s does not match its keys (%s)", j.Name, j.Fingerprint, q.Fingerprint())
	}
	*p = q
	return nil
}

// Identity is an operator's full identity, private keys included. Never
// print or log it; String redacts.
type Identity struct {
	Public
	signing ed25519.PrivateKey
	box     *ecdh.PrivateKey
}

// New makes a fresh identity named name.
func New(name string) (*Identity, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	seed := make([]byte, secretLen)
	defer clear(seed)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	return FromSecret(name, seed)
}

// secretLen is the length of the secret form: Ed25519 seed then X25519 key.
const secretLen = ed25519.SeedSize + 32

// FromSecret rebuilds an identity from its secret form (see Secret).
func FromSecret(name string, secret []byte) (*Identity, error) {
	if len(secret) != secretLen {
		return nil, errors.New("identity secret has the wrong length")
	}
	sk := ed25519.NewKeyFromSeed(secret[:ed25519.SeedSize])
	bk, err := ecdh.X25519().NewPrivateKey(secret[ed25519.SeedSize:])
	if err != nil {
		return nil, err
	}
	id := &Identity{signing: sk, box: bk}
	id.Public = Public{Name: name, SigningKey: sk.Public().(ed25519.PublicKey), BoxKey: bk.PublicKey().Bytes()}
	return id, nil
}

// Secret returns the secret form (Ed25519 seed ‖ X25519 private key) for the
// keyring. The caller clears it after use.
func (id *Identity) Secret() []byte {
	out := make([]byte, 0, secretLen)
	out = append(out, id.signing.Seed()...)
	return append(out, id.box.Bytes()...)
}

// Sign signs msg with the identity's Ed25519 key.
func (id *Identity) Sign(msg []byte) []byte { return ed25519.Sign(id.signing, msg) }

// BoxPrivateKey is the X25519 private key protocol messages are encrypted to.
func (id *Identity) BoxPrivateKey() *ecdh.PrivateKey { return id.box }

// String never shows private keys.
func (id *Identity) String() string { return "identity " + id.Label() + " [private keys redacted]" }

// GoString never shows private keys.
func (id *Identity) GoString() string { return id.String() }
