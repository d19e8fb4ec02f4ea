package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/progress"
	"github.com/paratro/paratro/shares"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
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
type lifecycle struct {
	scheme   ceremony.Scheme
	required int
	parties  []*demoParty
	report   *progress.Reporter
	now      func() time.Time
	w        walletReport
}

func (l *lifecycle) run(ctx context.Context) (*walletReport, error) {
	if err := l.create(ctx); err != nil {
		return nil, err
	}
	n := len(l.parties)
	if err := l.sign(ctx, l.parties[:l.required]); err != nil {
		return nil, err
	}
	if err := l.rotate(ctx); err != nil {
		return nil, err
	}
	if err := l.sign(ctx, l.parties[n-l.required:]); err != nil {
		return nil, err
	}
	return &l.w, nil
}

// step runs one ceremony under the progress reporter.
func (l *lifecycle) step(ctx context.Context, name string, parties []*demoParty, d *ceremony.Descriptor) (*ceremony.Result, time.Duration, error) {
	l.report.Start(fmt.Sprintf("%s: %s", l.scheme, name), ids(parties))
	began := l.now()
	res, err := ceremonyRun(ctx, parties, d, l.report.Event)
	if err != nil {
		l.report.Fail()
		return nil, 0, fmt.Errorf("%s: %s: %w", l.scheme, name, err)
	}
	return res, l.now().Sub(began), nil
}

func (l *lifecycle) create(ctx context.Context) error {
	d := &ceremony.Descriptor{ID: ceremony.NewID(), Kind: ceremony.KindKeygen, Scheme: l.scheme,
		WalletID: holder.NewWalletID(), Parties: ids(l.parties), Required: l.required, Deadline: l.now().Add(keygenDeadline)}
	res, took, err := l.step(ctx, fmt.Sprintf("create wallet %d-of-%d", l.required, len(l.parties)), l.parties, d)
	if err != nil {
		return err
	}
	l.w = walletReport{ID: d.WalletID, Name: fmt.Sprintf("demo %s wallet", l.scheme), Scheme: string(l.scheme),
		Chain: chainOf(l.scheme), Threshold: thresholdJSON{Required: l.required, Total: len(l.parties)},
		Parties: names(ids(l.parties)), PublicKey: hex.EncodeToString(res.PublicKey), Epoch: 1,
		Keygen: keygenReport{DurationMS: took.Milliseconds(), ConfirmedBy: names(sortedKeys(res.Confirmations))}}
	if l.w.Address, err = addressOf(l.scheme, res.PublicKey); err != nil {
		return err
	}
	l.report.Done(l.w.ID + " " + l.w.identity())
	return nil
}

func (l *lifecycle) sign(ctx context.Context, signers []*demoParty) error {
	n := len(l.w.Signatures) + 1
	message := fmt.Sprintf("paratro demo: %s signature %d, epoch %d", l.scheme, n, l.w.Epoch)
	digest := sha256.Sum256([]byte(message))
	d, err := signers[0].holder.Describe(ceremony.KindSign, l.w.ID, ids(signers), digest[:], l.now().Add(signDeadline))
	if err != nil {
		return err
	}
	res, took, err := l.step(ctx, "sign with "+joinNames(ids(signers)), signers, d)
	if err != nil {
		return err
	}
	verifier, err := verify(l.scheme, l.w.Address, res.PublicKey, digest[:], res.Signature)
	if err != nil {
		l.report.Fail()
		return fmt.Errorf("%s: signature %d does not verify: %w", l.scheme, n, err)
	}
	l.w.Signatures = append(l.w.Signatures, signatureReport{Epoch: l.w.Epoch, Signers: names(ids(signers)),
		Message: message, Digest: hex.EncodeToString(digest[:]), Signature: hex.EncodeToString(res.Signature),
		Address: l.w.Address, PublicKey: l.w.PublicKey, Scheme: l.w.Scheme, VerifiedBy: verifier, DurationMS: took.Milliseconds()})
	l.report.Done("verified by " + verifier)
	return nil
}

func (l *lifecycle) rotate(ctx context.Context) error {
	d, err := l.parties[0].holder.Describe(ceremony.KindRefresh, l.w.ID, nil, nil, l.now().Add(keygenDeadline))
	if err != nil {
		return err
	}
	res, took, err := l.step(ctx, "rotate keys", l.parties, d)
	if err != nil {
		return err
	}
	rot := rotationReport{FromEpoch: l.w.Epoch, ToEpoch: l.w.Epoch + 1, PublicKeyBefore: l.w.PublicKey,
		PublicKeyAfter: hex.EncodeToString(res.PublicKey), AddressBefore: l.w.Address, DurationMS: took.Milliseconds()}
	if rot.AddressAfter, err = addressOf(l.scheme, res.PublicKey); err != nil {
		return err
	}
	if err := l.checkEpochs(rot.ToEpoch, res.PublicKey); err != nil {
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

// checkEpochs confirms every party now holds only the new epoch, of the
// same key: the old shares were replaced, not kept beside the new ones.
func (l *lifecycle) checkEpochs(epoch uint64, publicKey []byte) error {
	for _, p := range l.parties {
		all, err := p.holder.Store.List()
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
			return fmt.Errorf("%s: %s holds %d shares of %s after rotation, want only epoch %d", l.scheme, p.holder.ID, len(held), l.w.ID, epoch)
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

func sortedKeys(m map[party.ID][]byte) []party.ID {
	return slices.Sorted(maps.Keys(m))
}
