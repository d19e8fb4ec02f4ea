//go:build paratro_adversary

package coord

// The malicious party of the end-to-end tests (issue 9): compiled only
// with -tags paratro_adversary, never into a release binary (the e2e test
// TestAdversaryNotInReleaseBinary checks the release binary for the
// variable's name). A party process of such a binary whose
// PARATRO_ADVERSARY names a misbehaviour changes its own outgoing protocol
// messages after the engine produced them and before they are sealed and
// posted: a real participant with valid identity signatures, speaking the
// real relay protocol, that lies in its protocol messages.
//
//	PARATRO_ADVERSARY=<mode>:<kind>:round=<n>[:field=<name>]
//
// kind selects the library protocol (keygen, refresh, sign, presign,
// presign-online; sign also matches the test signature of keygen and
// refresh), round the library round of the message. The modes:
//
//   - tamper: every message of the round whose content has the CBOR field
//     <name> goes out with the last byte of that field flipped (a changed
//     proof or ciphertext: the recipients' verification fails);
//   - garbage: every message of the round goes out as random bytes of the
//     same length (SECURITY.md (c) case 6);
//   - equivocate: the broadcast of the round goes out, then a second,
//     different one for the same slot in a second signed envelope; the
//     relay's refusal of the second (409 equivocation) is ignored, as a
//     malicious party would (case 14);
//   - split: the broadcast of the round goes out as one point-to-point
//     envelope per recipient, each with different content: a split view
//     of the broadcast, which the relay cannot see as one slot (case 14).

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/fxamacker/cbor/v2"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/relay"
)

// adversaryEnv names the misbehaviour.
const adversaryEnv = "PARATRO_ADVERSARY"

type adversarySpec struct {
	mode  string
	kind  string
	round int
	field string
}

// adversaryProtocols are the library protocols of each kind.
var adversaryProtocols = map[string][]string{
	"keygen":         {"cmp/keygen-threshold", "frost/keygen-threshold-taproot"},
	"refresh":        {"cmp/refresh-threshold"},
	"sign":           {"cmp/sign", "frost/sign-threshold-taproot"},
	"presign":        {"cmp/presign-offline"},
	"presign-online": {"cmp/presign-online"},
}

var adversary *adversarySpec

func init() {
	v := os.Getenv(adversaryEnv)
	if v == "" {
		return
	}
	s, err := parseAdversary(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "paratro: %s=%q: %v\n", adversaryEnv, v, err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "paratro: ADVERSARY BUILD: this process misbehaves on purpose (%s=%s)\n", adversaryEnv, v)
	adversary = s
}

func parseAdversary(v string) (*adversarySpec, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 3 {
		return nil, errors.New("want <mode>:<kind>:round=<n>[:field=<name>]")
	}
	s := &adversarySpec{mode: parts[0], kind: parts[1]}
	switch s.mode {
	case "tamper", "garbage", "equivocate", "split":
	default:
		return nil, fmt.Errorf("unknown mode %q (tamper, garbage, equivocate, split)", s.mode)
	}
	if _, ok := adversaryProtocols[s.kind]; !ok {
		return nil, fmt.Errorf("unknown kind %q", s.kind)
	}
	for _, kv := range parts[2:] {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "round":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad round %q", val)
			}
			s.round = n
		case "field":
			s.field = val
		default:
			return nil, fmt.Errorf("unknown setting %q", k)
		}
	}
	if s.round == 0 || (s.mode == "tamper") != (s.field != "") {
		return nil, errors.New("round is required, and field with tamper only")
	}
	return s, nil
}

// outbound posts msg, changed as PARATRO_ADVERSARY says when it matches.
func (t *Transport) outbound(ctx context.Context, msg *ceremony.Message) error {
	s := adversary
	if s == nil || msg.Type != ceremony.TypeProtocol || msg.Round != s.round {
		return t.post(ctx, msg)
	}
	pm := new(protocol.Message)
	if err := pm.UnmarshalBinary(msg.Payload); err != nil || int(pm.RoundNumber) != s.round ||
		!slices.Contains(adversaryProtocols[s.kind], pm.Protocol) {
		return t.post(ctx, msg)
	}
	say := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "paratro: adversary: %s round %d: %s\n", pm.Protocol, s.round, fmt.Sprintf(format, args...))
	}
	switch s.mode {
	case "tamper":
		fields, ok := contentFields(pm)
		if !ok || len(fields[s.field]) == 0 {
			return t.post(ctx, msg)
		}
		raw := slices.Clone([]byte(fields[s.field]))
		raw[len(raw)-1] ^= 0x01
		fields[s.field] = raw
		bad, err := withContent(pm, fields)
		if err != nil {
			return err
		}
		say("field %s flipped in the message to %q", s.field, msg.To)
		return t.post(ctx, withPayload(msg, bad))
	case "garbage":
		junk := make([]byte, len(msg.Payload))
		rand.Read(junk)
		say("random bytes sent instead of the message to %q", msg.To)
		return t.post(ctx, withPayload(msg, junk))
	case "equivocate":
		if !msg.Broadcast() {
			return t.post(ctx, msg)
		}
		if err := t.post(ctx, msg); err != nil {
			return err
		}
		other, err := variant(pm, 1)
		if err != nil {
			return err
		}
		err = t.post(ctx, withPayload(msg, other))
		var api *relay.APIError
		if errors.As(err, &api) && api.Code == "equivocation" {
			say("second, different broadcast refused by the relay: %v", err)
			return nil
		}
		say("second, different broadcast posted: %v", err)
		return err
	case "split":
		if !msg.Broadcast() {
			return t.post(ctx, msg)
		}
		self := t.self.Fingerprint()
		var to []string
		for fp := range t.members {
			if fp != self {
				to = append(to, fp)
			}
		}
		slices.Sort(to)
		for i, fp := range to {
			payload := msg.Payload
			if i > 0 {
				var err error
				if payload, err = variant(pm, byte(i)); err != nil {
					return err
				}
			}
			m := withPayload(msg, payload)
			m.To = party.ID(fp)
			if err := t.post(ctx, m); err != nil {
				return err
			}
		}
		say("broadcast sent as %d different point-to-point messages", len(to))
		return nil
	}
	return t.post(ctx, msg)
}

func withPayload(msg *ceremony.Message, payload []byte) *ceremony.Message {
	m := *msg
	m.Payload = payload
	return &m
}

// variant is pm with the last byte of its content xored with x.
func variant(pm *protocol.Message, x byte) ([]byte, error) {
	c := *pm
	c.Data = slices.Clone(pm.Data)
	c.Data[len(c.Data)-1] ^= x
	return c.MarshalBinary()
}

func contentFields(pm *protocol.Message) (map[string]cbor.RawMessage, bool) {
	var fields map[string]cbor.RawMessage
	if err := cbor.Unmarshal(pm.Data, &fields); err != nil {
		return nil, false
	}
	return fields, true
}

func withContent(pm *protocol.Message, fields map[string]cbor.RawMessage) ([]byte, error) {
	data, err := cbor.Marshal(fields)
	if err != nil {
		return nil, err
	}
	c := *pm
	c.Data = data
	return c.MarshalBinary()
}
