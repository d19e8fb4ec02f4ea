package ceremony

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"testing"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
	"github.com/taurusgroup/multi-party-sig/protocols/frost"

	"github.com/paratro/paratro/internal/fuzzseed"
)

// fuzzSSID is the library session hash of every fuzzed session; the seed
// messages are rewritten to carry it (see TestWriteProtocolMessageSeeds).
var fuzzSSID = func() []byte { d := sha256.Sum256([]byte("paratro fuzz ssid")); return d[:] }()

// fuzzMembers are the parties of every fuzzed session; this party is "b".
var fuzzMembers = []party.ID{"a", "b", "c"}

// fuzzSetups are the sessions an inbound message is checked against: every
// protocol the engine runs, with the threshold of a 2-of-3 wallet.
var fuzzSetups = []struct {
	kind        Kind
	protocol    string
	final, poly int
}{
	{KindKeygen, protoCMPKeygen, 5, 2},
	{KindRefresh, protoCMPRefresh, 5, 1},
	{KindKeygen, protoFROSTKeygen, 3, 2},
	{KindRefresh, protoFROSTKeygen, 3, 1},
	{KindSign, protoCMPSign, 5, 0},
	{KindPresign, protoCMPPresign, 7, 0},
	{KindSign, protoCMPPresignOnline, 8, 0},
	{KindSign, protoFROSTSign, 3, 0},
}

// fuzzSession is the engine's state for checking b's inbound messages.
func fuzzSession(setup byte) *session {
	st := fuzzSetups[int(setup)%len(fuzzSetups)]
	p := &plan{protocol: st.protocol, final: st.final, poly: st.poly, members: fuzzMembers}
	return &session{d: &Descriptor{Kind: st.kind}, cfg: Config{Self: "b"}, plan: p, ssid: fuzzSSID}
}

// frostKeygenSeeds are real round-2 broadcasts of a FROST keygen by a and
// c, re-addressed to the fuzzed session.
func frostKeygenSeeds(f testing.TB) [][]byte {
	var out [][]byte
	for _, id := range []party.ID{"a", "c"} {
		h, err := protocol.NewMultiHandler(frost.KeygenTaproot(id, fuzzMembers, 1), []byte("fuzz"))
		if err != nil {
			f.Fatal(err)
		}
		for pm := range h.Listen() {
			pm.SSID = fuzzSSID
			b, err := pm.MarshalBinary()
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
			break
		}
		h.Stop()
	}
	return out
}

// FuzzDecodeProtocolMessage feeds arbitrary payloads, as the transport
// delivers them (sender, addressing, envelope round), to the checks every
// inbound protocol message passes before the engine hands it to the
// library. They must never panic. An accepted message comes from its
// transport sender, is for this protocol session and a round in 2..final,
// has content, is addressed consistently, passes the shape checks of its
// round, and re-encodes to a message that is accepted the same.
func FuzzDecodeProtocolMessage(f *testing.F) {
	for _, b := range frostKeygenSeeds(f) {
		fuzzseed.Add(f, byte(2), byte(0), false, 2, b)
		fuzzseed.Add(f, byte(3), byte(1), false, 2, b)
	}
	enc := func(pm *protocol.Message) []byte {
		b, err := pm.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	poly := func(field string, n int, constant bool) []byte {
		coeffs := make([]cborRaw, n)
		for i := range coeffs {
			coeffs[i] = cborRaw{0x41, byte(i)}
		}
		body, _ := canonicalCBOR.Marshal(struct {
			IsConstant   bool
			Coefficients []cborRaw
		}{constant, coeffs})
		b, _ := canonicalCBOR.Marshal(map[string][]byte{field: append([]byte{0, 0, 0, byte(n)}, body...)})
		return b
	}
	msg := func(round int, to party.ID, data []byte) *protocol.Message {
		pm := &protocol.Message{SSID: fuzzSSID, From: "a", To: to, Protocol: protoCMPKeygen, Data: data, Broadcast: to == ""}
		setRound(&pm.RoundNumber, uint16(round))
		return pm
	}
	fuzzseed.Add(f, byte(0), byte(0), false, 3, enc(msg(3, "", poly("VSSPolynomial", 2, false))))
	fuzzseed.Add(f, byte(1), byte(0), false, 3, enc(msg(3, "", poly("VSSPolynomial", 1, true))))
	fuzzseed.Add(f, byte(0), byte(0), false, 3, enc(msg(3, "", poly("VSSPolynomial", 200, false))))
	fuzzseed.Add(f, byte(0), byte(0), true, 3, enc(msg(3, "b", []byte{0xa0})))
	fuzzseed.Add(f, byte(0), byte(0), false, 4, enc(msg(4, "", []byte{0xa1, 0x63, 'M', 'o', 'd', 0xa0})))
	fuzzseed.Add(f, byte(0), byte(0), false, 2, []byte{})
	fuzzseed.Add(f, byte(4), byte(1), true, 3, []byte{0xbf, 0xff})
	fuzzseed.Add(f, byte(0), byte(0), false, 3, []byte{0xa1, 0x64, 'S', 'S', 'I', 'D', 0x5a, 0xff, 0xff, 0xff, 0xff})

	f.Fuzz(func(t *testing.T, setup, fromIdx byte, toSelf bool, round int, payload []byte) {
		if len(payload) > DefaultMaxMessageSize {
			return // handleProtocol refuses it before decoding
		}
		s := fuzzSession(setup)
		from := []party.ID{"a", "c"}[fromIdx%2]
		var to party.ID
		if toSelf {
			to = "b"
		}
		orig := bytes.Clone(payload)
		pm, err := s.decodeProtocolMessage(from, to, round, payload)
		if !bytes.Equal(payload, orig) {
			t.Fatal("the checks changed the payload")
		}
		if err != nil {
			if pm != nil || err.Error() == "" {
				t.Fatalf("refusal %v with message %v", err, pm)
			}
			return
		}
		r := int(pm.RoundNumber)
		switch {
		case pm.From != from || pm.Protocol != s.plan.protocol || !bytes.Equal(pm.SSID, fuzzSSID) || len(pm.Data) == 0:
			t.Fatalf("accepted a message for someone else: %+v", pm)
		case r != round || r < 2 || r > s.plan.final:
			t.Fatalf("accepted round %d (envelope %d, final %d)", r, round, s.plan.final)
		case pm.Broadcast == toSelf || pm.Broadcast != (pm.To == "") || (!pm.Broadcast && pm.To != "b"):
			t.Fatalf("accepted inconsistent addressing: broadcast %v to %q on transport to %q", pm.Broadcast, pm.To, to)
		}
		if s.checkFields(pm) != nil {
			t.Fatal("accepted a message whose fields do not check")
		}
		again, err := pm.MarshalBinary()
		if err != nil {
			t.Fatalf("cannot encode an accepted message: %v", err)
		}
		pm2, err := s.decodeProtocolMessage(from, to, round, again)
		if err != nil {
			t.Fatalf("re-encoded message refused: %v", err)
		}
		if pm2.From != pm.From || pm2.To != pm.To || pm2.RoundNumber != pm.RoundNumber || pm2.Broadcast != pm.Broadcast ||
			!bytes.Equal(pm2.Data, pm.Data) || !bytes.Equal(pm2.BroadcastVerification, pm.BroadcastVerification) {
			t.Fatalf("decode, encode, decode changed the message:\n%+v\n%+v", pm, pm2)
		}
	})
}

// cborRaw is a pre-encoded CBOR item.
type cborRaw = []byte

// FuzzDecodeAbortNotice feeds arbitrary bytes to the decoder of a peer's
// abort notice. It never fails or panics, reads at most 4096 bytes, keeps
// at most MaxParties culprits, and a notice it encoded reads back the same.
func FuzzDecodeAbortNotice(f *testing.F) {
	fuzzseed.Add(f, abortNotice{Reason: "ceremony deadline passed", Culprits: []party.ID{"a", "c"}, Confirmed: true}.encode())
	fuzzseed.Add(f, abortNotice{Reason: "bad\x1b[31mred"}.encode())
	fuzzseed.Add(f, []byte("plain text reason"))
	fuzzseed.Add(f, []byte(`{"reason":"x","culprits":["a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a"]}`))
	fuzzseed.Add(f, []byte(`{"reason":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := decodeAbortNotice(b)
		if len(n.Culprits) > MaxParties {
			t.Fatalf("%d culprits kept", len(n.Culprits))
		}
		if len(n.Reason) > 4096 && !json.Valid(b[:min(len(b), 4096)]) {
			t.Fatalf("kept %d bytes of bare text", len(n.Reason))
		}
		enc := n.encode()
		if len(enc) > 4096 {
			return
		}
		m := decodeAbortNotice(enc)
		if m.Reason != Sanitize(n.Reason) || m.Confirmed != n.Confirmed || !slices.Equal(m.Culprits, sanitizedIDs(n.Culprits)) {
			t.Fatalf("encode then decode changed %+v into %+v", n, m)
		}
	})
}

// sanitizedIDs is ids as JSON carries them (invalid UTF-8 replaced).
func sanitizedIDs(ids []party.ID) []party.ID {
	var out []party.ID
	for _, id := range ids {
		b, _ := json.Marshal(string(id))
		var s string
		_ = json.Unmarshal(b, &s)
		out = append(out, party.ID(s))
	}
	return out
}
