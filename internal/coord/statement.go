// Package coord coordinates ceremonies between the processes of different
// key holders through the relay: the initiator's signed request, each
// party's signed approval or rejection, the initiator's signed start (which
// fixes the signers), each party's signed outcome, and the protocol
// messages themselves, sealed in envelopes (internal/envelope) and carried
// by a ceremony.Transport over the relay's mailboxes.
//
// The relay only stores and forwards: every statement is signed by its
// author's identity key and checked by every reader against the identities
// it trusts, and every party computes the session ID from the descriptor it
// approved.
package coord

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/paratro/paratro/internal/identity"
)

// Statement types.
const (
	TypeRequest  = "request"
	TypeApproval = "approval"
	TypeStart    = "start"
	TypeOutcome  = "outcome"
	TypeWithdraw = "withdraw"
)

const statementDomain = "paratro/statement/v1\x00"

// Statement is a signed control message: its author, what it says, and a
// signature over both and the ceremony it belongs to.
type Statement struct {
	Type     string          `json:"type"`
	Ceremony string          `json:"ceremony"`
	Signer   string          `json:"signer"`
	Body     json.RawMessage `json:"body"`
	Sig      string          `json:"sig"`
}

func statementBytes(typ, ceremonyID, signer string, body []byte) []byte {
	b := []byte(statementDomain)
	for _, s := range []string{typ, ceremonyID, signer} {
		b = append(b, s...)
		b = append(b, 0)
	}
	return append(b, body...)
}

// signStatement signs body as id's statement of type typ in ceremony.
func signStatement(id *identity.Identity, typ, ceremonyID string, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	s := Statement{Type: typ, Ceremony: ceremonyID, Signer: id.Fingerprint(), Body: b}
	s.Sig = hex.EncodeToString(id.Sign(statementBytes(typ, ceremonyID, s.Signer, b)))
	return json.Marshal(s)
}

// parseStatement decodes raw and checks its signature with the identity
// lookup returns for its signer, and that it belongs to ceremonyID.
func parseStatement(raw []byte, ceremonyID string, lookup func(string) (identity.Public, bool)) (*Statement, error) {
	var s Statement
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("unreadable statement: %w", err)
	}
	if s.Ceremony != ceremonyID {
		return nil, fmt.Errorf("%s statement belongs to ceremony %.16s…, not %.16s…", s.Type, s.Ceremony, ceremonyID)
	}
	pub, ok := lookup(s.Signer)
	if !ok {
		return nil, fmt.Errorf("%s statement signed by %s, who is not a member of this ceremony", s.Type, s.Signer)
	}
	sig, err := hex.DecodeString(s.Sig)
	if err != nil || !pub.Verify(statementBytes(s.Type, s.Ceremony, s.Signer, s.Body), sig) {
		return nil, fmt.Errorf("%s statement claiming to come from %s failed authentication", s.Type, pub.Label())
	}
	return &s, nil
}

func (s *Statement) decode(v any) error {
	if err := json.Unmarshal(s.Body, v); err != nil {
		return fmt.Errorf("%s statement from %s: %w", s.Type, s.Signer, err)
	}
	return nil
}
