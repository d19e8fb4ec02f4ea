package relay

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// maxGroup caps the writes that share one transaction.
const maxGroup = 256

// writeReq is one write waiting for the committer.
type writeReq struct {
	f    func(*bolt.Tx) error
	done chan error
}

// update runs f in a read-write transaction and returns once that
// transaction is committed (fsync'd) or refused. Writes that arrive while
// another transaction is being committed share the next one (group
// commit): under load the relay pays for one fsync per batch instead of
// one per request, and a lone write waits for nobody. f may be called more
// than once (when a write in its batch fails, the others run again without
// it), so it must set its results afresh each time and touch nothing
// outside the transaction.
func (s *Store) update(f func(*bolt.Tx) error) error {
	req := writeReq{f: f, done: make(chan error, 1)}
	select {
	case s.writes <- req:
	case <-s.stopped:
		return berrors.ErrDatabaseNotOpen
	}
	return <-req.done
}

// committer runs the writes handed to update until the store is closed,
// then those still pending.
func (s *Store) committer() {
	defer close(s.stopped)
	for {
		var batch []writeReq
		select {
		case r := <-s.writes:
			batch = append(batch, r)
		case <-s.closing:
			for {
				select {
				case r := <-s.writes:
					s.commit([]writeReq{r})
				default:
					return
				}
			}
		}
	more:
		for len(batch) < maxGroup {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.commit(batch)
	}
}

// commit runs batch in one transaction. A write that fails is answered
// with its error (what it would have met after the writes before it) and
// the transaction is rolled back, since that write may have changed
// something before failing; the others run again without it.
func (s *Store) commit(batch []writeReq) {
	for len(batch) > 0 {
		failed := -1
		var ferr error
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, r := range batch {
				if err := runWrite(r.f, tx); err != nil {
					failed, ferr = i, err
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, r := range batch {
				r.done <- err // nil, or the commit's own failure
			}
			return
		}
		batch[failed].done <- ferr
		batch = append(batch[:failed], batch[failed+1:]...)
	}
}

// runWrite runs f, turning a panic into its error: it runs on the committer,
// not on the request's goroutine, whose panic net/http would recover.
func runWrite(f func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("relay store: panic in a write: %v", p)
		}
	}()
	return f(tx)
}
