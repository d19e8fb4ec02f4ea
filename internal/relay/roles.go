package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/identity"
)

// Role is what an operator may do on this relay. Each role includes the
// rights of those below it: owner > admin > operator > viewer.
type Role string

// The roles, from most to least powerful.
const (
	RoleOwner    Role = "owner"    // manages operators; backup export and wallet destruction (with TOTP)
	RoleAdmin    Role = "admin"    // creates wallets, rotates keys (with TOTP)
	RoleOperator Role = "operator" // asks for signatures; holds shares
	RoleViewer   Role = "viewer"   // reads wallets and the audit log
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleOperator, RoleViewer}

func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleOperator:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r includes the rights of min.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("unknown role %q: use owner, admin, operator or viewer", s)
	}
	return r, nil
}

// Member is an identity an owner admitted to the relay, with its role.
type Member struct {
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint"`
	Role        Role      `json:"role"`
	AddedBy     string    `json:"added_by"` // fingerprint of the owner who admitted it, or "bootstrap"
	AddedAt     time.Time `json:"added_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Label is "name (fingerprint)".
func (m Member) Label() string { return m.Name + " (" + m.Fingerprint + ")" }

var bucketMembers = []byte("members") // fingerprint -> Member JSON

var (
	errNotRegistered = errors.New("identity not registered")
	errLastOwner     = errors.New("last owner")
)

// member returns the member with fingerprint fp.
func (s *Store) member(fp string) (m Member, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		ok, err = memberIn(tx, fp, &m)
		return err
	})
	return m, ok, err
}

func memberIn(tx *bolt.Tx, fp string, m *Member) (bool, error) {
	err := getJSON(tx.Bucket(bucketMembers), []byte(fp), m)
	if errors.Is(err, errNotFound) {
		return false, nil
	}
	return err == nil, err
}

// members returns every member, by name.
func (s *Store) members() ([]Member, error) {
	var all []Member
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMembers).ForEach(func(_, v []byte) error {
			var m Member
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			all = append(all, m)
			return nil
		})
	})
	slices.SortFunc(all, func(a, b Member) int { return cmpString(a.Name, b.Name) })
	return all, err
}

// hasOwner reports whether the relay has an owner yet.
func (s *Store) hasOwner() (bool, error) {
	all, err := s.members()
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(all, func(m Member) bool { return m.Role == RoleOwner }), nil
}

// setMember admits the registered identity fp with role, or changes its
// role. It refuses to demote the last owner. It returns the member and
// whether it was new.
func (s *Store) setMember(fp string, role Role, by string, now time.Time) (m Member, created bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		p, ok, err := registered(tx, fp)
		if err != nil {
			return err
		}
		if !ok {
			return errNotRegistered
		}
		found, err := memberIn(tx, fp, &m)
		if err != nil {
			return err
		}
		if found && m.Role == RoleOwner && role != RoleOwner {
			if n, err := countOwners(tx); err != nil || n <= 1 {
				return errors.Join(err, errLastOwner)
			}
		}
		created = !found
		if created {
			m = Member{Name: p.Name, Fingerprint: fp, AddedBy: by, AddedAt: now}
		}
		m.Role, m.UpdatedAt = role, now
		return putJSON(tx.Bucket(bucketMembers), []byte(fp), m)
	})
	return m, created, err
}

// removeMember takes fp's membership away (its identity stays registered,
// its API keys stop working). The last owner cannot be removed.
func (s *Store) removeMember(fp string) (m Member, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		found, err := memberIn(tx, fp, &m)
		if err != nil {
			return err
		}
		if !found {
			return errNotFound
		}
		if m.Role == RoleOwner {
			if n, err := countOwners(tx); err != nil || n <= 1 {
				return errors.Join(err, errLastOwner)
			}
		}
		return tx.Bucket(bucketMembers).Delete([]byte(fp))
	})
	return m, err
}

func countOwners(tx *bolt.Tx) (int, error) {
	n := 0
	err := tx.Bucket(bucketMembers).ForEach(func(_, v []byte) error {
		var m Member
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		if m.Role == RoleOwner {
			n++
		}
		return nil
	})
	return n, err
}

// BootstrapOwner registers p and makes it the first owner, unless the
// relay already has an owner.
func (s *Store) BootstrapOwner(p identity.Public, now time.Time) error {
	if _, err := s.register(p); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		n, err := countOwners(tx)
		if err != nil {
			return err
		}
		if n > 0 {
			return errOwnerExists
		}
		m := Member{Name: p.Name, Fingerprint: p.Fingerprint(), Role: RoleOwner, AddedBy: "bootstrap", AddedAt: now, UpdatedAt: now}
		return putJSON(tx.Bucket(bucketMembers), []byte(m.Fingerprint), m)
	})
}

var errOwnerExists = errors.New("the relay already has an owner")

// resolveIdentity finds a registered identity by name or fingerprint.
func (s *Store) resolveIdentity(nameOrFP string) (identity.Public, bool, error) {
	var p identity.Public
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		fp := tx.Bucket(bucketNames).Get([]byte(nameOrFP))
		if fp == nil {
			fp = []byte(nameOrFP)
		}
		var err error
		p, ok, err = registered(tx, string(fp))
		return err
	})
	return p, ok, err
}
