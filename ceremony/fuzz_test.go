package ceremony_test

import (
	"errors"
	"testing"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/fuzzseed"
)

// TestWriteProtocolMessageSeeds records, when seeds are being written
// (fuzzseed.Env), every protocol message b receives in a real 2-of-3 CMP
// (ECDSA) and FROST (Schnorr) keygen among a, b and c, re-addressed to the
// session FuzzDecodeProtocolMessage checks them against (same setups,
// SSID). A CMP keygen takes seconds, so they are only written, never made
// on a normal run.
func TestWriteProtocolMessageSeeds(t *testing.T) {
	if !fuzzseed.Writing() {
		t.Skip("writes the corpus of FuzzDecodeProtocolMessage; set " + fuzzseed.Env + "=1")
	}
	ssid := fuzzSSID()
	for setup, scheme := range map[byte]ceremony.Scheme{0: ceremony.SchemeECDSA, 2: ceremony.SchemeSchnorr} {
		d := ceremonytest.Keygen(scheme, 2, "a", "b", "c")
		net := ceremony.NewMemoryNetwork(d.Parties...)
		net.SetIntercept(func(to party.ID, m *ceremony.Message) []*ceremony.Message {
			if to == "b" && m.Type == ceremony.TypeProtocol {
				pm := new(protocol.Message)
				if err := pm.UnmarshalBinary(m.Payload); err != nil {
					panic(err)
				}
				pm.SSID = ssid
				b, err := pm.MarshalBinary()
				if err != nil {
					panic(err)
				}
				fuzzseed.WriteFor(t, "FuzzDecodeProtocolMessage", setup, map[party.ID]byte{"a": 0, "c": 1}[m.From], m.To == "b", m.Round, b)
			}
			return []*ceremony.Message{m}
		})
		for id, o := range ceremonytest.Run(ctx, d, net, d.Parties, nil) {
			if o.Err != nil {
				t.Fatalf("%s: %v", id, o.Err)
			}
		}
	}
}

// fuzzSSID is the SSID of the sessions FuzzDecodeProtocolMessage builds
// (fuzz_internal_test.go): SHA-256 of "paratro fuzz ssid".
func fuzzSSID() []byte { return ceremonytest.Digest("paratro fuzz ssid") }

// FuzzUnmarshalPresignature feeds arbitrary bytes to the reader of stored
// presignatures. Refusals match ErrPresignatureFormat; an accepted
// presignature validates, and marshalling it gives bytes that read back
// to an equal presignature (decode, encode, decode keeps every value; not
// the bytes: the library encodes its point maps in Go's random map order).
// The corpus holds real presignatures of the TEST-ONLY fixture wallet.
func FuzzUnmarshalPresignature(f *testing.F) {
	if fuzzseed.Writing() {
		shares := ceremonytest.ECDSAShares(f)
		pd := ceremonytest.Sign(shares, nil, "alice", "bob")
		pd.Kind, pd.Digest = ceremony.KindPresign, nil
		out, _ := ceremonytest.RunAll(ctx, pd, shares)
		for id, o := range out {
			if o.Err != nil {
				f.Fatalf("%s: %v", id, o.Err)
			}
			b, err := ceremony.MarshalPresignature(o.Result.Presignature)
			if err != nil {
				f.Fatal(err)
			}
			fuzzseed.Write(f, b)
		}
	}
	fuzzseed.Add(f, []byte{})
	fuzzseed.Add(f, []byte{0xa1, 0x66, 'f', 'o', 'r', 'm', 'a', 't', 0x01})
	fuzzseed.Add(f, []byte{0xa2, 0x66, 'f', 'o', 'r', 'm', 'a', 't', 0x01, 0x62, 'i', 'd', 0x58, 0x20,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32})
	fuzzseed.Add(f, []byte{0xa1, 0x61, 'r', 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := ceremony.UnmarshalPresignature(b)
		if err != nil {
			if !errors.Is(err, ceremony.ErrPresignatureFormat) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		if err := ps.Validate(); err != nil {
			t.Fatalf("accepted an invalid presignature: %v", err)
		}
		again, err := ceremony.MarshalPresignature(ps)
		if err != nil {
			t.Fatalf("cannot marshal an accepted presignature: %v", err)
		}
		ps2, err := ceremony.UnmarshalPresignature(again)
		if err != nil {
			t.Fatalf("re-marshalled presignature refused: %v", err)
		}
		if !samePresignature(ps, ps2) {
			t.Fatal("decode, encode, decode changed the presignature")
		}
	})
}

// samePresignature compares every value of two presignatures.
func samePresignature(a, b *ceremony.Presignature) bool {
	if string(a.ID) != string(b.ID) || !a.R.Equal(b.R) || !a.KShare.Equal(b.KShare) || !a.ChiShare.Equal(b.ChiShare) ||
		len(a.RBar.Points) != len(b.RBar.Points) || len(a.S.Points) != len(b.S.Points) {
		return false
	}
	for id, p := range a.RBar.Points {
		if q, ok := b.RBar.Points[id]; !ok || !p.Equal(q) {
			return false
		}
	}
	for id, p := range a.S.Points {
		if q, ok := b.S.Points[id]; !ok || !p.Equal(q) {
			return false
		}
	}
	return true
}
