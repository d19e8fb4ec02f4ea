package coord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/atomicfile"
	"github.com/paratro/paratro/internal/envelope"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares"
)

// journalEntry records a ceremony this party is running, durably, before
// its first message: a party that restarts cannot resume it (the threshold
// library keeps round state in memory only), so on start it tells the
// others it gave up, and settles any new share it had kept pending.
type journalEntry struct {
	CeremonyID string   `json:"ceremony_id"`
	Request    *Request `json:"request"`
	Start      *Start   `json:"start"`
	// Unsettled: the ceremony ended with this party's new share pending
	// (confirmations missing); it is settled once the deadline has passed.
	Unsettled bool `json:"unsettled,omitempty"`
}

func (p *Party) journalDir() string { return filepath.Join(p.Home.Dir, "journal") }

func (p *Party) writeJournal(j *journalEntry) error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(p.journalDir(), j.CeremonyID+".json"), b)
}

// removeJournal forgets a ceremony that ended. A failure is reported: the
// entry left behind would make the next start give the ceremony up again.
func (p *Party) removeJournal(id string) {
	if err := os.Remove(filepath.Join(p.journalDir(), id+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		p.emit(Event{Ceremony: id, What: "error", Err: fmt.Errorf("remove the journal entry of a finished ceremony: %w", err)})
	}
}

func (p *Party) journal() ([]*journalEntry, error) {
	entries, err := os.ReadDir(p.journalDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*journalEntry
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(p.journalDir(), e.Name()))
		if err != nil {
			return nil, err
		}
		var j journalEntry
		if err := json.Unmarshal(b, &j); err != nil || j.Request == nil || j.Start == nil {
			return nil, fmt.Errorf("journal entry %s is unreadable; move it away to continue", e.Name())
		}
		out = append(out, &j)
	}
	return out, nil
}

// members are the identities taking part in a journalled ceremony.
func (j *journalEntry) members() []identity.Public {
	var out []identity.Public
	for _, fp := range j.Start.Signers {
		if m, ok := identity.Find(j.Request.Parties, fp); ok {
			out = append(out, m)
		}
	}
	return out
}

// committed returns the result of a journalled keygen or refresh whose new
// share this party had already made active when it stopped (it commits
// only once every participant confirmed, so every other one can commit
// too): the ceremony is over and succeeded; only recording the wallet and
// reporting the outcome were left (failpoint <kind>:after-commit). Nil
// otherwise.
func (p *Party) committed(j *journalEntry) *ceremony.Result {
	if j.Request.Kind != ceremony.KindKeygen && j.Request.Kind != ceremony.KindRefresh {
		return nil
	}
	st, err := p.Home.Store.Active(j.Request.WalletID, p.Home.ID.Fingerprint())
	if err != nil {
		return nil
	}
	defer st.Wipe()
	if st.Epoch != resultEpoch(j.Request) {
		return nil
	}
	return &ceremony.Result{PublicKey: bytes.Clone(st.PublicKey), ConfigDigest: bytes.Clone(st.ConfigDigest)}
}

// finishCommitted does what a party that stopped right after committing the
// new share of ceremony j had left to do: record the wallet and report
// success to the initiator (if it still waits), so that wallet create or
// rotate-keys succeeds instead of failing on a ceremony that completed.
func (p *Party) finishCommitted(ctx context.Context, j *journalEntry, res *ceremony.Result) error {
	out := outcomeOf(res, nil)
	out.Epoch = resultEpoch(j.Request)
	if err := p.record(j.Request, res); err != nil {
		out = &Outcome{OK: false, Code: string(ceremony.CodeInternal), Error: "could not record the wallet: " + err.Error()}
	}
	if time.Now().Before(j.Request.Deadline) {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := p.postOutcome(sctx, j.CeremonyID, out)
		cancel()
		if err != nil {
			return fmt.Errorf("tell the relay that ceremony %.16s… completed: %w", j.CeremonyID, err)
		}
	}
	p.removeJournal(j.CeremonyID)
	p.emit(Event{Ceremony: j.CeremonyID, Request: j.Request, What: "done", Detail: out.PublicKey, Outcome: out})
	return nil
}

// hasPending reports whether this party holds a pending share from the
// journalled ceremony (a keygen or refresh that reached its confirmation).
func (p *Party) hasPending(j *journalEntry) bool {
	if j.Request.Kind == ceremony.KindSign {
		return false
	}
	st, err := p.Home.Store.Pending(j.Request.WalletID, p.Home.ID.Fingerprint())
	if err != nil {
		return false
	}
	defer st.Wipe()
	return st.Epoch == resultEpoch(j.Request)
}

// recover gives up every ceremony a previous run of this party left
// unfinished: an abort to the other participants (so they stop at once,
// naming this party, instead of waiting for the deadline) and a failed
// outcome for the initiator. A keygen or refresh whose new share it had
// already committed is not given up but finished (finishCommitted).
func (p *Party) recover(ctx context.Context) error {
	entries, err := p.journal()
	if err != nil {
		return err
	}
	for _, j := range entries {
		if j.Unsettled {
			continue
		}
		if res := p.committed(j); res != nil {
			if err := p.finishCommitted(ctx, j, res); err != nil {
				return err
			}
			continue
		}
		d, err := j.Request.startDescriptor(j.CeremonyID, j.Start)
		if err != nil {
			return err
		}
		pending := p.hasPending(j)
		reason := "party " + p.Home.ID.Name + " restarted during the ceremony and cannot resume it"
		if time.Now().Before(j.Request.Deadline) {
			tr := NewTransport(p.Relay, p.Home.ID, j.CeremonyID, j.members())
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := tr.Send(sctx, ceremony.AbortMessage(d, selfID(p), reason, pending))
			if err == nil {
				err = p.postOutcome(sctx, j.CeremonyID, &Outcome{OK: false, Code: string(ceremony.CodeAborted), Error: reason, Pending: pending})
			}
			cancel()
			if err != nil {
				return fmt.Errorf("tell the relay that ceremony %.16s… failed: %w", j.CeremonyID, err)
			}
		}
		p.emit(Event{Ceremony: j.CeremonyID, Request: j.Request, What: "aborted-after-restart", Detail: reason})
		if j.Request.Kind == ceremony.KindPresign && j.Request.Initiator.Fingerprint() != p.Home.ID.Fingerprint() {
			// The initiator counts this presign as failed (this party's
			// outcome says so, or it never comes) and retires its own part
			// of the presignature (Party.presign): a part this party
			// stored before it died could never sign, and would inflate
			// its pool until the next rotation.
			p.retire(j.Request.WalletID, j.CeremonyID)
		}
		if pending {
			j.Unsettled = true
			if err := p.writeJournal(j); err != nil {
				return err
			}
		} else {
			p.removeJournal(j.CeremonyID)
		}
	}
	return nil
}

func selfID(p *Party) party.ID { return party.ID(p.Home.ID.Fingerprint()) }

// settlePending decides the fate of new shares kept pending, once their
// ceremony's deadline has passed and no more confirmations can come: the
// relay's mailbox then holds every confirmation that was ever sent, each
// signed by its sender. If every participant, this one included, confirmed
// the new share, some of them may have switched to it, so it becomes
// active; otherwise none could have, and it is discarded (SECURITY.md B9).
func (p *Party) settlePending(ctx context.Context) {
	if !p.settle.TryLock() {
		return
	}
	defer p.settle.Unlock()
	entries, err := p.journal()
	if err != nil {
		return
	}
	for _, j := range entries {
		if !j.Unsettled || time.Now().Before(j.Request.Deadline.Add(settleGrace)) {
			continue
		}
		if err := p.settleOne(ctx, j); err != nil {
			p.emit(Event{Ceremony: j.CeremonyID, Request: j.Request, What: "error", Err: fmt.Errorf("settle the pending share: %w", err)})
			continue
		}
	}
}

// settleGrace is how long after a ceremony's deadline its pending shares
// are settled: confirmations posted just before the deadline are in.
const settleGrace = 5 * time.Second

// settleWait is how long the inbox may be waited on before a pending share
// is due to be settled: a long poll, or less when one is due sooner (at
// least 2 s, so a settlement that keeps failing does not spin).
func (p *Party) settleWait() time.Duration {
	wait := pollWait
	entries, err := p.journal()
	if err != nil {
		return wait
	}
	for _, j := range entries {
		if j.Unsettled {
			wait = min(wait, max(time.Until(j.Request.Deadline.Add(settleGrace)), 2*time.Second))
		}
	}
	return wait
}

func (p *Party) settleOne(ctx context.Context, j *journalEntry) error {
	me := p.Home.ID.Fingerprint()
	st, err := p.Home.Store.Pending(j.Request.WalletID, me)
	if errors.Is(err, shares.ErrNotFound) {
		p.removeJournal(j.CeremonyID)
		return nil
	}
	if err != nil {
		return err
	}
	pub, cd, epoch := st.PublicKey, st.ConfigDigest, st.Epoch
	st.Wipe()
	d, err := j.Request.startDescriptor(j.CeremonyID, j.Start)
	if err != nil {
		return err
	}
	want := ceremony.ConfirmationDigest(d, cd, pub)
	got := map[string]bool{}
	members := map[string]identity.Public{}
	for _, m := range j.members() {
		members[m.Fingerprint()] = m
	}
	lookup := func(fp string) (identity.Public, bool) { m, ok := members[fp]; return m, ok }
	var after uint64
	selfConfirmed := false
	for {
		msgs, err := p.Relay.Messages(ctx, j.CeremonyID, after, 0)
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			after = max(after, m.Seq)
			if m.Kind != kindEnvelope {
				continue
			}
			if m.From == me {
				// This party's own confirmation is sealed to the others
				// only; its signed header says it was sent.
				h, err := envelope.Inspect(m.Data, lookup)
				if err == nil && h.Type == uint8(ceremony.TypeConfirm) && h.From == me && bytes.Equal(h.SessionID, d.SessionID()) {
					selfConfirmed = true
				}
				continue
			}
			h, pt, err := envelope.Open(p.Home.ID, m.Data, lookup)
			if err != nil || h.Type != uint8(ceremony.TypeConfirm) || h.From != m.From || !bytes.Equal(h.SessionID, d.SessionID()) {
				continue
			}
			if bytes.Equal(pt, want) {
				got[h.From] = true
			}
		}
	}
	// A party that stored its new share but died before sending its own
	// confirmation (PARATRO_FAILPOINT refresh:after-test) was never
	// confirmed to anyone: nobody can hold every confirmation, so nobody
	// switched, whatever the others sent.
	all := selfConfirmed
	for fp := range members {
		if fp != me && !got[fp] {
			all = false
		}
	}
	verb := "discarded (not every party confirmed it; the previous share stays active)"
	if all {
		err = p.Home.Store.Commit(j.Request.WalletID, me, epoch)
		verb = "activated (every party had confirmed it)"
	} else {
		err = p.Home.Store.Discard(j.Request.WalletID, me, epoch)
	}
	if err != nil {
		return err
	}
	p.removeJournal(j.CeremonyID)
	p.emit(Event{Ceremony: j.CeremonyID, Request: j.Request, What: "settled", Detail: fmt.Sprintf("pending share epoch %d of %s %s", epoch, j.Request.WalletID, verb)})
	return nil
}
