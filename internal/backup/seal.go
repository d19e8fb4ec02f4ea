package backup

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares"
)

// payloadMagic starts the decrypted payload.
const payloadMagic = "paratro-share-backup-payload v1\n"

// maxSection bounds one section of the payload (a CMP share is ~5 KB).
const maxSection = 1 << 20

// PassphraseRecipient is the age scrypt recipient of passphrase.
// workFactor 0 keeps age's default (2^18, about a second); tests lower it.
func PassphraseRecipient(passphrase []byte, workFactor int) (age.Recipient, error) {
	r, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return nil, err
	}
	if workFactor > 0 {
		r.SetWorkFactor(workFactor)
	}
	return r, nil
}

// PassphraseIdentity is the age scrypt identity of passphrase.
func PassphraseIdentity(passphrase []byte) (age.Identity, error) {
	return age.NewScryptIdentity(string(passphrase))
}

// Seal checks c (see Check) and returns the backup file: c.Header in the
// clear, then everything encrypted to recipients. c.Header.Encryption must
// say how.
func Seal(c *Contents, recipients ...age.Recipient) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("seal backup: no recipient")
	}
	if err := Check(c); err != nil {
		return nil, fmt.Errorf("seal backup: %w", err)
	}
	hb, err := headerLine(c.Header)
	if err != nil {
		return nil, err
	}
	plain, err := encodePayload(hb, c)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	var out bytes.Buffer
	out.Write(firstLines(hb))
	aw := armor.NewWriter(&out)
	w, err := age.Encrypt(aw, recipients...)
	if err != nil {
		return nil, fmt.Errorf("seal backup: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Open decrypts a backup file with one of identities, checks that the
// header inside equals the one in the clear and that the share is
// consistent (Check), and returns its contents. Errors match ErrFormat,
// ErrDecrypt or ErrTampered.
func Open(file []byte, identities ...age.Identity) (*Contents, error) {
	h, hb, armored, err := ParseHeader(file)
	if err != nil {
		return nil, err
	}
	plain, err := decrypt(armored, identities)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	c, inner, err := decodePayload(plain)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(inner, hb) {
		c.Wipe()
		return nil, fmt.Errorf("%w: the header in the clear differs from the copy inside the encrypted payload (edited?)", ErrTampered)
	}
	c.Header = h
	if err := Check(c); err != nil {
		c.Wipe()
		return nil, err
	}
	return c, nil
}

func decrypt(armored []byte, identities []age.Identity) ([]byte, error) {
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(armored)), identities...)
	var nomatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &nomatch):
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	case err != nil && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)):
		return nil, fmt.Errorf("%w: the encrypted payload is cut short (truncated file?)", ErrFormat)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 8*maxSection))
	if err != nil {
		clear(plain)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: the encrypted payload is cut short (truncated file?)", ErrFormat)
		}
		return nil, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	return plain, nil
}

// metaJSON is shares.Meta as stored in the payload.
type metaJSON struct {
	WalletID     string   `json:"wallet_id"`
	PartyID      string   `json:"party_id"`
	Epoch        uint64   `json:"epoch"`
	Scheme       string   `json:"scheme"`
	Required     int      `json:"required"`
	Parties      []string `json:"parties"`
	PublicKey    []byte   `json:"public_key"`
	ConfigDigest []byte   `json:"config_digest"`
	CreatedAt    string   `json:"created_at"`
}

// encodePayload lays out the payload: magic, then length-prefixed
// sections: header, share metadata, share secret, identity name,
// identity secret, wallet record (JSON, possibly empty).
func encodePayload(hb []byte, c *Contents) ([]byte, error) {
	m := c.Share.Meta
	mb, err := json.Marshal(metaJSON{WalletID: m.WalletID, PartyID: m.PartyID, Epoch: m.Epoch, Scheme: m.Scheme,
		Required: m.Required, Parties: m.Parties, PublicKey: m.PublicKey, ConfigDigest: m.ConfigDigest,
		CreatedAt: m.CreatedAt.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")})
	if err != nil {
		return nil, err
	}
	var wb []byte
	if c.Wallet != nil {
		if wb, err = json.Marshal(c.Wallet); err != nil {
			return nil, err
		}
	}
	idSecret := c.Identity.Secret()
	defer clear(idSecret)
	sections := [][]byte{hb, mb, c.Share.Secret, []byte(c.Identity.Name), idSecret, wb}
	n := len(payloadMagic)
	for _, s := range sections {
		n += 4 + len(s)
	}
	out := make([]byte, 0, n)
	out = append(out, payloadMagic...)
	for _, s := range sections {
		out = binary.BigEndian.AppendUint32(out, uint32(len(s)))
		out = append(out, s...)
	}
	return out, nil
}

// decodePayload reverses encodePayload. The returned share's secret is a
// copy; the caller wipes plain.
func decodePayload(plain []byte) (*Contents, []byte, error) {
	bad := func(what string) error { return fmt.Errorf("%w: payload: %s", ErrTampered, what) }
	rest, ok := bytes.CutPrefix(plain, []byte(payloadMagic))
	if !ok {
		return nil, nil, bad("unknown layout")
	}
	var sec [6][]byte
	for i := range sec {
		if len(rest) < 4 {
			return nil, nil, bad("cut short")
		}
		n := binary.BigEndian.Uint32(rest)
		if n > maxSection || int(n) > len(rest)-4 {
			return nil, nil, bad("section too long")
		}
		sec[i], rest = rest[4:4+n], rest[4+n:]
	}
	if len(rest) != 0 {
		return nil, nil, bad("trailing bytes")
	}
	var m metaJSON
	if err := json.Unmarshal(sec[1], &m); err != nil {
		return nil, nil, bad("share metadata: " + err.Error())
	}
	meta := shares.Meta{WalletID: m.WalletID, PartyID: m.PartyID, Epoch: m.Epoch, Scheme: m.Scheme, Required: m.Required,
		Parties: m.Parties, PublicKey: m.PublicKey, ConfigDigest: m.ConfigDigest}
	if err := meta.CreatedAt.UnmarshalText([]byte(m.CreatedAt)); err != nil {
		return nil, nil, bad("share creation time")
	}
	id, err := identity.FromSecret(string(sec[3]), sec[4])
	if err != nil {
		return nil, nil, bad("identity: " + err.Error())
	}
	c := &Contents{Share: &shares.Share{Meta: meta, Secret: slices.Clone(sec[2])}, Identity: id}
	if len(sec[5]) > 0 {
		c.Wallet = new(home.Wallet)
		if err := json.Unmarshal(sec[5], c.Wallet); err != nil {
			c.Wipe()
			return nil, nil, bad("wallet record: " + err.Error())
		}
	}
	return c, slices.Clone(sec[0]), nil
}

// Check verifies that c holds together: the share decodes
// (ceremony.UnmarshalShare checks its party set, threshold and own public
// share), and its public key, configuration digest, party, scheme and
// threshold equal its metadata's and the header's; the identity is the
// share's party; the wallet record, if any, is the same wallet and key.
// It never combines shares: a backup holds one.
func Check(c *Contents) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrTampered, fmt.Sprintf(format, a...))
	}
	if c == nil || c.Share == nil || c.Identity == nil {
		return bad("no share or identity")
	}
	sh, err := ceremony.UnmarshalShare(c.Share.Secret)
	if err != nil {
		return bad("the share does not decode: %v", err)
	}
	m, h := c.Share.Meta, c.Header
	switch {
	case !bytes.Equal(sh.PublicKey(), m.PublicKey) || !bytes.Equal(sh.ConfigDigest(), m.ConfigDigest):
		return bad("the share's secret does not match its public key or configuration")
	case string(sh.PartyID()) != m.PartyID || string(sh.Scheme()) != m.Scheme || sh.Required() != m.Required || len(sh.Parties()) != len(m.Parties):
		return bad("the share's party, scheme or threshold differ from its metadata")
	case c.Identity.Fingerprint() != m.PartyID || c.Identity.Name != h.PartyName || h.PartyFingerprint != m.PartyID:
		return bad("the identity %s is not the share's party %s", c.Identity.Label(), m.PartyID)
	case h.WalletID != m.WalletID || h.Epoch != m.Epoch || h.Scheme != m.Scheme || h.Required != m.Required || h.Total != len(m.Parties):
		return bad("the header's wallet, epoch, scheme or threshold differ from the share's")
	case h.PublicKey != hex.EncodeToString(m.PublicKey) || h.ConfigDigest != hex.EncodeToString(m.ConfigDigest):
		return bad("the header's public key or configuration digest differ from the share's")
	case h.Encryption != EncPassphrase && h.Encryption != EncRecipients:
		return bad("unknown encryption %q", h.Encryption)
	}
	if w := c.Wallet; w != nil && w.ID != m.WalletID {
		return bad("the wallet record is of another wallet")
	}
	return nil
}
