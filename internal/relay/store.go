package relay

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/paratro/paratro/internal/identity"
)

// DBFile is the name of the relay's database in its data directory.
const DBFile = "relay.db"

// Top-level buckets, and the keys and buckets inside a ceremony's bucket.
var (
	bucketIdentities = []byte("identities") // fingerprint -> identity.Public JSON
	bucketKeys       = []byte("keys")       // signing key -> fingerprint
	bucketNames      = []byte("names")      // name -> fingerprint
	bucketCeremonies = []byte("ceremonies") // id -> {meta, log, slots}
	bucketInitiated  = []byte("initiated")  // initiator fingerprint -> {id -> deadline}
	bucketInboxes    = []byte("inboxes")    // fingerprint -> {seq -> InboxItem}
	bucketEvidence   = []byte("evidence")   // ceremony id -> {seq -> Evidence}

	keyMeta     = []byte("meta")  // Ceremony JSON
	bucketLog   = []byte("log")   // seq -> Message record (record.go)
	bucketSlots = []byte("slots") // dedupe key -> seq
)

// Errors of the store, turned into HTTP statuses by the server.
var (
	errNotFound    = errors.New("not found")
	errNameTaken   = errors.New("name taken")
	errKeyChanged  = errors.New("key registered with other details")
	errConflict    = errors.New("ceremony exists with other content")
	errTooManyOpen = errors.New("too many open ceremonies")
	errQuota       = errors.New("ceremony message quota exceeded")
)

// Store is the relay's durable state in one bbolt file. Every write is
// committed (fsync'd) before it returns, so what the relay acknowledged
// survives a crash; the hot writes (messages, ceremonies, registrations)
// made at the same time share a transaction (see update).
type Store struct {
	db         *bolt.DB
	secretsKey []byte // seals TOTP secrets (secrets.key)

	writes   chan writeReq // to the committer
	closing  chan struct{} // closed by Close: the committer finishes
	stopped  chan struct{} // closed by the committer when it has finished
	closeErr error
	once     sync.Once

	ceremonies *recordCache[Ceremony]        // by id
	identities *recordCache[identity.Public] // by signing key
}

// cacheSize bounds each cache of unchanging records.
const cacheSize = 1 << 14

// OpenStore opens (or creates) dir/relay.db. dir is created 0700 if
// missing; a directory that others may write to, or that belongs to
// another user, is refused. Only one relay may hold the store at a time.
func OpenStore(dir string) (*Store, error) {
	if err := checkDataDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, DBFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open relay store %s: another relay is using it", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open relay store %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketIdentities, bucketKeys, bucketNames, bucketCeremonies,
			bucketInitiated, bucketInboxes, bucketEvidence, bucketMembers, bucketAPIKeys, bucketMFA} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open relay store %s: %w", path, err)
	}
	key, err := loadSecretsKey(dir)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{db: db, secretsKey: key, writes: make(chan writeReq),
		closing: make(chan struct{}), stopped: make(chan struct{}),
		ceremonies: newRecordCache[Ceremony](cacheSize), identities: newRecordCache[identity.Public](cacheSize)}
	go s.committer()
	return s, nil
}

// Update runs f in a read-write transaction of the relay's database; the
// control plane keeps its own buckets there.
func (s *Store) Update(f func(*bolt.Tx) error) error { return s.db.Update(f) }

// View runs f in a read-only transaction.
func (s *Store) View(f func(*bolt.Tx) error) error { return s.db.View(f) }

// checkDataDir makes dir (0700) if it does not exist and refuses one that
// is group- or world-writable.
func checkDataDir(dir string) error {
	if dir == "" {
		return errors.New("no relay data directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create relay data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("relay data directory %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("relay data directory %s is writable by other users (mode %04o): run 'chmod 700 %s'", dir, fi.Mode().Perm(), dir)
	}
	return checkOwner(dir, fi)
}

// Close finishes the writes under way and closes the database file.
func (s *Store) Close() error {
	s.once.Do(func() {
		close(s.closing)
		<-s.stopped
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// seqKey is the big-endian form of a sequence number, so keys sort by it.
func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// register adds p to the roster. It reports whether p is new; registering
// the same identity again changes nothing.
func (s *Store) register(p identity.Public) (created bool, err error) {
	fp := p.Fingerprint()
	err = s.update(func(tx *bolt.Tx) error {
		created = false
		keys, names, ids := tx.Bucket(bucketKeys), tx.Bucket(bucketNames), tx.Bucket(bucketIdentities)
		if old := keys.Get(p.SigningKey); old != nil {
			if string(old) != fp {
				return errKeyChanged
			}
			return nil
		}
		if names.Get([]byte(p.Name)) != nil {
			return errNameTaken
		}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		created = true
		return errors.Join(ids.Put([]byte(fp), b), keys.Put(p.SigningKey, []byte(fp)), names.Put([]byte(p.Name), []byte(fp)))
	})
	return created, err
}

// identityByKey returns the registered identity whose signing key is key.
// A registration never changes, so one found is remembered.
func (s *Store) identityByKey(key ed25519.PublicKey) (p identity.Public, ok bool, err error) {
	if p, ok := s.identities.get(string(key)); ok {
		return p, true, nil
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		fp := tx.Bucket(bucketKeys).Get(key)
		if fp == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(tx.Bucket(bucketIdentities).Get(fp), &p)
	})
	if ok && err == nil {
		s.identities.put(string(key), p)
	}
	return p, ok, err
}

// roster returns every registered identity, by name.
func (s *Store) roster() ([]identity.Public, error) {
	var all []identity.Public
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIdentities).ForEach(func(_, v []byte) error {
			var p identity.Public
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			all = append(all, p)
			return nil
		})
	})
	slices.SortFunc(all, func(a, b identity.Public) int { return cmpString(a.Name, b.Name) })
	return all, err
}

// registered returns the registered identity of fingerprint fp, if any.
func registered(tx *bolt.Tx, fp string) (identity.Public, bool, error) {
	v := tx.Bucket(bucketIdentities).Get([]byte(fp))
	if v == nil {
		return identity.Public{}, false, nil
	}
	var p identity.Public
	return p, true, json.Unmarshal(v, &p)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// getJSON decodes the JSON value at key of b into v, or returns errNotFound.
func getJSON(b *bolt.Bucket, key []byte, v any) error {
	raw := b.Get(key)
	if raw == nil {
		return errNotFound
	}
	return json.Unmarshal(raw, v)
}

// putJSON stores v as JSON at key of b.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

// appendJSON stores v under b's next sequence number and returns it.
func appendJSON(b *bolt.Bucket, v any) (uint64, error) {
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	return seq, putJSON(b, seqKey(seq), v)
}
