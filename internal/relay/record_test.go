package relay

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestMessageRecord(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	for _, m := range []Message{
		{Seq: 1, Kind: KindEnvelope, From: "0123456789abcdef", To: "fedcba9876543210", Data: []byte{0, 1, 2, 0xff}, ReceivedAt: at},
		{Seq: 1 << 40, Kind: KindControl, From: "0123456789abcdef", Data: []byte(`{"type":"approval"}`), ReceivedAt: at},
	} {
		var got Message
		if err := decodeMessage(encodeMessage(&m), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("binary record: got %+v, want %+v", got, m)
		}
		// a log written before binary records holds JSON
		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got = Message{Seq: 99}
		if err := decodeMessage(js, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("JSON record: got %+v, want %+v", got, m)
		}
	}
	full := encodeMessage(&Message{Seq: 7, Kind: KindEnvelope, From: "a", To: "b", Data: []byte("x"), ReceivedAt: at})
	for i := 1; i < len(full)-1; i++ {
		var m Message
		if err := decodeMessage(full[:i], &m); err == nil && i < len(full)-1 {
			// a record cut inside its header must not read as one
			if m.Kind == KindEnvelope && m.From == "a" && m.To == "b" && m.ReceivedAt.Equal(at) {
				continue // only the data was cut: indistinguishable, and never stored so
			}
			t.Errorf("record cut to %d bytes read as %+v", i, m)
		}
	}
}
