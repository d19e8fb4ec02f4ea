package shares

import (
	"bytes"
	"cmp"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Presignatures are kept in the slot of the share they were made with:
//
//	<slot>/presig-<id>        sealed presignature (meta and secret)
//	<slot>/presig-<id>.used   empty mark: the presignature was used
//
// A presignature is single use: a second signature with it gives away the
// wallet's private key (SECURITY.md #9, B10). MarkPresignatureUsed writes
// the mark durably before the caller computes its signature share, and
// nothing opens a marked presignature again. Presignatures belong to one
// epoch: committing another epoch, or restoring a share, drops them.
const (
	presigPrefix  = "presig-"
	usedSuffix    = ".used"
	kindPresig    = 3
	presigAADPart = "paratro/presignature/v1"
)

// ErrPresignatureUsed reports a presignature that was already used (or
// marked used by a signing that then failed): it is never used again.
var ErrPresignatureUsed = errors.New("presignature already used")

// PresigMeta is the public description of one party's presignature.
type PresigMeta struct {
	// ID names the presignature; every signer stores its own part of it
	// under the same ID. It must match [A-Za-z0-9_-]{1,64}.
	ID       string `json:"id"`
	WalletID string `json:"wallet_id"`
	PartyID  string `json:"party_id"`
	// Epoch and ConfigDigest are the share epoch the presignature was made
	// with; it is only ever used with that epoch's share.
	Epoch        uint64 `json:"epoch"`
	ConfigDigest []byte `json:"config_digest"`
	// Path is the derivation path of the key it signs for ("m": the
	// wallet key).
	Path string `json:"path"`
	// Signers are the parties that made it, sorted; only they, all
	// together, can sign with it.
	Signers   []string  `json:"signers"`
	CreatedAt time.Time `json:"created_at"`
}

// Presignature is one party's secret part of a presignature.
//
// Formatting it with fmt, log/slog or encoding/json shows only its
// metadata, never Secret. Call Wipe when done with it.
type Presignature struct {
	PresigMeta
	// Secret is the serialised presignature; opaque to this package.
	Secret []byte
}

// Wipe overwrites the secret with zeros.
func (p *Presignature) Wipe() {
	if p != nil {
		clear(p.Secret)
	}
}

// String describes the presignature without its secret.
func (p Presignature) String() string {
	return fmt.Sprintf("presignature %s for %s (party %s, epoch %d, secret redacted)", p.ID, p.WalletID, p.PartyID, p.Epoch)
}

// GoString is like String.
func (p Presignature) GoString() string { return p.String() }

// Format prints String for every verb.
func (p Presignature) Format(f fmt.State, verb rune) { io.WriteString(f, p.String()) }

// LogValue logs the metadata only.
func (p Presignature) LogValue() slog.Value {
	return slog.GroupValue(slog.String("presignature", p.ID), slog.String("wallet", p.WalletID), slog.String("secret", "redacted"))
}

// MarshalJSON encodes only the metadata.
func (p Presignature) MarshalJSON() ([]byte, error) { return json.Marshal(p.PresigMeta) }

func validatePresigID(id string) error {
	if err := validateWalletID(id); err != nil {
		return errorf(ErrInvalid, "invalid presignature id %q: use 1 to %d letters, digits, '_' or '-'", id, maxWalletIDLen)
	}
	return nil
}

func (sl slot) presigPath(id string) string { return filepath.Join(sl.dir, presigPrefix+id) }
func (sl slot) usedPath(id string) string   { return filepath.Join(sl.dir, presigPrefix+id+usedSuffix) }

func presigRef(sl slot, epoch uint64, id string) sealRef {
	return sealRef{kind: kindPresig, slot: sl, epoch: epoch, id: id}
}

func (sl slot) presigSubject(id string) string {
	return fmt.Sprintf("presignature %.16s for %s (party %s)", id, sl.wallet, sl.party)
}

// PutPresignature seals p beside the share it was made with. The share's
// active epoch and configuration must be p's: a presignature of another
// epoch would never be used anyway, and is refused.
func (s *Store) PutPresignature(p *Presignature) error {
	if p == nil {
		return errorf(ErrInvalid, "store presignature: none given")
	}
	sl, err := newSlot(s.dir, p.WalletID, p.PartyID)
	if err == nil {
		err = validatePresigID(p.ID)
	}
	if err == nil && (p.Epoch == 0 || len(p.Signers) < 2 || !slices.Contains(p.Signers, p.PartyID) || p.Path == "") {
		err = errorf(ErrInvalid, "%s: it needs an epoch, a path and at least two signers including its party", sl.presigSubject(p.ID))
	}
	if err != nil {
		return fmt.Errorf("store presignature: %w", err)
	}
	return s.update(func(aead cipher.AEAD) error {
		if err := s.checkPresigEpoch(aead, sl, &p.PresigMeta); err != nil {
			return fmt.Errorf("store %s: %w", sl.presigSubject(p.ID), err)
		}
		for _, path := range []string{sl.presigPath(p.ID), sl.usedPath(p.ID)} {
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				return errorf(ErrInvalid, "store %s: %s already exists; a presignature ID is never reused", sl.presigSubject(p.ID), path)
			}
		}
		meta, err := json.Marshal(p.PresigMeta)
		if err != nil {
			return err
		}
		pt := appendBytes(appendBytes(nil, meta), p.Secret)
		data := seal(aead, presigRef(sl, p.Epoch, p.ID), pt)
		clear(pt)
		return writeFileAtomic(sl.presigPath(p.ID), data, s.hooks)
	})
}

// checkPresigEpoch checks that m was made with the slot's active share.
func (s *Store) checkPresigEpoch(aead cipher.AEAD, sl slot, m *PresigMeta) error {
	man, err := s.readManifest(aead, sl)
	if err != nil {
		return err
	}
	if man.active == 0 {
		return errorf(ErrNotFound, "no active share")
	}
	if man.active != m.Epoch {
		return errorf(ErrInvalid, "it was made with epoch %d; the active share is epoch %d", m.Epoch, man.active)
	}
	sh, err := s.readShare(aead, sl, man.active)
	if err != nil {
		return err
	}
	sh.Wipe()
	if !bytes.Equal(sh.ConfigDigest, m.ConfigDigest) {
		return errorf(ErrInvalid, "it was made with another configuration than the active share's")
	}
	return nil
}

// Presignatures lists the unused presignatures of the active epoch of
// walletID held for partyID, oldest first. Leftovers of another epoch and
// files that no longer open are not listed.
func (s *Store) Presignatures(walletID, partyID string) ([]PresigMeta, error) {
	sl, err := newSlot(s.dir, walletID, partyID)
	if err != nil {
		return nil, fmt.Errorf("list presignatures: %w", err)
	}
	var out []PresigMeta
	err = s.view(func(aead cipher.AEAD) error {
		man, err := s.readManifest(aead, sl)
		if err != nil || man.active == 0 {
			return err
		}
		entries, err := os.ReadDir(sl.dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			id, ok := strings.CutPrefix(e.Name(), presigPrefix)
			if !ok || strings.HasSuffix(id, usedSuffix) || validatePresigID(id) != nil {
				continue
			}
			p, err := s.readPresig(aead, sl, id, man.active)
			if err != nil {
				continue
			}
			p.Wipe()
			out = append(out, p.PresigMeta)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list presignatures of %s (party %s): %w", walletID, partyID, err)
	}
	slices.SortFunc(out, func(a, b PresigMeta) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// readPresig opens presignature id of the slot, refusing one that was
// marked used or belongs to another epoch than epoch.
func (s *Store) readPresig(aead cipher.AEAD, sl slot, id string, epoch uint64) (*Presignature, error) {
	subject := sl.presigSubject(id)
	if _, err := os.Lstat(sl.usedPath(id)); err == nil {
		return nil, errorf(ErrPresignatureUsed, "%s was already used; a presignature signs once", subject)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	path := sl.presigPath(id)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errorf(ErrNotFound, "%s is not here (never made, or dropped at a key rotation)", subject)
	}
	if err != nil {
		return nil, err
	}
	pt, err := openSealed(aead, presigRef(sl, epoch, id), path, data)
	if err != nil {
		return nil, errorf(ErrInvalid, "%s does not open with the active epoch %d: it belongs to another epoch or was changed", subject, epoch)
	}
	defer clear(pt)
	d := decoder{b: pt}
	meta, secret := d.bytes(), d.bytes()
	p := &Presignature{}
	if d.bad || len(d.b) != 0 || json.Unmarshal(meta, &p.PresigMeta) != nil ||
		p.ID != id || p.WalletID != sl.wallet || p.PartyID != sl.party || p.Epoch != epoch {
		return nil, errorf(ErrCorrupt, "%s cannot be opened: its contents are malformed", subject)
	}
	p.Secret = clone(secret)
	return p, nil
}

// OpenPresignature opens an unused presignature of the active share.
// It fails with ErrPresignatureUsed once the presignature was marked used,
// ErrNotFound if it is not here, and ErrInvalid if it was made with
// another epoch than the active share's (PutPresignature checked its
// configuration against that epoch's share).
func (s *Store) OpenPresignature(walletID, partyID, id string) (*Presignature, error) {
	sl, err := newSlot(s.dir, walletID, partyID)
	if err == nil {
		err = validatePresigID(id)
	}
	if err != nil {
		return nil, fmt.Errorf("open presignature: %w", err)
	}
	var p *Presignature
	err = s.view(func(aead cipher.AEAD) error {
		man, err := s.readManifest(aead, sl)
		if err != nil {
			return err
		}
		if man.active == 0 {
			return errorf(ErrNotFound, "%s: no active share", sl.presigSubject(id))
		}
		// The active epoch is bound into the seal; the configuration was
		// checked against that epoch's share when it was stored.
		p, err = s.readPresig(aead, sl, id, man.active)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// exclusive runs fn under the store's exclusive lock without fetching the
// key-encryption key: for the presignature operations that seal and open
// nothing (a keyring read is a D-Bus round trip on a signing's hot path).
func (s *Store) exclusive(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockStore(s.dir, true)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// MarkPresignatureUsed records, durably, that presignature id is used: the
// mark is created and synced to disk before it returns, so a crash right
// after cannot bring the presignature back. It fails with
// ErrPresignatureUsed if the mark exists already: the caller must not sign.
// The sealed presignature stays until WipePresignature.
func (s *Store) MarkPresignatureUsed(walletID, partyID, id string) error {
	sl, err := newSlot(s.dir, walletID, partyID)
	if err == nil {
		err = validatePresigID(id)
	}
	if err != nil {
		return fmt.Errorf("mark presignature used: %w", err)
	}
	return s.exclusive(func() error {
		if err := ensureDir(sl.dir); err != nil {
			return err
		}
		f, err := os.OpenFile(sl.usedPath(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		if errors.Is(err, fs.ErrExist) {
			return errorf(ErrPresignatureUsed, "%s was already used; a presignature signs once", sl.presigSubject(id))
		}
		if err != nil {
			return fmt.Errorf("mark %s used: %w", sl.presigSubject(id), err)
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = syncDir(sl.dir)
		}
		if err != nil {
			return fmt.Errorf("mark %s used: %w", sl.presigSubject(id), err)
		}
		return hook(s.crash, "after-mark "+presigPrefix+id)
	})
}

// WipePresignature overwrites and removes the sealed presignature id once
// it was marked used; the mark stays. A presignature that is not marked
// used is left alone.
func (s *Store) WipePresignature(walletID, partyID, id string) error {
	sl, err := newSlot(s.dir, walletID, partyID)
	if err == nil {
		err = validatePresigID(id)
	}
	if err != nil {
		return fmt.Errorf("wipe presignature: %w", err)
	}
	return s.exclusive(func() error {
		if _, err := os.Lstat(sl.usedPath(id)); err != nil {
			return fmt.Errorf("wipe %s: not marked used: %w", sl.presigSubject(id), err)
		}
		return wipeFile(sl.presigPath(id), s.crash)
	})
}

// DropPresignatures overwrites and removes every presignature of the
// slot, used or not, and their marks; it returns how many unused ones
// were dropped.
func (s *Store) DropPresignatures(walletID, partyID string) (int, error) {
	sl, err := newSlot(s.dir, walletID, partyID)
	if err != nil {
		return 0, fmt.Errorf("drop presignatures: %w", err)
	}
	n := 0
	err = s.exclusive(func() error {
		var err error
		n, err = s.dropPresigs(sl)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("drop presignatures of %s (party %s): %w", walletID, partyID, err)
	}
	return n, nil
}

// dropPresigs wipes the slot's presignatures and marks; it needs the
// exclusive lock.
func (s *Store) dropPresigs(sl slot) (int, error) {
	entries, err := os.ReadDir(sl.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	n := 0
	_, err = s.wipeWhere(sl.dir, func(e fs.DirEntry) bool {
		name := e.Name()
		if !strings.HasPrefix(name, presigPrefix) {
			return false
		}
		if !strings.HasSuffix(name, usedSuffix) && !names[name+usedSuffix] {
			n++ // an unused presignature
		}
		return true
	})
	return n, err
}
