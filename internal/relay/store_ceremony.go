package relay

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
)

// member returns the member of fingerprint fp.
func (c *Ceremony) member(fp string) (identity.Public, bool) {
	for _, m := range c.Members {
		if m.Fingerprint() == fp {
			return m, true
		}
	}
	return identity.Public{}, false
}

// sameContent reports whether o asks for the same ceremony as c, creation
// time aside.
func (c *Ceremony) sameContent(o *Ceremony) bool {
	return c.ID == o.ID && c.Initiator == o.Initiator && c.Deadline.Equal(o.Deadline) &&
		bytes.Equal(c.Request, o.Request) && slices.EqualFunc(c.Members, o.Members, identity.Public.Equal)
}

// memberError is a ceremony member the relay cannot accept.
type memberError struct {
	member identity.Public
	reason string
}

func (e *memberError) Error() string { return "member " + e.member.Label() + " " + e.reason }

// Evidence is proof that a sender equivocated: two different envelopes,
// both signed by it, for the same (type, round, recipient) slot of one
// ceremony (SECURITY.md B3). Anyone holding the sender's public identity
// can check both signatures.
type Evidence struct {
	Ceremony   string    `json:"ceremony"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Type       uint8     `json:"type"`
	Round      int       `json:"round"`
	FirstSeq   uint64    `json:"first_seq"`
	First      []byte    `json:"first"`
	Second     []byte    `json:"second"`
	RecordedAt time.Time `json:"recorded_at"`
}

// slot is what makes two posts "the same message" for deduplication.
type slot struct {
	key      []byte
	envelope bool     // a different message in the slot is an equivocation
	evidence Evidence // for envelopes: the header fields, filled in on equivocation
}

// envelopeSlot is the slot of an envelope: (session, type, round, from,
// to). The session tells apart the protocols one ceremony runs: a keygen
// or refresh and the test signature its parties make with the new shares
// (ceremony.TestSessionID) have rounds of the same numbers.
func envelopeSlot(h envelope.Header) slot {
	k := append([]byte{'e', h.Type}, binary.BigEndian.AppendUint64(nil, uint64(int64(h.Round)))...)
	k = binary.BigEndian.AppendUint32(k, uint32(len(h.SessionID)))
	k = append(k, h.SessionID...)
	k = append(append(append(k, h.From...), 0), h.To...)
	return slot{key: k, envelope: true, evidence: Evidence{Ceremony: h.Ceremony, From: h.From, To: h.To, Type: h.Type, Round: h.Round}}
}

// controlSlot is the slot of a control message: the same bytes from the same sender.
func controlSlot(from string, data []byte) slot {
	sum := sha256.Sum256(data)
	return slot{key: append(append(append([]byte{'c'}, from...), 0), sum[:]...)}
}

// maxEvidence bounds the evidence kept per ceremony against a sender that
// equivocates on purpose to fill the disk.
const maxEvidence = 64

// createCeremony stores c and tells every member but the initiator in its
// inbox. When the ceremony exists with the same content it returns the
// stored one and created=false; with other content, errConflict.
func (s *Store) createCeremony(c Ceremony, maxOpen int) (stored Ceremony, created bool, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		stored, created = Ceremony{}, false
		cers := tx.Bucket(bucketCeremonies)
		if b := cers.Bucket([]byte(c.ID)); b != nil {
			if err := getJSON(b, keyMeta, &stored); err != nil {
				return err
			}
			if !stored.sameContent(&c) {
				return errConflict
			}
			return nil
		}
		if err := checkMembers(tx, c.Members); err != nil {
			return err
		}
		if err := countOpen(tx, c, maxOpen); err != nil {
			return err
		}
		if err := putCeremony(tx, c); err != nil {
			return err
		}
		stored, created = c, true
		return notifyMembers(tx, c)
	})
	return stored, created, err
}

// checkMembers requires every member to be registered with exactly the
// keys and name given.
func checkMembers(tx *bolt.Tx, members []identity.Public) error {
	for _, m := range members {
		reg, ok, err := registered(tx, m.Fingerprint())
		if err != nil {
			return err
		}
		if !ok {
			return &memberError{m, "is not registered with this relay: they must run 'paratro party run' against it first"}
		}
		if !reg.Equal(m) {
			return &memberError{m, "is registered under the name " + reg.Name}
		}
	}
	return nil
}

// countOpen records c as opened by its initiator, refusing it when the
// initiator already has maxOpen ceremonies whose deadline has not passed.
// Ceremonies past their deadline are forgotten here.
func countOpen(tx *bolt.Tx, c Ceremony, maxOpen int) error {
	b, err := tx.Bucket(bucketInitiated).CreateBucketIfNotExists([]byte(c.Initiator))
	if err != nil {
		return err
	}
	var expired [][]byte
	open := 0
	err = b.ForEach(func(k, v []byte) error {
		if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) <= c.CreatedAt.UnixNano() {
			expired = append(expired, k)
		} else {
			open++
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range expired {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	if open >= maxOpen {
		return errTooManyOpen
	}
	return b.Put([]byte(c.ID), binary.BigEndian.AppendUint64(nil, uint64(c.Deadline.UnixNano())))
}

// putCeremony makes c's bucket: its metadata, an empty log and slots.
func putCeremony(tx *bolt.Tx, c Ceremony) error {
	b, err := tx.Bucket(bucketCeremonies).CreateBucket([]byte(c.ID))
	if err != nil {
		return err
	}
	if _, err := b.CreateBucket(bucketLog); err != nil {
		return err
	}
	if _, err := b.CreateBucket(bucketSlots); err != nil {
		return err
	}
	return putJSON(b, keyMeta, c)
}

// notifyMembers appends an inbox item for c to each member, the initiator
// included: its own party process (a separate client with the same
// identity) may be one of the parties.
func notifyMembers(tx *bolt.Tx, c Ceremony) error {
	for _, m := range c.Members {
		fp := m.Fingerprint()
		box, err := tx.Bucket(bucketInboxes).CreateBucketIfNotExists([]byte(fp))
		if err != nil {
			return err
		}
		seq, err := box.NextSequence()
		if err != nil {
			return err
		}
		item := InboxItem{Seq: seq, CeremonyID: c.ID, Initiator: c.Initiator, CreatedAt: c.CreatedAt}
		if err := putJSON(box, seqKey(seq), item); err != nil {
			return err
		}
	}
	return nil
}

// ceremony returns the ceremony id, or errNotFound. A ceremony never
// changes once stored, so one found is remembered.
func (s *Store) ceremony(id string) (c Ceremony, err error) {
	if c, ok := s.ceremonies.get(id); ok {
		return c, nil
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCeremonies).Bucket([]byte(id))
		if b == nil {
			return errNotFound
		}
		return getJSON(b, keyMeta, &c)
	})
	if err == nil {
		s.ceremonies.put(id, c)
	}
	return c, err
}

// appendResult is what became of a posted message.
type appendResult struct {
	seq          uint64    // the message's sequence number (the earlier one when a duplicate or equivocation)
	duplicate    bool      // the same message was already stored
	equivocation *Evidence // a different envelope was already stored in the slot
}

// appendMessage adds m to ceremony id's log under the next sequence
// number, unless its slot already holds a message: the same bytes give
// that message's number back; different bytes in an envelope slot are
// recorded as evidence. Evidence is committed even though the post fails.
func (s *Store) appendMessage(id string, m Message, sl slot, maxMessages int) (res appendResult, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		res = appendResult{}
		b := tx.Bucket(bucketCeremonies).Bucket([]byte(id))
		if b == nil {
			return errNotFound
		}
		log, slots := b.Bucket(bucketLog), b.Bucket(bucketSlots)
		if v := slots.Get(sl.key); v != nil {
			return s.repost(tx, log, binary.BigEndian.Uint64(v), m, sl, &res)
		}
		if log.Sequence() >= uint64(maxMessages) {
			return errQuota
		}
		seq, err := log.NextSequence()
		if err != nil {
			return err
		}
		m.Seq, res.seq = seq, seq
		if err := log.Put(seqKey(seq), encodeMessage(&m)); err != nil {
			return err
		}
		return slots.Put(sl.key, seqKey(seq))
	})
	return res, err
}

// repost handles a message whose slot is taken by message seq.
func (s *Store) repost(tx *bolt.Tx, log *bolt.Bucket, seq uint64, m Message, sl slot, res *appendResult) error {
	raw := log.Get(seqKey(seq))
	if raw == nil {
		return errNotFound
	}
	var old Message
	if err := decodeMessage(raw, &old); err != nil {
		return err
	}
	old.Data = bytes.Clone(old.Data) // kept as evidence beyond the transaction
	res.seq = seq
	if bytes.Equal(old.Data, m.Data) || !sl.envelope {
		res.duplicate = true
		return nil
	}
	ev := sl.evidence
	ev.FirstSeq, ev.First, ev.Second, ev.RecordedAt = seq, old.Data, m.Data, m.ReceivedAt
	res.equivocation = &ev
	b, err := tx.Bucket(bucketEvidence).CreateBucketIfNotExists([]byte(ev.Ceremony))
	if err != nil {
		return err
	}
	if b.Sequence() >= maxEvidence {
		return nil
	}
	_, err = appendJSON(b, ev)
	return err
}

// messages returns up to maxN messages of ceremony id after seq after for
// which visible is true, stopping early once their data passes maxBytes.
// last is the sequence number of the last message looked at (after, when
// none), so that the next call may start there.
func (s *Store) messages(id string, after uint64, visible func(*Message) bool, maxN, maxBytes int) (out []Message, last uint64, err error) {
	last = after
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCeremonies).Bucket([]byte(id))
		if b == nil {
			return errNotFound
		}
		size := 0
		c := b.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
			var m Message
			if err := decodeMessage(v, &m); err != nil {
				return err
			}
			if visible(&m) {
				if len(out) > 0 && (len(out) >= maxN || size+len(m.Data) > maxBytes) {
					return nil
				}
				m.Data = bytes.Clone(m.Data) // out of the database's memory
				out, size = append(out, m), size+len(m.Data)
			}
			last = m.Seq
		}
		return nil
	})
	return out, last, err
}

// inbox returns up to maxN inbox items of fingerprint fp after seq after.
func (s *Store) inbox(fp string, after uint64, maxN int) (out []InboxItem, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		box := tx.Bucket(bucketInboxes).Bucket([]byte(fp))
		if box == nil {
			return nil
		}
		c := box.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < maxN; k, v = c.Next() {
			var it InboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return err
			}
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

// Evidence returns the equivocation evidence recorded for a ceremony, oldest
// first.
func (s *Store) Evidence(ceremonyID string) ([]Evidence, error) {
	var out []Evidence
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvidence).Bucket([]byte(ceremonyID))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var ev Evidence
			if err := json.Unmarshal(v, &ev); err != nil {
				return err
			}
			out = append(out, ev)
			return nil
		})
	})
	return out, err
}
