package ceremony

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/taurusgroup/multi-party-sig/pkg/ecdsa"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/taproot"
	"github.com/taurusgroup/multi-party-sig/protocols/cmp"
	"github.com/taurusgroup/multi-party-sig/protocols/frost"
)

// result turns the finished handler's output into a Result.
func (s *session) result() (*Result, error) {
	out, err := s.handler.Result()
	if err != nil {
		return nil, s.libraryError(err)
	}
	res := &Result{SessionID: s.sid}
	switch v := out.(type) {
	case *cmp.Config:
		err = s.newShare(res, NewECDSAShare(v))
	case *frost.TaprootConfig:
		err = s.newShare(res, NewSchnorrShare(v))
	case *ecdsa.Signature:
		res.PublicKey = s.plan.signer.PublicKey() // the child's key when derived
		res.Signature, err = encodeECDSA(v, res.PublicKey, s.d.Digest)
	case taproot.Signature:
		res.PublicKey = s.plan.signer.PublicKey()
		res.Signature, err = checkSchnorr(v, res.PublicKey, s.d.Digest)
	case *ecdsa.PreSignature:
		res.PublicKey = s.cfg.Share.PublicKey()
		res.Presignature = v
	default:
		err = fmt.Errorf("unexpected result type %T", out)
	}
	if err != nil {
		return nil, &Error{Code: CodeInternal, Reason: "the protocol produced an unusable result", Err: err}
	}
	return res, nil
}

// newShare checks a keygen or refresh output before it is confirmed.
func (s *session) newShare(res *Result, sh *Share) error {
	if err := sh.check(); err != nil {
		return err
	}
	if sh.Required() != s.d.Required || !slices.Equal(sh.Parties(), s.plan.members) {
		return fmt.Errorf("new share does not match the ceremony's parties or threshold")
	}
	if s.d.Kind == KindRefresh && !bytes.Equal(sh.PublicKey(), s.cfg.Share.PublicKey()) {
		return fmt.Errorf("refresh changed the public key")
	}
	res.Share, res.PublicKey, res.ConfigDigest = sh, sh.PublicKey(), sh.ConfigDigest()
	return nil
}

// confirmLoop is the confirmation round after keygen and refresh: this
// party stores its new share (BeforeConfirm), attests to the result, and
// succeeds only once every party attested to the same one (SECURITY.md B3).
func (s *session) confirmLoop(ctx context.Context, inbox <-chan inbound, res *Result) error {
	mine := confirmationDigest(s.sid, res.ConfigDigest, res.PublicKey)
	if s.cfg.BeforeConfirm != nil {
		if err := s.cfg.BeforeConfirm(res); err != nil {
			return &Error{Code: CodeInternal, Reason: "could not store the new share", Err: err}
		}
	}
	s.setPhase(PhaseConfirming)
	s.confirmed = true // from here on, another party may complete
	if err := s.cfg.Transport.Send(ctx, &Message{SessionID: s.sid, Type: TypeConfirm, From: s.cfg.Self, Payload: mine}); err != nil {
		return s.transportError(err)
	}
	res.Confirmations = map[party.ID][]byte{s.cfg.Self: mine}
	for {
		if err := s.compareConfirmations(mine); err != nil {
			return err
		}
		if len(s.confirm) == len(s.others) {
			for id, c := range s.confirm {
				res.Confirmations[id] = c
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return s.ctxError(ctx)
		case in := <-inbox:
			if err := s.handleInbound(in); err != nil {
				return err
			}
		}
	}
}

func (s *session) compareConfirmations(mine []byte) error {
	var differ []party.ID
	for _, id := range s.others {
		if c, ok := s.confirm[id]; ok && !bytes.Equal(c, mine) {
			differ = append(differ, id)
		}
	}
	if len(differ) > 0 {
		return &Error{Code: CodeConfirmation, Accused: differ,
			Reason: fmt.Sprintf("%s confirmed a different result; nothing may be activated", names(differ))}
	}
	return nil
}

// storeConfirm records a party's confirmation; a second, different one is
// equivocation.
func (s *session) storeConfirm(m *Message) error {
	if len(m.Payload) != sha256Size || m.To != "" {
		return s.misbehaviour(m.From, 0, "malformed confirmation")
	}
	if prev, ok := s.confirm[m.From]; ok {
		if bytes.Equal(prev, m.Payload) {
			return nil
		}
		return s.misbehaviour(m.From, 0, "sent two different confirmations (equivocation)")
	}
	s.confirm[m.From] = bytes.Clone(m.Payload)
	s.emit()
	return nil
}

const sha256Size = 32

// abortNotice is the payload of an abort message.
type abortNotice struct {
	Reason   string     `json:"reason"`
	Culprits []party.ID `json:"culprits,omitempty"`
	// Confirmed says the sender had sent its confirmation of a keygen or
	// refresh result before giving up.
	Confirmed bool `json:"confirmed,omitempty"`
}

func (n abortNotice) encode() []byte {
	n.Reason = Sanitize(n.Reason)
	b, _ := json.Marshal(n)
	return b
}

// decodeAbortNotice reads a peer's abort notice; the text is untrusted and
// sanitised by the caller, and anything undecodable is kept as bare text.
//
// A notice is decoded whole up to DefaultMaxMessageSize (a long reason must
// not turn it into undecodable JSON, shown as raw text with its escapes
// spelled out); only bare text is cut to 4 KiB before it is sanitised.
func decodeAbortNotice(b []byte) abortNotice {
	if len(b) > DefaultMaxMessageSize {
		b = b[:DefaultMaxMessageSize]
	}
	var n abortNotice
	if err := json.Unmarshal(b, &n); err != nil {
		if len(b) > 4096 {
			b = b[:4096]
		}
		return abortNotice{Reason: string(b)}
	}
	if len(n.Culprits) > MaxParties {
		n.Culprits = n.Culprits[:MaxParties]
	}
	return n
}

// AbortMessage is the abort notice a party sends for ceremony d when it
// gives up outside Run: after a restart, a party cannot resume a ceremony
// (the library keeps round state in memory only), so it tells the others at
// once instead of leaving them to wait for the deadline. confirmed says the
// party may have sent its confirmation of a keygen or refresh result before
// it stopped (it holds the new share as pending): the others then keep
// theirs pending rather than discard it.
func AbortMessage(d *Descriptor, self party.ID, reason string, confirmed bool) *Message {
	n := abortNotice{Reason: reason, Confirmed: confirmed}
	return &Message{SessionID: d.SessionID(), Type: TypeAbort, From: self, Payload: n.encode()}
}

// ConfirmationDigest is what every party of keygen or refresh ceremony d
// confirms (the payload of its TypeConfirm message) for a result with the
// given public configuration digest and public key. A party that kept a
// new share pending compares the confirmations it later finds against it.
func ConfirmationDigest(d *Descriptor, configDigest, publicKey []byte) []byte {
	return confirmationDigest(d.SessionID(), configDigest, publicKey)
}
