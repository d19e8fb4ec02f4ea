package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/paratro/paratro/internal/atomicfile"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/identity"
)

// BootstrapFile is where "paratro relay bootstrap" leaves the first owner's
// public identity in the relay's data directory. The relay admits it as
// owner (once: only while it has no owner) and removes the file. Only
// someone who can write the data directory, the relay host's
// administrator, can bootstrap; nothing secret is involved.
const BootstrapFile = "bootstrap-owner.json"

// RefusedSuffix is added to a bootstrap file the relay did not accept;
// the reason is in the relay's log and audit log.
const RefusedSuffix = ".refused"

// WriteBootstrap leaves p in dir for the relay to make the first owner.
func WriteBootstrap(dir string, p identity.Public) error {
	if err := checkDataDir(dir); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, BootstrapFile+RefusedSuffix))
	return atomicfile.Write(filepath.Join(dir, BootstrapFile), append(b, '\n'))
}

// consumeBootstrap applies a bootstrap file in dir, if there is one.
func (s *Server) consumeBootstrap(dir string) {
	path := filepath.Join(dir, BootstrapFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	refuse := func(reason string) {
		s.log.Warn("bootstrap refused", "reason", reason)
		s.audit(audit.Entry{Event: audit.EventBootstrap, Actor: "relay host", Outcome: "refused", Detail: reason})
		_ = os.Rename(path, path+RefusedSuffix)
	}
	if err != nil {
		refuse("cannot read " + path + ": " + err.Error())
		return
	}
	var p identity.Public
	if err := json.Unmarshal(raw, &p); err != nil {
		refuse("not an identity: " + err.Error())
		return
	}
	if err := p.Validate(); err != nil {
		refuse(err.Error())
		return
	}
	switch err := s.store.BootstrapOwner(p, s.cfg.Now().UTC()); {
	case errors.Is(err, errOwnerExists):
		refuse("the relay already has an owner; owners add operators with paratro operator add")
		return
	case errors.Is(err, errNameTaken), errors.Is(err, errKeyChanged):
		refuse(fmt.Sprintf("identity %s conflicts with a registered one (%v)", p.Label(), err))
		return
	case err != nil:
		s.log.Error("bootstrap", "err", err)
		return
	}
	_ = os.Remove(path)
	s.log.Info("bootstrap: first owner admitted", "identity", p.Fingerprint(), "name", p.Name)
	s.audit(audit.Entry{Event: audit.EventBootstrap, Actor: "relay host", Parties: []string{p.Label()}, Outcome: "ok", Detail: "first owner"})
}

// WatchBootstrap applies bootstrap files left in dir until ctx ends,
// checking every interval.
func (s *Server) WatchBootstrap(ctx context.Context, dir string, interval time.Duration) {
	s.consumeBootstrap(dir)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.consumeBootstrap(dir)
		}
	}
}

// HasOwner reports whether the relay has an owner.
func (s *Server) HasOwner() (bool, error) { return s.store.hasOwner() }

// IdentityFile holds the relay's own identity (its private keys) in its
// data directory, mode 0600.
const IdentityFile = "relay-identity.key"

// LoadIdentity reads the relay's identity from dir, creating it (named
// name) on first use.
func LoadIdentity(dir, name string) (*identity.Identity, error) {
	path := filepath.Join(dir, IdentityFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		id, err := identity.New(name)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(identityFile{Name: name, Secret: id.Secret()})
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(path, b); err != nil {
			return nil, fmt.Errorf("save the relay's identity: %w", err)
		}
		return id, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the relay's identity: %w", err)
	}
	var f identityFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("read the relay's identity %s: %w", path, err)
	}
	return identity.FromSecret(f.Name, f.Secret)
}

type identityFile struct {
	Name   string `json:"name"`
	Secret []byte `json:"secret"`
}
