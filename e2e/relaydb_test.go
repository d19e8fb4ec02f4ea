//go:build unix

package e2e_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// The relay's bbolt layout (internal/relay/store.go): ceremonies/<id>/
// holds "meta" (the relay.Ceremony as JSON) and the bucket "log" (big-endian
// sequence number -> relay.Message as JSON).
var (
	bucketCeremonies = []byte("ceremonies")
	keyMeta          = []byte("meta")
	bucketLog        = []byte("log")
)

// relayDB runs fn in a read-write transaction on the relay's database. The
// relay must be down: it holds the file's lock while it runs.
func (e *env) relayDB(t *testing.T, fn func(tx *bolt.Tx) error) {
	t.Helper()
	if e.relay.running() {
		t.Fatal("relayDB: the relay is running")
	}
	db, err := bolt.Open(filepath.Join(e.relay.data, relay.DBFile), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open the relay's database: %v", err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatalf("edit the relay's database: %v", err)
	}
}

// ceremonyBucket returns ceremony id's bucket.
func ceremonyBucket(tx *bolt.Tx, id string) (*bolt.Bucket, error) {
	b := tx.Bucket(bucketCeremonies).Bucket([]byte(id))
	if b == nil {
		return nil, fmt.Errorf("no ceremony %.16s… in the relay's database", id)
	}
	return b, nil
}

// ceremonyMembers returns the members the relay keeps for ceremony id, as
// a lookup by fingerprint.
func ceremonyMembers(tx *bolt.Tx, id string) (func(string) (identity.Public, bool), error) {
	b, err := ceremonyBucket(tx, id)
	if err != nil {
		return nil, err
	}
	var c relay.Ceremony
	if err := json.Unmarshal(b.Get(keyMeta), &c); err != nil {
		return nil, err
	}
	return func(fp string) (identity.Public, bool) {
		for _, m := range c.Members {
			if m.Fingerprint() == fp {
				return m, true
			}
		}
		return identity.Public{}, false
	}, nil
}

// ceremonyLog returns ceremony id's stored messages, in order.
func ceremonyLog(tx *bolt.Tx, id string) ([]relay.Message, error) {
	b, err := ceremonyBucket(tx, id)
	if err != nil {
		return nil, err
	}
	var out []relay.Message
	err = b.Bucket(bucketLog).ForEach(func(_, v []byte) error {
		m, err := relay.UnmarshalMessageRecord(v)
		if err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// putMessage stores m in ceremony id's log: under m.Seq when it is set
// (replacing that message), else under the log's next sequence number,
// which it returns.
func putMessage(tx *bolt.Tx, id string, m relay.Message) (uint64, error) {
	b, err := ceremonyBucket(tx, id)
	if err != nil {
		return 0, err
	}
	log := b.Bucket(bucketLog)
	if m.Seq == 0 {
		if m.Seq, err = log.NextSequence(); err != nil {
			return 0, err
		}
	}
	return m.Seq, log.Put(binary.BigEndian.AppendUint64(nil, m.Seq), relay.MarshalMessageRecord(&m))
}
