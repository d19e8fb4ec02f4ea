package ceremony_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
)

// The probes of SECURITY.md appendix B: a malicious carol sends messages
// known to crash the threshold library (#16). Every honest party must end
// with an error naming carol, and this test process must stay up.

// keygenProbe runs a 2-of-3 key generation where carol's messages pass
// through the given tampering. want is the reason the pre-Accept check
// gives: the message must be stopped before the library sees it, not merely
// survive it under recover.
func keygenProbe(t *testing.T, scheme ceremony.Scheme, want string, tamper ceremonytest.Intercept) {
	t.Helper()
	d := ceremonytest.Keygen(scheme, 2, ceremonytest.FixtureParties...)
	net := ceremony.NewMemoryNetwork(d.Parties...)
	net.SetIntercept(tamper)
	out := ceremonytest.Run(ctx, d, net, d.Parties, nil)
	requireBlamed(t, out, "carol", "alice", "bob")
	if !strings.Contains(out["alice"].Err.Error()+out["bob"].Err.Error(), want) {
		t.Fatalf("errors do not give the pre-check's reason %q: %v / %v", want, out["alice"].Err, out["bob"].Err)
	}
}

func TestProbeCMPKeygenMessagesThatCrashTheLibrary(t *testing.T) {
	slowCMP(t)
	t.Run("a 5-byte VSS polynomial declaring 2^32-1 coefficients (fatal OOM in the library)", func(t *testing.T) {
		keygenProbe(t, ceremony.SchemeECDSA, "VSSPolynomial declares 4294967295 coefficients", ceremonytest.Tamper("carol", 3, true, func(pm *protocol.Message) {
			ceremonytest.SetField(pm, "VSSPolynomial", ceremonytest.Bytes([]byte{0xff, 0xff, 0xff, 0xff, 0x80}))
		}))
	})
	t.Run("a zkmod proof truncated to one response (nil dereference)", func(t *testing.T) {
		keygenProbe(t, ceremony.SchemeECDSA, "(Mod) is incomplete", ceremonytest.Tamper("carol", 4, true, func(pm *protocol.Message) {
			var mod map[string]cbor.RawMessage
			mustCBOR(cbor.Unmarshal(ceremonytest.Field(pm, "Mod"), &mod))
			var responses []cbor.RawMessage
			mustCBOR(cbor.Unmarshal(mod["Responses"], &responses))
			mod["Responses"] = mustMarshal(responses[:1])
			ceremonytest.SetField(pm, "Mod", mustMarshal(mod))
		}))
	})
	t.Run("a zkmod proof without its W (nil dereference)", func(t *testing.T) {
		keygenProbe(t, ceremony.SchemeECDSA, "(Mod) is incomplete", ceremonytest.Tamper("carol", 4, true, func(pm *protocol.Message) {
			var mod map[string]cbor.RawMessage
			mustCBOR(cbor.Unmarshal(ceremonytest.Field(pm, "Mod"), &mod))
			delete(mod, "W")
			ceremonytest.SetField(pm, "Mod", mustMarshal(mod))
		}))
	})
	t.Run("a Pedersen parameter proof truncated to one value (index out of range)", func(t *testing.T) {
		keygenProbe(t, ceremony.SchemeECDSA, "(Prm) is incomplete", ceremonytest.Tamper("carol", 4, true, func(pm *protocol.Message) {
			var prm map[string]cbor.RawMessage
			mustCBOR(cbor.Unmarshal(ceremonytest.Field(pm, "Prm"), &prm))
			for _, k := range []string{"As", "Zs"} {
				var vs []cbor.RawMessage
				mustCBOR(cbor.Unmarshal(prm[k], &vs))
				prm[k] = mustMarshal(vs[:1])
			}
			ceremonytest.SetField(pm, "Prm", mustMarshal(prm))
		}))
	})
	t.Run("a round-4 point-to-point message with an empty recipient (nil Paillier key)", func(t *testing.T) {
		keygenProbe(t, ceremony.SchemeECDSA, "mixes broadcast and point-to-point", ceremonytest.Tamper("carol", 4, false, func(pm *protocol.Message) {
			pm.To = ""
		}))
	})
}

func TestProbeFROSTCommitmentsOfTheWrongDegree(t *testing.T) {
	cases := []struct {
		name, want string
		mutate     func(phi []byte) []byte
	}{
		{"two bytes (index out of range)", "Phi_i is truncated", func([]byte) []byte { return []byte{0, 1} }},
		{"5 bytes declaring 2^32-1 (OOM)", "Phi_i declares 4294967295", func([]byte) []byte { return []byte{0xff, 0xff, 0xff, 0xff, 0x80} }},
		{"t+2 consistent coefficients (panic)", "Phi_i declares 3 coefficients, the threshold needs 2", addCoefficient},
	}
	for _, c := range cases {
		mutate := c.mutate
		t.Run("a Phi_i commitment of "+c.name, func(t *testing.T) {
			keygenProbe(t, ceremony.SchemeSchnorr, c.want, ceremonytest.Tamper("carol", 2, true, func(pm *protocol.Message) {
				var phi []byte
				mustCBOR(cbor.Unmarshal(ceremonytest.Field(pm, "Phi_i"), &phi))
				ceremonytest.SetField(pm, "Phi_i", ceremonytest.Bytes(mutate(phi)))
			}))
		})
	}
}

// addCoefficient raises a polynomial commitment's degree by one, keeping
// its encoding well-formed.
func addCoefficient(phi []byte) []byte {
	var body struct {
		IsConstant   bool
		Coefficients []cbor.RawMessage
	}
	mustCBOR(cbor.Unmarshal(phi[4:], &body))
	body.Coefficients = append(body.Coefficients, body.Coefficients[len(body.Coefficients)-1])
	out := binary.BigEndian.AppendUint32(nil, uint32(len(body.Coefficients)))
	return append(out, mustMarshal(body)...)
}

func mustCBOR(err error) {
	if err != nil {
		panic(err)
	}
}

func mustMarshal(v any) []byte {
	b, err := cbor.Marshal(v)
	mustCBOR(err)
	return b
}
