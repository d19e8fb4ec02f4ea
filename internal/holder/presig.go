package holder

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/failpoint"
	"github.com/paratro/paratro/shares"
)

// PresignaturePath is the derivation path presignatures are made for: the
// wallet key itself. A sign request for a derived key runs the full
// protocol.
const PresignaturePath = "m"

// PresignatureID is the ID under which every signer stores its part of the
// presignature made by presign ceremony d: the ceremony's ID, which is
// random and which every participant approved.
func PresignatureID(d *ceremony.Descriptor) string { return d.ID.String() }

// storePresignature seals this party's part of a new presignature beside
// the share it was made with.
func (h *Holder) storePresignature(d *ceremony.Descriptor, ps *ceremony.Presignature) error {
	secret, err := ceremony.MarshalPresignature(ps)
	if err != nil {
		return err
	}
	defer clear(secret)
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	p := &shares.Presignature{PresigMeta: shares.PresigMeta{ID: PresignatureID(d), WalletID: d.WalletID, PartyID: string(h.ID),
		Epoch: d.Epoch, ConfigDigest: d.ConfigDigest, Path: PresignaturePath, Signers: names(d.SortedParties()),
		CreatedAt: now().UTC()}, Secret: secret}
	return h.Store.PutPresignature(p)
}

// withPresignature opens the presignature sign ceremony d names and hands
// it to the engine, which marks it used, durably, before it computes this
// party's signature share (SECURITY.md B10). The returned function wipes
// the used presignature's file once the ceremony is over.
func (h *Holder) withPresignature(d *ceremony.Descriptor, cfg *ceremony.Config) (func(), error) {
	p, err := h.Presignature(d)
	if err != nil {
		return nil, err
	}
	defer p.Wipe()
	ps, err := ceremony.UnmarshalPresignature(p.Secret)
	if err != nil {
		return nil, fmt.Errorf("presignature %.16s… is unreadable: %w", d.PresignatureID, err)
	}
	cfg.Presignature = ps
	marked := false
	cfg.MarkPresignatureUsed = func() error {
		if err := h.Store.MarkPresignatureUsed(d.WalletID, string(h.ID), d.PresignatureID); err != nil {
			return err
		}
		marked = true
		failpoint.Hit("sign:after-mark")
		return nil
	}
	return func() {
		if marked {
			_ = h.Store.WipePresignature(d.WalletID, string(h.ID), d.PresignatureID) // the mark is what counts; a leftover file is dropped at the next rotation
		}
	}, nil
}

// Presignature opens this party's unused part of the presignature sign
// ceremony d names, and checks that it was made for d: the same wallet,
// epoch, configuration, key (no derivation) and signers. It fails with
// shares.ErrPresignatureUsed if the presignature was used before.
func (h *Holder) Presignature(d *ceremony.Descriptor) (*shares.Presignature, error) {
	p, err := h.Store.OpenPresignature(d.WalletID, string(h.ID), d.PresignatureID)
	if err != nil {
		return nil, err
	}
	switch {
	case p.Epoch != d.Epoch || !bytes.Equal(p.ConfigDigest, d.ConfigDigest):
		err = fmt.Errorf("presignature %.16s… was made with epoch %d, the ceremony runs on epoch %d of another configuration", d.PresignatureID, p.Epoch, d.Epoch)
	case d.Index != nil || p.Path != PresignaturePath:
		err = fmt.Errorf("presignature %.16s… is for the wallet key, not a derived one", d.PresignatureID)
	case !slices.Equal(p.Signers, names(d.SortedParties())):
		err = fmt.Errorf("presignature %.16s… was made by other signers than this ceremony's", d.PresignatureID)
	}
	if err != nil {
		p.Wipe()
		return nil, err
	}
	return p, nil
}

func names[T ~string](ids []T) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}
