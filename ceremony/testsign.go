package ceremony

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	decredecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// The test signature: after keygen and refresh, before this party stores
// and confirms its new share, all parties sign a fixed, domain-separated
// message with their new shares, and each checks the signature under the
// wallet key with a verifier other than the threshold library's. A new set
// of shares that cannot sign is therefore never confirmed, so it never
// becomes active anywhere and everyone keeps the shares they had.
//
// The test runs inside the ceremony, over its transport, as a sign session
// of its own (session ID TestSessionID): its messages never mix with the
// keygen's or refresh's, and an abort or confirmation of the outer session
// that arrives meanwhile is handled as the outer session's.

// testSignDomain separates test-signature digests from everything else a
// wallet signs: the digest is a SHA-256 over this prefix, so it is never a
// transaction hash or sighash anybody could ask for.
const testSignDomain = "paratro/v1/test-signature\x00"

// TestSignatureDigest is the message the parties of keygen or refresh
// session sid sign with their new shares before confirming them.
func TestSignatureDigest(sid, configDigest, publicKey []byte) []byte {
	h := sha256.New()
	h.Write([]byte(testSignDomain))
	for _, b := range [][]byte{sid, configDigest, publicKey} {
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	return h.Sum(nil)
}

// TestSessionID is the session ID of the test signature of keygen or
// refresh session sid.
func TestSessionID(sid []byte) []byte {
	h := sha256.New()
	h.Write([]byte("paratro/v1/test-signature-session\x00"))
	h.Write(sid)
	return h.Sum(nil)
}

// testSign runs the test signature with this party's new share and checks
// the signature. Messages of the outer session that arrive meanwhile are
// handled by the outer session (aborts end the test; confirmations are
// kept for the confirmation round).
func (s *session) testSign(ctx context.Context, inbox <-chan inbound, res *Result) error {
	d := &Descriptor{ID: s.d.ID, Kind: KindSign, Scheme: s.d.Scheme, WalletID: s.d.WalletID,
		Parties: s.plan.members, Required: res.Share.Required(), Epoch: s.d.Epoch + 1,
		ConfigDigest: res.ConfigDigest, Digest: TestSignatureDigest(s.sid, res.ConfigDigest, res.PublicKey),
		Deadline: s.d.Deadline}
	cfg := Config{Self: s.cfg.Self, Transport: s.cfg.Transport, Share: res.Share, MaxMessageSize: s.cfg.MaxMessageSize}
	if s.cfg.Progress != nil {
		cfg.Progress = func(ev Event) {
			if ev.Phase == PhaseDone {
				return
			}
			ev.Kind, ev.Phase = s.d.Kind, PhaseTesting
			s.cfg.Progress(ev)
		}
	}
	if err := d.Validate(); err != nil {
		return &Error{Code: CodeInternal, Reason: "could not describe the test signature", Err: err}
	}
	p, err := prepare(d, &cfg)
	if err != nil {
		return &Error{Code: CodeInternal, Reason: "could not prepare the test signature", Err: err}
	}
	t := newSession(d, cfg, p)
	t.sid, t.parent = s.testSID, s
	t.early, s.testEarly = s.testEarly, nil
	s.test = t
	defer func() { s.test = nil }()
	s.phase = PhaseTesting

	tctx, stop := context.WithCancel(ctx)
	defer stop()
	go t.sender(tctx)
	notes, err := t.startHandler(ctx, tctx.Done(), inbox)
	if err != nil {
		t.closeQueue()
		return err
	}
	out, err := t.protocolLoop(ctx, inbox, notes)
	if ferr := t.flush(ctx); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if err := verifyTestSignature(d.Scheme, res.PublicKey, d.Digest, out.Signature); err != nil {
		return &Error{Code: CodeInternal, Reason: "the new shares' test signature does not verify under the wallet key; the new shares are not used", Err: err}
	}
	return nil
}

// verifyTestSignature checks the test signature with btcec, not with the
// threshold library that made it.
func verifyTestSignature(scheme Scheme, publicKey, digest, sig []byte) error {
	switch scheme {
	case SchemeECDSA:
		pub, err := btcec.ParsePubKey(publicKey)
		if err != nil {
			return err
		}
		if len(sig) != ECDSASignatureSize {
			return fmt.Errorf("signature is %d bytes, want %d", len(sig), ECDSASignatureSize)
		}
		var r, sc secp256k1.ModNScalar
		if r.SetByteSlice(sig[:32]) || sc.SetByteSlice(sig[32:64]) {
			return fmt.Errorf("signature component out of range")
		}
		if !decredecdsa.NewSignature(&r, &sc).Verify(digest, pub) {
			return fmt.Errorf("ECDSA signature does not verify")
		}
	case SchemeSchnorr:
		pub, err := schnorr.ParsePubKey(publicKey)
		if err != nil {
			return err
		}
		parsed, err := schnorr.ParseSignature(sig)
		if err != nil {
			return err
		}
		if !parsed.Verify(digest, pub) {
			return fmt.Errorf("BIP-340 signature does not verify")
		}
	default:
		return fmt.Errorf("unknown scheme %q", scheme)
	}
	return nil
}

// routeOther reports whether m belongs to the other session of a keygen or
// refresh and its test signature.
func (s *session) routeOther(m *Message) bool {
	if s.parent != nil {
		return bytes.Equal(m.SessionID, s.parent.sid)
	}
	return s.testSID != nil && bytes.Equal(m.SessionID, s.testSID)
}

// handleOther hands a message of the other session to it: the test
// session passes the outer one's to it; the outer session passes test
// messages to the running test, keeps those that come before it starts
// (a faster party may start first), and drops those after it ended.
func (s *session) handleOther(in inbound) error {
	if s.parent != nil {
		return s.parent.handleInbound(in)
	}
	if s.test != nil {
		return s.test.handleInbound(in)
	}
	if s.phase == PhaseConfirming || in.msg.Type != TypeProtocol || !slices.Contains(s.others, in.msg.From) {
		return nil
	}
	// The test signature has as many rounds as the keygen or refresh
	// (CMP 5, FROST 3) among the same parties: the same bound holds.
	if len(s.testEarly) >= queueSize(s.plan) {
		return s.misbehaviour(in.msg.From, 0, "too many test-signature messages")
	}
	s.testEarly = append(s.testEarly, in.msg)
	return nil
}
