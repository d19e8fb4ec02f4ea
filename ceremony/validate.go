package ceremony

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/fxamacker/cbor/v2"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
)

// DefaultMaxMessageSize caps an inbound payload. The largest honest message
// is the CMP keygen round-4 broadcast, about 85 KB (SECURITY.md B4).
const DefaultMaxMessageSize = 256 << 10

// zkStatParam is the number of challenges in the library's zkmod and zkprm
// proofs (internal/params.StatParam).
const zkStatParam = 80

// wireMessage mirrors the library's protocol.Message encoding, so it can be
// decoded strictly: the library's own UnmarshalBinary ignores errors
// (SECURITY.md #19).
type wireMessage struct {
	SSID                  []byte
	From                  party.ID
	To                    party.ID
	Protocol              string
	RoundNumber           uint16
	Data                  []byte
	Broadcast             bool
	BroadcastVerification []byte
}

// decodeProtocolMessage decodes and checks one inbound protocol message from
// sender `from`, addressed to `to` on the transport. It returns a reason
// suitable for an error message when the message must be rejected.
func (s *session) decodeProtocolMessage(from, to party.ID, outerRound int, payload []byte) (*protocol.Message, error) {
	var w wireMessage
	if err := strictCBOR.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("undecodable message: %v", err)
	}
	m := &protocol.Message{SSID: w.SSID, From: w.From, To: w.To, Protocol: w.Protocol,
		Data: w.Data, Broadcast: w.Broadcast, BroadcastVerification: w.BroadcastVerification}
	setRound(&m.RoundNumber, w.RoundNumber)
	if err := s.checkHeader(m, from, to, outerRound); err != nil {
		return nil, err
	}
	if err := s.checkFields(m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkHeader validates every header field (SECURITY.md B4).
func (s *session) checkHeader(m *protocol.Message, from, to party.ID, outerRound int) error {
	switch {
	case m.From != from:
		return fmt.Errorf("message claims to be from %q", Sanitize(string(m.From)))
	case m.Protocol != s.plan.protocol:
		return fmt.Errorf("message is for protocol %q, not %q", Sanitize(m.Protocol), s.plan.protocol)
	case len(m.Data) == 0:
		return fmt.Errorf("message has no content")
	case int(m.RoundNumber) != outerRound:
		return fmt.Errorf("message round %d does not match its envelope round %d", m.RoundNumber, outerRound)
	case m.RoundNumber < 2 || int(m.RoundNumber) > s.plan.final:
		return fmt.Errorf("message is for round %d, outside 2-%d", m.RoundNumber, s.plan.final)
	case !bytes.Equal(m.SSID, s.ssid):
		return fmt.Errorf("message is for another protocol session (different configuration or inputs)")
	}
	if m.Broadcast != (m.To == "") || m.Broadcast != (to == "") {
		return fmt.Errorf("message mixes broadcast and point-to-point addressing")
	}
	if !m.Broadcast && m.To != s.cfg.Self {
		return fmt.Errorf("point-to-point message is addressed to %q, not this party", Sanitize(string(m.To)))
	}
	return nil
}

// checkFields pre-parses the message bodies known to crash the library
// (SECURITY.md #16, B4): polynomial commitments whose length prefix does
// not match the threshold, and zkmod/zkprm proofs with missing parts.
func (s *session) checkFields(m *protocol.Message) error {
	if err := checkLeaves(m.Data); err != nil {
		return err
	}
	if !m.Broadcast {
		return nil
	}
	switch {
	case (s.plan.protocol == protoCMPKeygen || s.plan.protocol == protoCMPRefresh) && m.RoundNumber == 3:
		return s.checkPolynomialField(m.Data, "VSSPolynomial")
	case (s.plan.protocol == protoCMPKeygen || s.plan.protocol == protoCMPRefresh) && m.RoundNumber == 4:
		return checkProofs(m.Data)
	case s.plan.protocol == protoFROSTKeygen && m.RoundNumber == 2:
		return s.checkPolynomialField(m.Data, "Phi_i")
	}
	return nil
}

func (s *session) checkPolynomialField(data []byte, field string) error {
	var fields map[string]cbor.RawMessage
	if err := strictCBOR.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("undecodable round content: %v", err)
	}
	raw, ok := fields[field]
	if !ok {
		return fmt.Errorf("%s is missing", field)
	}
	var poly []byte
	if err := strictCBOR.Unmarshal(raw, &poly); err != nil {
		return fmt.Errorf("%s is not a byte string", field)
	}
	if len(poly) < 4 {
		return fmt.Errorf("%s is truncated (%d bytes)", field, len(poly))
	}
	count := binary.BigEndian.Uint32(poly)
	if count != uint32(s.plan.poly) {
		return fmt.Errorf("%s declares %d coefficients, the threshold needs %d", field, count, s.plan.poly)
	}
	var body struct {
		IsConstant   bool
		Coefficients []cbor.RawMessage
	}
	if err := strictCBOR.Unmarshal(poly[4:], &body); err != nil {
		return fmt.Errorf("%s is malformed: %v", field, err)
	}
	if len(body.Coefficients) != s.plan.poly || body.IsConstant != (s.d.Kind == KindRefresh) {
		return fmt.Errorf("%s has %d coefficients, the threshold needs %d", field, len(body.Coefficients), s.plan.poly)
	}
	return nil
}

// maxLeaf bounds every byte string in a message's content (other than
// the polynomial commitments, checked against the threshold instead). The
// largest honest one is an element mod N² (512 bytes). The library reads
// a byte string into a number as wide as the string, zeros included, and
// its constant-time arithmetic costs grow with that width: a 200 KiB
// ciphertext of zeros passes the range check and then keeps
// paillier.ValidateCiphertexts (IsUnit) busy for minutes, inside Accept,
// past every deadline.
const maxLeaf = 2048

// polynomialFields may exceed maxLeaf: t+1 points; checkPolynomialField
// checks them.
var polynomialFields = map[string]bool{"VSSPolynomial": true, "Phi_i": true}

// checkLeaves rejects content holding an over-long byte string.
func checkLeaves(data []byte) error {
	var fields map[string]any
	if err := strictCBOR.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("undecodable round content: %v", err)
	}
	for name, v := range fields {
		if polynomialFields[name] {
			continue
		}
		if n := longestLeaf(v); n > maxLeaf {
			return fmt.Errorf("%s holds a %d-byte value (at most %d)", Sanitize(name), n, maxLeaf)
		}
	}
	return nil
}

func longestLeaf(v any) int {
	n := 0
	switch x := v.(type) {
	case []byte:
		n = len(x)
	case string:
		n = len(x)
	case big.Int:
		n = len(x.Bytes())
	case *big.Int:
		n = len(x.Bytes())
	case cbor.Tag:
		n = longestLeaf(x.Content)
	case []any:
		for _, e := range x {
			n = max(n, longestLeaf(e))
		}
	case map[any]any:
		for k, e := range x {
			n = max(n, longestLeaf(k), longestLeaf(e))
		}
	case map[string]any:
		for _, e := range x {
			n = max(n, longestLeaf(e))
		}
	}
	return n
}

type modProofWire struct {
	W         *big.Int
	Responses []struct {
		A, B bool
		X, Z *big.Int
	}
}

type prmProofWire struct {
	As, Zs []*big.Int
}

// checkProofs checks the shape of the CMP keygen round-4 zkmod and zkprm
// proofs: a truncated zkmod proof dereferences nil inside the library
// (SECURITY.md #16d).
func checkProofs(data []byte) error {
	var body struct {
		Mod *modProofWire
		Prm *prmProofWire
	}
	if err := strictCBOR.Unmarshal(data, &body); err != nil {
		return fmt.Errorf("undecodable round content: %v", err)
	}
	if body.Mod == nil || body.Mod.W == nil || len(body.Mod.Responses) != zkStatParam {
		return fmt.Errorf("the Paillier modulus proof (Mod) is incomplete")
	}
	for _, r := range body.Mod.Responses {
		if r.X == nil || r.Z == nil {
			return fmt.Errorf("the Paillier modulus proof (Mod) has an empty response")
		}
	}
	if body.Prm == nil || len(body.Prm.As) != zkStatParam || len(body.Prm.Zs) != zkStatParam {
		return fmt.Errorf("the Pedersen parameter proof (Prm) is incomplete")
	}
	for i := range body.Prm.As {
		if body.Prm.As[i] == nil || body.Prm.Zs[i] == nil {
			return fmt.Errorf("the Pedersen parameter proof (Prm) has an empty value")
		}
	}
	return nil
}

// setRound assigns a round number to the library's (internal) round type.
func setRound[T ~uint16](dst *T, v uint16) { *dst = T(v) }
