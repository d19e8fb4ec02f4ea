// Package holder is one key holder's side of the ceremonies: it opens the
// holder's share from the share store, runs the ceremony engine with it,
// and stores new shares in two phases (pending until every party confirmed
// the same result, then active).
package holder

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/failpoint"
	"github.com/paratro/paratro/shares"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// Holder is a party and the store that keeps its shares.
type Holder struct {
	ID    party.ID
	Store *shares.Store
	// Now stamps new shares; nil means time.Now.
	Now func() time.Time
	// Cache, if set, keeps parsed shares between ceremonies (a party run).
	Cache *ShareCache
}

// NewWalletID returns a fresh random wallet ID such as "wal_7hq2mzk4t6a3bx5c".
func NewWalletID() string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic("holder: crypto/rand failed: " + err.Error())
	}
	return "wal_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Share opens this holder's active share of a wallet and checks it against
// the metadata it was stored with: a share that decodes to another key,
// party or configuration is refused, never used.
func (h *Holder) Share(walletID string) (*ceremony.Share, shares.Meta, error) {
	stored, err := h.Store.Active(walletID, string(h.ID))
	if err != nil {
		return nil, shares.Meta{}, err
	}
	defer stored.Wipe()
	var sh *ceremony.Share
	if h.Cache != nil {
		sh, err = h.Cache.get(walletID, stored.Secret)
	} else {
		sh, err = ceremony.UnmarshalShare(stored.Secret)
	}
	if err != nil {
		return nil, shares.Meta{}, fmt.Errorf("share for %s (party %s, epoch %d) is unreadable: %w", walletID, h.ID, stored.Epoch, err)
	}
	m := stored.Meta
	if !bytes.Equal(sh.PublicKey(), m.PublicKey) || !bytes.Equal(sh.ConfigDigest(), m.ConfigDigest) ||
		sh.PartyID() != h.ID || string(sh.Scheme()) != m.Scheme {
		return nil, shares.Meta{}, fmt.Errorf("share for %s (party %s, epoch %d) does not match its stored public key or configuration", walletID, h.ID, m.Epoch)
	}
	return sh, m, nil
}

// ChildPublicKey is the compressed public key of BIP-32 child i of a
// wallet, computed from this holder's own share (its public data and the
// chain key): no ceremony, no other party. ECDSA wallets only, unhardened
// indexes only (ceremony.ValidateIndex).
func (h *Holder) ChildPublicKey(walletID string, i uint32) ([]byte, error) {
	sh, _, err := h.Share(walletID)
	if err != nil {
		return nil, err
	}
	return sh.ChildPublicKey(i)
}

// Describe builds the descriptor of a sign, presign or refresh ceremony on
// the holder's current epoch of a wallet. For refresh, parties are all of
// the wallet's parties whatever is passed.
//
// It reads only the share's stored metadata; Run opens and checks the share.
func (h *Holder) Describe(kind ceremony.Kind, walletID string, parties []party.ID, digest []byte, deadline time.Time) (*ceremony.Descriptor, error) {
	stored, err := h.Store.Active(walletID, string(h.ID))
	if err != nil {
		return nil, err
	}
	stored.Wipe()
	m := stored.Meta
	if kind == ceremony.KindRefresh {
		parties = ids(m.Parties)
	}
	return &ceremony.Descriptor{ID: ceremony.NewID(), Kind: kind, Scheme: ceremony.Scheme(m.Scheme),
		WalletID: walletID, Parties: parties, Required: m.Required, Epoch: m.Epoch,
		ConfigDigest: m.ConfigDigest, Digest: digest, Deadline: deadline}, nil
}

// Run runs this holder's side of ceremony d over tr. Keygen and refresh
// first make a test signature with the new shares (ceremony.TestSignatureDigest),
// then store the new share as pending before confirming it, make it active
// once every party confirmed, and discard it otherwise, so the previous
// share stays in use.
//
// The kill -9 tests stop a party at each step with PARATRO_FAILPOINT
// (package failpoint lists the points).
func (h *Holder) Run(ctx context.Context, d *ceremony.Descriptor, tr ceremony.Transport, progress func(ceremony.Event)) (*ceremony.Result, error) {
	if failpoint.Armed() && tr != nil {
		tr = &failpointTransport{Transport: tr, kind: string(d.Kind), sid: d.SessionID()}
	}
	cfg := ceremony.Config{Self: h.ID, Transport: tr, Progress: progress}
	epoch := uint64(1)
	if d.Kind != ceremony.KindKeygen {
		sh, m, err := h.Share(d.WalletID)
		if err != nil {
			return nil, err // unreadable or missing: nothing is sent (release case 3)
		}
		if err := shareMatches(d, m); err != nil {
			return nil, h.refuse(ctx, d, tr, err)
		}
		cfg.Share, epoch = sh, m.Epoch+1
	}
	if progress != nil || d.Kind == ceremony.KindKeygen || d.Kind == ceremony.KindRefresh {
		testing := false
		cfg.Progress = func(ev ceremony.Event) {
			if ev.Phase == ceremony.PhaseTesting && !testing {
				testing = true
				failpoint.Hit(string(d.Kind) + ":before-test")
			}
			if progress != nil {
				progress(ev)
			}
		}
	}
	if d.PresignatureID != "" {
		used, err := h.withPresignature(d, &cfg)
		if err != nil {
			return nil, err
		}
		defer used()
	}
	// The new share is stored only once the test signature with the new
	// shares verified (the engine runs it before BeforeConfirm), and
	// confirmed to the others only once stored.
	pending := false
	cfg.BeforeConfirm = func(r *ceremony.Result) error {
		st, err := h.stored(d.WalletID, epoch, r.Share)
		if err != nil {
			return err
		}
		defer st.Wipe()
		if err := h.Store.PutPending(st); err != nil {
			return err
		}
		pending = true
		failpoint.Hit(string(d.Kind) + ":after-test")
		return nil
	}
	res, err := ceremony.Run(ctx, d, cfg)
	if pending {
		if err == nil {
			failpoint.Hit(string(d.Kind) + ":before-commit")
		}
		err = h.settle(d.WalletID, epoch, err)
		if err == nil {
			failpoint.Hit(string(d.Kind) + ":after-commit")
		}
	}
	if err != nil {
		return nil, err
	}
	if d.Kind == ceremony.KindPresign {
		if err := h.storePresignature(d, res.Presignature); err != nil {
			return nil, err
		}
		res.Presignature = nil
		failpoint.Hit("presign:after-store")
	}
	return res, nil
}

// failpointTransport is the transport of a process with PARATRO_FAILPOINT
// set. It hits
//   - "<kind>:after-send" once this party's first protocol message was
//     posted (in a one-round sign with a presignature: its signature
//     share);
//   - "<kind>:after-round-<N>" once this party's first protocol message of
//     round N of the ceremony's own session (not of the test signature
//     with the new shares) was posted: the others may have got some of
//     its round-N messages, never a later round's. N is the threshold
//     library's round number, the one in the envelopes: 2 and 3 in a
//     FROST keygen, refresh or sign; 2 to 5 in a CMP keygen, refresh or
//     sign; 2 to 7 in a CMP presign; 8 in a sign with a presignature;
//   - "<kind>:after-confirm" once its confirmation of a keygen or refresh
//     result was posted.
//
// A point is hit at every such message: the first hit kills (or panics),
// so only the first of its kind ever counts.
type failpointTransport struct {
	ceremony.Transport
	kind string
	sid  []byte // the ceremony's session ID
}

func (t *failpointTransport) Send(ctx context.Context, m *ceremony.Message) error {
	if err := t.Transport.Send(ctx, m); err != nil {
		return err
	}
	switch m.Type {
	case ceremony.TypeProtocol:
		failpoint.Hit(t.kind + ":after-send")
		if bytes.Equal(m.SessionID, t.sid) {
			failpoint.Hit(t.kind + ":after-round-" + strconv.Itoa(m.Round))
		}
	case ceremony.TypeConfirm:
		failpoint.Hit(t.kind + ":after-confirm")
	}
	return nil
}

// shareMatches compares the share this party loaded with the epoch and
// configuration the ceremony runs on (SECURITY.md B1, B9, release case 17):
// an old epoch, or a share of another configuration (another key
// generation or refresh) under the same epoch number, can never take part,
// and the library would only show it as a silent hang.
func shareMatches(d *ceremony.Descriptor, m shares.Meta) error {
	var reason string
	switch {
	case m.Epoch != d.Epoch:
		reason = fmt.Sprintf("share epoch mismatch: this party holds epoch %d of %s, the ceremony runs on epoch %d", m.Epoch, d.WalletID, d.Epoch)
	case !bytes.Equal(m.ConfigDigest, d.ConfigDigest):
		reason = fmt.Sprintf("share epoch mismatch: this party's share of %s (epoch %d) has another configuration than the one the ceremony runs on (config mismatch)", d.WalletID, d.Epoch)
	default:
		return nil
	}
	return &ceremony.Error{Code: ceremony.CodeInvalid, Reason: reason}
}

// refuse ends this party's side of ceremony d before anything was
// computed, and tells the other parties at once, with a signed abort
// notice, so that they stop now instead of waiting for the deadline for a
// party that will never send anything. Only a valid descriptor naming this
// party gets a notice: for anything else there is nobody to tell. The
// notice carries no secret: only why this party cannot take part.
func (h *Holder) refuse(ctx context.Context, d *ceremony.Descriptor, tr ceremony.Transport, err error) error {
	if d.Validate() != nil || !slices.Contains(d.Parties, h.ID) || tr == nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// Best effort: this party fails either way, and err says why.
	_ = tr.Send(sctx, ceremony.AbortMessage(d, h.ID, err.Error(), false))
	return err
}

// settle commits or discards the pending share after a keygen or refresh
// that got as far as the confirmation round (SECURITY.md B9):
//   - every party confirmed: the new share becomes active;
//   - the failure leaves the result unsettled (ceremony.Unsettled: some
//     party may hold every confirmation and have switched already): the
//     new share stays pending beside the active one until the missing
//     confirmations are known;
//   - otherwise (a different confirmation, an abort before confirming,
//     misbehaviour) no party can hold a full matching set: it is discarded.
func (h *Holder) settle(walletID string, epoch uint64, err error) error {
	switch {
	case err == nil:
		return h.Store.Commit(walletID, string(h.ID), epoch)
	case ceremony.Unsettled(err):
		return &PendingError{WalletID: walletID, Epoch: epoch, Err: err}
	}
	if derr := h.Store.Discard(walletID, string(h.ID), epoch); derr != nil {
		return errors.Join(err, fmt.Errorf("discard pending share: %w", derr))
	}
	return err
}

// PendingError reports a keygen or refresh whose confirmations did not all
// arrive: the new share is kept pending and the previous one stays active.
type PendingError struct {
	WalletID string
	Epoch    uint64
	Err      error
}

func (e *PendingError) Error() string {
	if e.Epoch <= 1 { // a key generation: there is no previous share
		return fmt.Sprintf("%v; the new share (epoch %d of %s) is kept pending until the confirmations on the relay settle it", e.Err, e.Epoch, e.WalletID)
	}
	return fmt.Sprintf("%v; the new share (epoch %d of %s) is kept pending, the previous one stays active", e.Err, e.Epoch, e.WalletID)
}

// Unwrap returns the ceremony's error.
func (e *PendingError) Unwrap() error { return e.Err }

// stored converts a new share for the store.
func (h *Holder) stored(walletID string, epoch uint64, sh *ceremony.Share) (*shares.Share, error) {
	secret, err := sh.MarshalBinary()
	if err != nil {
		return nil, err
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	var parties []string
	for _, id := range sh.Parties() {
		parties = append(parties, string(id))
	}
	return &shares.Share{Meta: shares.Meta{WalletID: walletID, PartyID: string(h.ID), Epoch: epoch,
		Scheme: string(sh.Scheme()), Required: sh.Required(), Parties: parties, PublicKey: sh.PublicKey(),
		ConfigDigest: sh.ConfigDigest(), CreatedAt: now().UTC()}, Secret: secret}, nil
}

// Import stores an existing share as the active share of the given epoch
// (tests and fixtures; a later issue restores backups through it).
func (h *Holder) Import(walletID string, epoch uint64, sh *ceremony.Share) error {
	return h.put(walletID, epoch, sh, h.Store.PutPending)
}

// Restore stores a share restored from a backup as the active share of
// its epoch, in a store holding no share of the wallet (shares.PutRestored).
func (h *Holder) Restore(walletID string, epoch uint64, sh *ceremony.Share) error {
	return h.put(walletID, epoch, sh, h.Store.PutRestored)
}

// put stores sh with pending (PutPending or PutRestored), then makes it
// the active share of its epoch.
func (h *Holder) put(walletID string, epoch uint64, sh *ceremony.Share, pending func(*shares.Share) error) error {
	st, err := h.stored(walletID, epoch, sh)
	if err != nil {
		return err
	}
	defer st.Wipe()
	if err := pending(st); err != nil {
		return err
	}
	return h.Store.Commit(walletID, string(h.ID), epoch)
}

func ids(names []string) []party.ID {
	out := make([]party.ID, len(names))
	for i, n := range names {
		out[i] = party.ID(n)
	}
	return out
}
