package ceremonytest

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/fxamacker/cbor/v2"
	"github.com/paratro/paratro/ceremony"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
)

// Intercept is a ceremony.MemoryNetwork hook.
type Intercept = func(to party.ID, m *ceremony.Message) []*ceremony.Message

// Tamper returns an intercept that lets f rewrite the library message inside
// every protocol message `from` sends in `round` (broadcast or
// point-to-point as asked), as a malicious sender would. A message that
// cannot be decoded panics: it is a bug in the test.
func Tamper(from party.ID, round int, broadcast bool, f func(pm *protocol.Message)) Intercept {
	return func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		if m.From != from || m.Type != ceremony.TypeProtocol || m.Round != round || m.Broadcast() != broadcast {
			return []*ceremony.Message{m}
		}
		pm := new(protocol.Message)
		if err := pm.UnmarshalBinary(m.Payload); err != nil || len(pm.Data) == 0 {
			panic(fmt.Sprintf("ceremonytest: cannot decode message from %s: %v", from, err))
		}
		f(pm)
		b, err := pm.MarshalBinary()
		if err != nil {
			panic(err)
		}
		m.Payload = b
		return []*ceremony.Message{m}
	}
}

// SetField replaces one field of a library message's CBOR content map.
func SetField(pm *protocol.Message, field string, value []byte) {
	var fields map[string]cbor.RawMessage
	if err := cbor.Unmarshal(pm.Data, &fields); err != nil {
		panic(fmt.Sprintf("ceremonytest: content is not a map: %v", err))
	}
	if _, ok := fields[field]; !ok {
		panic(fmt.Sprintf("ceremonytest: no field %q in content", field))
	}
	fields[field] = value
	data, err := cbor.Marshal(fields)
	if err != nil {
		// value is not well-formed CBOR (a malicious encoding, on
		// purpose): write the map by hand around it.
		data = rawMap(fields)
	}
	pm.Data = data
}

// rawMap encodes a CBOR map of text keys to raw values, copying the values
// as they are, well-formed or not.
func rawMap(fields map[string]cbor.RawMessage) []byte {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := cborHead(5, uint64(len(keys)))
	for _, k := range keys {
		out = append(append(out, cborHead(3, uint64(len(k)))...), k...)
		out = append(out, fields[k]...)
	}
	return out
}

// cborHead encodes a CBOR major type and argument.
func cborHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

// Field returns one raw field of a library message's CBOR content map.
func Field(pm *protocol.Message, field string) cbor.RawMessage {
	var fields map[string]cbor.RawMessage
	if err := cbor.Unmarshal(pm.Data, &fields); err != nil {
		panic(fmt.Sprintf("ceremonytest: content is not a map: %v", err))
	}
	return fields[field]
}

// Bytes encodes b as a CBOR byte string.
func Bytes(b []byte) []byte {
	out, err := cbor.Marshal(b)
	if err != nil {
		panic(err)
	}
	return out
}

// Chain runs intercepts one after another.
func Chain(fs ...Intercept) Intercept {
	return func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		msgs := []*ceremony.Message{m}
		for _, f := range fs {
			var next []*ceremony.Message
			for _, x := range msgs {
				next = append(next, f(to, x)...)
			}
			msgs = next
		}
		return msgs
	}
}

// Drop returns an intercept that drops everything `from` sends of type typ.
func Drop(from party.ID, typ ceremony.MessageType) Intercept {
	return func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		if m.From == from && m.Type == typ {
			return nil
		}
		return []*ceremony.Message{m}
	}
}

// Duplicate returns an intercept that delivers every message n times.
func Duplicate(n int) Intercept {
	return func(to party.ID, m *ceremony.Message) []*ceremony.Message {
		out := make([]*ceremony.Message, n)
		for i := range out {
			c := *m
			out[i] = &c
		}
		return out
	}
}

// Reorder returns an intercept that swaps consecutive messages on each
// (sender, recipient) link: it holds one message back and delivers it after
// the next one, so later rounds arrive before earlier ones. Held messages
// are released by Flush, which tests call from a ticker.
type Reorder struct {
	mu   sync.Mutex
	held map[[2]party.ID]*ceremony.Message
	net  *ceremony.MemoryNetwork
}

// NewReorder returns a Reorder delivering through net.
func NewReorder(net *ceremony.MemoryNetwork) *Reorder {
	return &Reorder{held: map[[2]party.ID]*ceremony.Message{}, net: net}
}

// Intercept is the hook to install on the network.
func (r *Reorder) Intercept(to party.ID, m *ceremony.Message) []*ceremony.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	link := [2]party.ID{m.From, to}
	prev := r.held[link]
	if prev == nil {
		r.held[link] = m
		return nil
	}
	delete(r.held, link)
	return []*ceremony.Message{m, prev}
}

// Flush delivers every held message.
func (r *Reorder) Flush() {
	r.mu.Lock()
	held := r.held
	r.held = map[[2]party.ID]*ceremony.Message{}
	r.mu.Unlock()
	for link, m := range held {
		r.net.Deliver(link[1], m)
	}
}
