package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/progress"
	"github.com/paratro/paratro/shares"
)

// Deadlines of the demo's ceremonies: key generation and refresh make
// Paillier keys (seconds each, more with many parties).
const (
	keygenDeadline = 10 * time.Minute
	signDeadline   = 2 * time.Minute
)

// lifecycle runs the whole life of one wallet: create, sign, rotate keys,
// sign again with another set of signers; every signature is verified with
// the chain's reference code and the address must survive the rotation.
// Every ceremony goes through the relay as a user's would: one holder asks,
// every holder's party approves and runs its side.
type lifecycle struct {
	scheme   ceremony.Scheme
	required int
	net      *network
	report   *progress.Reporter
	now      func() time.Time
	w        walletReport
}

func (l *lifecycle) run(ctx context.Context) (*walletReport, error) {
	if err := l.create(ctx); err != nil {
		return nil, err
	}
	parties := l.net.parties
	if err := l.sign(ctx, parties[:l.required]); err != nil {
		return nil, err
	}
	if err := l.rotate(ctx); err != nil {
		return nil, err
	}
	if err := l.sign(ctx, parties[len(parties)-l.required:]); err != nil {
		return nil, err
	}
	return &l.w, nil
}

// step runs one ceremony under the progress reporter: parties[0] asks for
// it, and its party's progress is shown.
func (l *lifecycle) step(ctx context.Context, name string, parties []*demoParty, req *coord.Request) (*coord.Report, time.Duration, error) {
	l.report.Start(fmt.Sprintf("%s: %s", l.scheme, name), partyIDs(namesOf(parties)))
	l.net.show(parties[0], l.report.Event)
	began := l.now()
	rep, err := coord.Initiate(ctx, parties[0].client, parties[0].home.ID, req, nil)
	l.net.show(nil, nil)
	if err != nil {
		l.report.Fail()
		if ctx.Err() != nil && context.Cause(ctx) != ctx.Err() {
			err = context.Cause(ctx) // a party stopped: say why, not "canceled"
		}
		return nil, 0, fmt.Errorf("%s: %s: %w", l.scheme, name, err)
	}
	return rep, l.now().Sub(began), nil
}

// request is a request of kind for the wallet, listing every holder.
func (l *lifecycle) request(kind ceremony.Kind, deadline time.Duration) *coord.Request {
	return &coord.Request{Kind: kind, Scheme: l.scheme, WalletID: l.w.ID, Chain: chainOf(l.scheme),
		Parties: l.net.publics(), Required: l.required, Deadline: time.Now().Add(deadline)}
}

// walletRequest is a request of kind for the wallet's active shares.
func (l *lifecycle) walletRequest(kind ceremony.Kind, deadline time.Duration) (*coord.Request, error) {
	req := l.request(kind, deadline)
	var err error
	if req.Epoch, req.ConfigDigest, err = l.net.parties[0].active(l.w.ID); err != nil {
		return nil, fmt.Errorf("%s: %w", l.scheme, err)
	}
	return req, nil
}

func (l *lifecycle) create(ctx context.Context) error {
	parties := l.net.parties
	l.w = walletReport{ID: holder.NewWalletID(), Name: fmt.Sprintf("demo %s wallet", l.scheme), Scheme: string(l.scheme),
		Chain: chainOf(l.scheme), Threshold: thresholdJSON{Required: l.required, Total: len(parties)},
		Parties: namesOf(parties), Epoch: 1}
	req := l.request(ceremony.KindKeygen, keygenDeadline)
	req.WalletName = l.w.Name
	creator := l.net.parties[len(l.net.parties)-1] // has no TOTP: creates wallets without a code
	rep, took, err := l.step(ctx, fmt.Sprintf("create wallet %d-of-%d", l.required, len(parties)), withFirst(creator, parties), req)
	if err != nil {
		return err
	}
	publicKey := rep.PublicKey()
	l.w.PublicKey = hex.EncodeToString(publicKey)
	l.w.Keygen = keygenReport{DurationMS: took.Milliseconds(), ConfirmedBy: l.succeeded(rep)}
	if l.w.Address, err = addressOf(l.scheme, publicKey); err != nil {
		l.report.Fail()
		return err
	}
	l.report.Done(l.w.ID + " " + l.w.identity())
	return nil
}

// succeeded names the holders that reported success, in the holders' order:
// each confirmed the same result with every other before keeping its share.
func (l *lifecycle) succeeded(rep *coord.Report) []string {
	var out []string
	for _, p := range l.net.parties {
		if o, ok := rep.Outcomes[p.fingerprint()]; ok && o.OK {
			out = append(out, p.name)
		}
	}
	return out
}

func (l *lifecycle) sign(ctx context.Context, signers []*demoParty) error {
	n := len(l.w.Signatures) + 1
	message := fmt.Sprintf("paratro demo: %s signature %d, epoch %d", l.scheme, n, l.w.Epoch)
	digest := sha256.Sum256([]byte(message))
	req, err := l.walletRequest(ceremony.KindSign, signDeadline)
	if err != nil {
		return err
	}
	req.Signers, req.Digest = fingerprints(signers), hex.EncodeToString(digest[:])
	req.Summary = message
	rep, took, err := l.step(ctx, "sign with "+strings.Join(namesOf(signers), " and "), signers, req)
	if err != nil {
		return err
	}
	sig, err := hex.DecodeString(rep.Result().Signature)
	if err != nil {
		l.report.Fail()
		return fmt.Errorf("%s: signature %d is not hex: %w", l.scheme, n, err)
	}
	publicKey, _ := hex.DecodeString(l.w.PublicKey)
	verifier, err := verify(l.scheme, l.w.Address, publicKey, digest[:], sig)
	if err != nil {
		l.report.Fail()
		return fmt.Errorf("%s: signature %d does not verify: %w", l.scheme, n, err)
	}
	l.w.Signatures = append(l.w.Signatures, signatureReport{Epoch: l.w.Epoch, Signers: namesOf(signers),
		Message: message, Digest: hex.EncodeToString(digest[:]), Signature: hex.EncodeToString(sig),
		Address: l.w.Address, PublicKey: l.w.PublicKey, Scheme: l.w.Scheme, VerifiedBy: verifier, DurationMS: took.Milliseconds()})
	l.report.Done("verified by " + verifier)
	return nil
}

func (l *lifecycle) rotate(ctx context.Context) error {
	req, err := l.walletRequest(ceremony.KindRefresh, keygenDeadline)
	if err != nil {
		return err
	}
	asker, err := l.net.rotator()
	if err != nil {
		return err
	}
	rep, took, err := l.step(ctx, "rotate keys", withFirst(asker, l.net.parties), req)
	if err != nil {
		return err
	}
	publicKey := rep.PublicKey()
	rot := rotationReport{FromEpoch: l.w.Epoch, ToEpoch: l.w.Epoch + 1, PublicKeyBefore: l.w.PublicKey,
		PublicKeyAfter: hex.EncodeToString(publicKey), AddressBefore: l.w.Address, DurationMS: took.Milliseconds()}
	if rot.AddressAfter, err = addressOf(l.scheme, publicKey); err != nil {
		l.report.Fail()
		return err
	}
	if err := l.checkEpochs(rot.ToEpoch, publicKey); err != nil {
		l.report.Fail()
		return err
	}
	rot.Unchanged = rot.PublicKeyBefore == rot.PublicKeyAfter && rot.AddressBefore == rot.AddressAfter
	if !rot.Unchanged {
		l.report.Fail()
		return fmt.Errorf("%s: rotating keys changed the wallet key", l.scheme)
	}
	l.w.Rotation, l.w.Epoch = rot, rot.ToEpoch
	l.report.Done(fmt.Sprintf("epoch %d → %d, %s unchanged", rot.FromEpoch, rot.ToEpoch, l.w.identityKind()))
	return nil
}

// checkEpochs confirms every holder now holds only the new epoch, of the
// same key: the old shares were replaced, not kept beside the new ones.
func (l *lifecycle) checkEpochs(epoch uint64, publicKey []byte) error {
	for _, p := range l.net.parties {
		all, err := p.home.Store.List()
		if err != nil {
			return err
		}
		var held []shares.Entry
		for _, e := range all {
			if e.WalletID == l.w.ID {
				held = append(held, e)
			}
		}
		if len(held) != 1 || held[0].Epoch != epoch || held[0].State != shares.StateActive || !bytes.Equal(held[0].PublicKey, publicKey) {
			return fmt.Errorf("%s: %s holds %d shares of %s after rotation, want only epoch %d", l.scheme, p.name, len(held), l.w.ID, epoch)
		}
	}
	return nil
}

func chainOf(s ceremony.Scheme) string {
	if s == ceremony.SchemeECDSA {
		return "ethereum"
	}
	return "bitcoin"
}

// addressOf is the Ethereum address of an ECDSA wallet. Schnorr wallets are
// shown by their x-only key: a Taproot address needs the BIP-86 tweak,
// which a later issue builds.
func addressOf(s ceremony.Scheme, publicKey []byte) (string, error) {
	if s != ceremony.SchemeECDSA {
		return "", nil
	}
	return ethereum.Address(publicKey)
}

// verify checks a signature with the chain's reference code, not with the
// threshold library that made it, and names the verifier.
func verify(s ceremony.Scheme, address string, publicKey, digest, sig []byte) (string, error) {
	if s == ceremony.SchemeECDSA {
		return "go-ethereum ecrecover", ethereum.VerifyDigest(address, digest, sig)
	}
	return "btcec BIP-340", bitcoin.VerifySchnorr(publicKey, digest, sig)
}

// withFirst returns parties with p moved to the front (step's asker).
func withFirst(p *demoParty, parties []*demoParty) []*demoParty {
	out := []*demoParty{p}
	for _, q := range parties {
		if q != p {
			out = append(out, q)
		}
	}
	return out
}
