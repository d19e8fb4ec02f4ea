package relay

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// An API key is "prt_" + a 16-character key ID + "_" + a 52-character
// secret (256 random bits), both lower-case base32. The relay keeps the
// ID and the SHA-256 of the whole key, never the key: a 256-bit random
// secret needs no slow hash, and the stored hash cannot be used to call
// the API.
const apiKeyPrefix = "prt_"

// APIKey is an API key as the relay keeps and lists it.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Operator   string     `json:"operator"` // fingerprint of the member the key acts for
	Hash       string     `json:"-"`        // hex SHA-256 of the key
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	CreatedBy  string     `json:"created_by"`
}

// storedKey is the stored form of an APIKey (Hash is not in its JSON).
type storedKey struct {
	APIKey
	Hash string `json:"hash"`
}

var bucketAPIKeys = []byte("api_keys") // key ID -> storedKey JSON

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func randomB32(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return strings.ToLower(b32.EncodeToString(b))
}

func hashKey(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

// newAPIKey makes a key for operator and returns its record and the key.
func newAPIKey(name, operator, by string, now time.Time) (storedKey, string) {
	id := randomB32(10)
	key := apiKeyPrefix + id + "_" + randomB32(32)
	return storedKey{APIKey: APIKey{ID: id, Name: name, Operator: operator, CreatedAt: now, CreatedBy: by}, Hash: hashKey(key)}, key
}

// parseAPIKey splits a presented key into its ID, or fails.
func parseAPIKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, apiKeyPrefix)
	if !ok {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_")
	return id, ok && len(id) == 16 && len(secret) == 52
}

var errRevoked = errors.New("api key revoked")

// lastUsedResolution is how precisely a key's last use is recorded: a key
// used again within it is not written back.
const lastUsedResolution = time.Minute

func (s *Store) putAPIKey(k storedKey) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketAPIKeys), []byte(k.ID), k) })
}

// checkAPIKey finds the key presented and records its use. It returns
// errNotFound for an unknown or wrong key and errRevoked for a revoked one.
func (s *Store) checkAPIKey(key string, now time.Time) (APIKey, error) {
	k, err := s.lookupAPIKey(key)
	switch {
	case err != nil:
		return APIKey{}, err
	case k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < lastUsedResolution:
		return k.APIKey, nil // recent enough: no write (and fsync) on every call
	}
	id := k.ID
	// Record the use, unless the key was revoked meanwhile.
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAPIKeys)
		if err := getJSON(b, []byte(id), &k); err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return errRevoked
		}
		k.LastUsedAt = &now
		return putJSON(b, []byte(id), k)
	})
	return k.APIKey, err
}

// lookupAPIKey finds the key presented without recording a use: errNotFound
// for an unknown or wrong key, errRevoked for a revoked one.
func (s *Store) lookupAPIKey(key string) (storedKey, error) {
	id, ok := parseAPIKey(key)
	if !ok {
		return storedKey{}, errNotFound
	}
	var k storedKey
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bucketAPIKeys), []byte(id), &k) })
	switch {
	case err != nil:
		return storedKey{}, err
	case subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hashKey(key))) != 1:
		return storedKey{}, errNotFound
	case k.RevokedAt != nil:
		return storedKey{}, errRevoked
	}
	return k, nil
}

// apiKeys lists the keys of operator ("" for all), newest first.
func (s *Store) apiKeys(operator string) ([]APIKey, error) {
	out := []APIKey{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAPIKeys).ForEach(func(_, v []byte) error {
			var k storedKey
			if err := json.Unmarshal(v, &k); err != nil {
				return err
			}
			if operator == "" || k.Operator == operator {
				out = append(out, k.APIKey)
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b APIKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, err
}

// revokeAPIKey marks key id revoked; revoking twice changes nothing.
func (s *Store) revokeAPIKey(id string, now time.Time) (APIKey, error) {
	var k storedKey
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAPIKeys)
		if err := getJSON(b, []byte(id), &k); err != nil {
			return err
		}
		if k.RevokedAt == nil {
			k.RevokedAt = &now
		}
		return putJSON(b, []byte(id), k)
	})
	return k.APIKey, err
}
