package control

import (
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/relay"
)

// maxNotifications is the most notifications GET /v1/notifications
// returns at once.
const maxNotifications = 200

// notifyTx leaves n for each operator of fps, in the transaction tx.
func (p *Plane) notifyTx(tx *bolt.Tx, fps []string, n Notification) error {
	for _, fp := range fps {
		b, err := tx.Bucket(bucketNotifications).CreateBucketIfNotExists([]byte(fp))
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		n.ID, n.CreatedAt = newID("ntf"), p.now()
		raw, err := json.Marshal(n)
		if err != nil {
			return err
		}
		if err := b.Put(seqKey(seq), raw); err != nil {
			return err
		}
	}
	return nil
}

// notifications is GET /v1/notifications[?limit=N]: the caller's
// notifications, newest first.
func (p *Plane) notifications(w http.ResponseWriter, r *http.Request, pr *relay.Principal) error {
	limit := maxNotifications
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return badRequest("limit must be a positive number")
		}
		limit = min(n, maxNotifications)
	}
	p.releaseDue()
	out := []Notification{}
	err := p.st.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNotifications).Bucket([]byte(pr.Member.Fingerprint))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var n Notification
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	relay.WriteJSON(w, http.StatusOK, map[string]any{"notifications": out})
	return nil
}

// seqKey is the big-endian form of n, so keys sort by it.
func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
