package ceremony_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
)

// The probes of SECURITY.md appendix B: a malicious carol sends messages
// known to crash the threshold library (#16). Every honest party must end
// with an error naming carol, and this test process must stay up.

// keygenProbe runs a 2-of-3 key generation where carol's messages pass
// through the given tampering. want is the reason the pre-Accept check
// gives: the message must be stopped before the library sees it, not merely
// survive it under recover.
//
// Nobody returns a key, and the process's heap and resident set grow by
// less than 50 MiB (release case 8).
func keygenProbe(t *testing.T, scheme ceremony.Scheme, want string, tamper ceremonytest.Intercept) {
	t.Helper()
	d := ceremonytest.Keygen(scheme, 2, ceremonytest.FixtureParties...)
	net := ceremony.NewMemoryNetwork(d.Parties...)
	net.SetIntercept(tamper)
	memory := watchMemory(t)
	out := ceremonytest.Run(ctx, d, net, d.Parties, nil)
	requireBlamed(t, out, "carol", "alice", "bob")
	requireNoResult(t, out, d.Parties...)
	if !strings.Contains(out["alice"].Err.Error()+out["bob"].Err.Error(), want) {
		t.Fatalf("errors do not give the pre-check's reason %q: %v / %v", want, out["alice"].Err, out["bob"].Err)
	}
	memory()
}

// polynomial is one malformed polynomial commitment and the reason the
// pre-Accept check gives for it.
type polynomial struct {
	value []byte
	want  string
}

// twoBytes is a polynomial shorter than its 4-byte coefficient count
// (index out of range in the library's decoder).
func twoBytes(field string) polynomial {
	return polynomial{[]byte{0, 1}, field + " is truncated (2 bytes)"}
}

// countOnly is a polynomial of 5 bytes declaring 2^32-1 coefficients (the
// library allocates for all of them: fatal out of memory).
func countOnly(field string) polynomial {
	return polynomial{[]byte{0xff, 0xff, 0xff, 0xff, 0x80}, field + " declares 4294967295 coefficients"}
}

// splitPolynomialProbe runs ceremony d (a 2-of-3 keygen or refresh) where
// carol's round-`round` broadcast carries a different malformed polynomial
// commitment in `field` to each honest party: one CMP ceremony (seconds of
// Paillier key generation) tries two malformed values. The honest parties'
// abort notices to each other are dropped (carol still gets them), so each
// must stop carol's message itself, before the library sees it, with the
// reason for the value it got. Nobody returns a result, and the heap and
// resident set grow by less than 50 MiB.
func splitPolynomialProbe(t *testing.T, d *ceremony.Descriptor, configure func(party.ID, *ceremony.Config), round int, field string, bad map[party.ID]polynomial) {
	t.Helper()
	net := ceremony.NewMemoryNetwork(d.Parties...)
	net.SetIntercept(ceremonytest.Chain(
		ceremonytest.Only(outer(d), ceremonytest.Equivocate("carol", round, func(to party.ID, pm *protocol.Message) {
			ceremonytest.SetField(pm, field, ceremonytest.Bytes(bad[to].value))
		})),
		ceremonytest.DropWhere(ceremonytest.And(ceremonytest.OfType(ceremony.TypeAbort),
			ceremonytest.Not(ceremonytest.From("carol")), ceremonytest.Not(ceremonytest.To("carol")))),
	))
	memory := watchMemory(t)
	out := ceremonytest.Run(ctx, d, net, d.Parties, configure)
	requireNoResult(t, out, d.Parties...)
	for id, p := range bad {
		e := asError(t, out[id].Err)
		if !errors.Is(e, ceremony.ErrMisbehaviour) || !slices.Equal(e.Culprits, []party.ID{"carol"}) ||
			!strings.Contains(e.Error(), p.want) || !strings.Contains(e.Error(), "carol") {
			t.Fatalf("%s: got %v, want carol found at fault: %q", id, e, p.want)
		}
		t.Logf("%s: %v", id, e)
	}
	memory()
}

func TestProbeCMPKeygenMessagesThatCrashTheLibrary(t *testing.T) {
	slowCMP(t)
	t.Run("a VSS polynomial of 2 bytes to alice (index out of range), of 5 bytes declaring 2^32-1 coefficients to bob (fatal OOM in the library)", func(t *testing.T) {
		d := ceremonytest.Keygen(ceremony.SchemeECDSA, 2, ceremonytest.FixtureParties...)
		splitPolynomialProbe(t, d, nil, 3, "VSSPolynomial", map[party.ID]polynomial{
			"alice": twoBytes("VSSPolynomial"), "bob": countOnly("VSSPolynomial")})
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

// TestProbeCMPRefreshPolynomialsThatCrashTheLibrary is release case 8 for
// the CMP refresh, whose round-3 VSSPolynomial goes through the same
// decoder as the keygen's: one refresh of the fixture wallet, alice gets a
// polynomial of 2 bytes and bob one of 5 bytes declaring 2^32-1
// coefficients.
func TestProbeCMPRefreshPolynomialsThatCrashTheLibrary(t *testing.T) {
	slowCMP(t)
	sh := ceremonytest.ECDSAShares(t)
	splitPolynomialProbe(t, ceremonytest.Refresh(sh), withShares(sh), 3, "VSSPolynomial", map[party.ID]polynomial{
		"alice": twoBytes("VSSPolynomial"), "bob": countOnly("VSSPolynomial")})
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
