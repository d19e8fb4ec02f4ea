package relay

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// A message is stored as a binary record: recordV1, then as uvarints the
// sequence number and the lengths of kind, from and to (each followed by
// its bytes), the reception time as a varint of Unix nanoseconds, and the
// data to the end. Its header reads without touching the data, so a
// long-poll skips the envelopes addressed to other members for the price
// of a few bytes, and neither JSON nor base64 is paid on the way in or
// out. Logs written before hold JSON records, which start with '{' and
// are still read.
const recordV1 = 0x01

var errBadRecord = errors.New("relay store: unreadable message record")

// encodeMessage returns m's record.
func encodeMessage(m *Message) []byte {
	b := make([]byte, 0, 1+4*binary.MaxVarintLen64+len(m.Kind)+len(m.From)+len(m.To)+len(m.Data))
	b = append(b, recordV1)
	b = binary.AppendUvarint(b, m.Seq)
	for _, s := range []string{m.Kind, m.From, m.To} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, m.ReceivedAt.UnixNano())
	return append(b, m.Data...)
}

// decodeMessage reads a record (binary or JSON) into m. m.Data shares
// raw's memory for a binary record: copy it before the transaction ends.
func decodeMessage(raw []byte, m *Message) error {
	if len(raw) == 0 || raw[0] != recordV1 {
		*m = Message{}
		return json.Unmarshal(raw, m)
	}
	r := raw[1:]
	uv := func() uint64 {
		v, n := binary.Uvarint(r)
		if n <= 0 {
			r = nil
			return 0
		}
		r = r[n:]
		return v
	}
	str := func() string {
		n := uv()
		if n > uint64(len(r)) {
			r = nil
			return ""
		}
		s := string(r[:n])
		r = r[n:]
		return s
	}
	m.Seq = uv()
	m.Kind, m.From, m.To = str(), str(), str()
	at, n := binary.Varint(r)
	if r == nil || n <= 0 {
		return errBadRecord
	}
	m.ReceivedAt = time.Unix(0, at).UTC()
	m.Data = r[n:]
	return nil
}

// recordCache keeps records that never change once stored (ceremonies,
// registered identities), so that the requests of a busy ceremony do not
// read and decode them from the database each time. When full it forgets
// an arbitrary entry.
type recordCache[V any] struct {
	mu  sync.Mutex
	m   map[string]V
	max int
}

func newRecordCache[V any](max int) *recordCache[V] {
	return &recordCache[V]{m: make(map[string]V), max: max}
}

func (c *recordCache[V]) get(k string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *recordCache[V]) put(k string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
}

// MarshalMessageRecord is the record a message is stored as, for tools and
// tests that edit a stopped relay's database (the e2e fault tests).
func MarshalMessageRecord(m *Message) []byte { return encodeMessage(m) }

// UnmarshalMessageRecord reads a stored record (binary or JSON); the
// returned message owns its data.
func UnmarshalMessageRecord(raw []byte) (Message, error) {
	var m Message
	if err := decodeMessage(raw, &m); err != nil {
		return Message{}, err
	}
	m.Data = append([]byte(nil), m.Data...)
	return m, nil
}
