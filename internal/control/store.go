package control

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// The control plane's buckets in the relay's database.
var (
	bucketWallets       = []byte("control_wallets")       // wallet id -> Wallet JSON
	bucketSignatures    = []byte("control_signatures")    // sig id -> Signature JSON
	bucketActions       = []byte("control_actions")       // act id -> actionRecord JSON
	bucketBackups       = []byte("control_backups")       // bex id -> BackupExport JSON
	bucketNotifications = []byte("control_notifications") // fingerprint -> {seq -> Notification JSON}
	bucketOutcomes      = []byte("control_outcomes")      // ceremony id -> ceremonyNotes JSON
	bucketIdempotency   = []byte("control_idempotency")   // fingerprint NUL key -> idempotent JSON
)

var allBuckets = [][]byte{bucketWallets, bucketSignatures, bucketActions, bucketBackups,
	bucketNotifications, bucketOutcomes, bucketIdempotency}

// errNotFound is a record that is not in its bucket.
var errNotFound = errors.New("not found")

// createBuckets makes the control plane's buckets if missing.
func createBuckets(tx *bolt.Tx) error {
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// get decodes the JSON at key of bucket into v, or returns errNotFound.
func get(tx *bolt.Tx, bucket []byte, key string, v any) error {
	raw := tx.Bucket(bucket).Get([]byte(key))
	if raw == nil {
		return errNotFound
	}
	return json.Unmarshal(raw, v)
}

// put stores v as JSON at key of bucket.
func put(tx *bolt.Tx, bucket []byte, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put([]byte(key), raw)
}

// all decodes every value of bucket, in key order.
func all[T any](tx *bolt.Tx, bucket []byte) ([]T, error) {
	out := []T{}
	err := tx.Bucket(bucket).ForEach(func(_, v []byte) error {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns prefix + "_" + 16 random lower-case base32 characters.
func newID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + "_" + strings.ToLower(b32.EncodeToString(b))
}

// findWallet returns the wallet with id idOrName, or the one wallet of
// that exact name (ignoring failed and destroyed ones when several share
// it).
func findWallet(tx *bolt.Tx, idOrName string) (Wallet, error) {
	var w Wallet
	if err := get(tx, bucketWallets, idOrName, &w); !errors.Is(err, errNotFound) {
		return w, err
	}
	ws, err := all[Wallet](tx, bucketWallets)
	if err != nil {
		return w, err
	}
	named := slices.DeleteFunc(ws, func(w Wallet) bool { return w.Name != idOrName })
	if len(named) > 1 {
		named = slices.DeleteFunc(named, func(w Wallet) bool { return w.Status == StatusFailed || w.Status == StatusDestroyed })
	}
	switch len(named) {
	case 0:
		return w, errNotFound
	case 1:
		return named[0], nil
	}
	return w, &ambiguousError{name: idOrName, ids: walletIDs(named)}
}

// ambiguousError is a name that several live wallets share.
type ambiguousError struct {
	name string
	ids  []string
}

func (e *ambiguousError) Error() string {
	return "several wallets are named " + e.name + " (" + strings.Join(e.ids, ", ") + "): use the wallet's id"
}

func walletIDs(ws []Wallet) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID
	}
	return out
}
