package shares

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// The plaintext of a sealed share is a flat binary encoding, written and read
// by hand so that no encoder keeps a copy of the secret in a buffer this
// package cannot zero. Strings and byte slices carry a 4-byte big-endian
// length; integers are big-endian:
//
//	wallet, party, epoch u64, scheme, required u32, n u32, n × party,
//	public key, config digest, created-at seconds i64, nanoseconds u32, secret
const maxEncodedParties = 1024

var errMalformed = errors.New("malformed share contents")

// encodeShare returns the plaintext of sh. The caller must zero it.
func encodeShare(sh *Share) []byte {
	meta := encodeMeta(&sh.Meta)
	pt := make([]byte, 0, len(meta)+4+len(sh.Secret))
	pt = append(pt, meta...)
	return appendBytes(pt, sh.Secret)
}

func encodeMeta(m *Meta) []byte {
	var b []byte
	b = appendBytes(b, []byte(m.WalletID))
	b = appendBytes(b, []byte(m.PartyID))
	b = binary.BigEndian.AppendUint64(b, m.Epoch)
	b = appendBytes(b, []byte(m.Scheme))
	b = binary.BigEndian.AppendUint32(b, uint32(m.Required))
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Parties)))
	for _, p := range m.Parties {
		b = appendBytes(b, []byte(p))
	}
	b = appendBytes(b, m.PublicKey)
	b = appendBytes(b, m.ConfigDigest)
	b = binary.BigEndian.AppendUint64(b, uint64(m.CreatedAt.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(m.CreatedAt.Nanosecond()))
}

func appendBytes(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// decodeShare parses a plaintext made by encodeShare. The returned secret is
// a fresh copy, so the caller may zero pt afterwards.
func decodeShare(pt []byte) (*Share, error) {
	d := decoder{b: pt}
	sh := &Share{}
	sh.WalletID = string(d.bytes())
	sh.PartyID = string(d.bytes())
	sh.Epoch = d.u64()
	sh.Scheme = string(d.bytes())
	required := d.u32()
	n := d.u32()
	if n > maxEncodedParties || required > math.MaxInt32 {
		return nil, errMalformed
	}
	for i := uint32(0); i < n && !d.bad; i++ {
		sh.Parties = append(sh.Parties, string(d.bytes()))
	}
	sh.Required = int(required)
	sh.PublicKey = clone(d.bytes())
	sh.ConfigDigest = clone(d.bytes())
	sec, nsec := int64(d.u64()), d.u32()
	sh.Secret = clone(d.bytes())
	if d.bad || len(d.b) != 0 || nsec >= 1e9 {
		sh.Wipe()
		return nil, errMalformed
	}
	sh.CreatedAt = time.Unix(sec, int64(nsec)).UTC()
	return sh, nil
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// decoder reads big-endian fields; after the first short read it returns
// zero values and sets bad.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) take(n uint64) []byte {
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if v := d.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) bytes() []byte { return d.take(uint64(d.u32())) }
