package coord

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares"
)

// Pool is what a party keeps ready for one-round signing (SECURITY.md
// B10). With Keep > 0, the party runs presign ceremonies while it is idle
// until it holds Keep unused presignatures for each ECDSA wallet and each
// signer set it keeps: the sets of Required parties that include it and
// in which it has the lowest fingerprint (so each set has one keeper),
// and, if With is given, whose other members are all in With.
type Pool struct {
	Keep int
	// With restricts the signer sets to those made of this party and
	// parties in With (fingerprints).
	With []string
	// Check is how often the pool is checked while nothing happens
	// (default 5 s); a finished ceremony checks it at once.
	Check time.Duration
	// Idle is how long the party must have been idle (no ceremony but the
	// pool's own) before the pool refills (default 1 s): a burst of signs
	// is not slowed by presign ceremonies between them.
	Idle time.Duration
}

// active records that a ceremony other than a presign ended now.
func (p *Party) active() {
	p.mu.Lock()
	p.idleFrom = time.Now()
	p.mu.Unlock()
}

// idleFor is how much longer the pool must wait for the party to be idle.
func (p *Party) idleFor() time.Duration {
	idle := p.Pool.Idle
	if idle <= 0 {
		idle = time.Second
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.running) > p.ownPresigns {
		return idle
	}
	return max(0, idle-time.Since(p.idleFrom))
}

// maxOffers is the most presignatures per signer set a party offers in
// one approval. It offers one per four it holds unreserved (at least one):
// an offer is reserved for its request alone, so that two concurrent
// requests can never both be started with the same presignature, and a
// small pool is not used up by one request's offers; more than one offer
// gets past a presignature another signer lacks (its ceremony failed
// there).
const maxOffers = 4

// presignDeadline is how long a presign request waits for approvals and
// runs: long enough for a holder to approve a batch in the terminal.
const presignDeadline = 5 * time.Minute

// offer lists the presignatures this party can sign req with, oldest
// first, as many per signer set as maxOffers says, and reserves them for
// ceremony id, so that a concurrent request is offered others (release
// frees them). A request with fixed signers is offered only theirs.
func (p *Party) offer(id string, req *Request) []Offer {
	if !req.usesPresignatures() {
		return nil
	}
	me := p.Home.ID.Fingerprint()
	list, err := p.Home.Store.Presignatures(req.WalletID, me)
	if err != nil || len(list) == 0 {
		return nil
	}
	want := slices.Sorted(slices.Values(req.Signers))
	p.poolMu.Lock()
	defer p.poolMu.Unlock()
	if p.reserved == nil {
		p.reserved = map[string]string{}
	}
	usable := slices.DeleteFunc(list, func(m shares.PresigMeta) bool {
		return m.Epoch != req.Epoch || hex.EncodeToString(m.ConfigDigest) != req.ConfigDigest || m.Path != holder.PresignaturePath ||
			p.reserved[m.ID] != "" || len(want) > 0 && !slices.Equal(m.Signers, want) || !allIn(m.Signers, req.Parties)
	})
	free := map[string]int{} // unreserved presignatures per signer set
	for _, m := range usable {
		free[strings.Join(m.Signers, ",")]++
	}
	perSet := map[string]int{}
	var out []Offer
	for _, m := range usable {
		key := strings.Join(m.Signers, ",")
		if perSet[key] >= min(maxOffers, max(1, free[key]/4)) {
			continue
		}
		perSet[key]++
		p.reserved[m.ID] = id
		out = append(out, Offer{ID: m.ID, Signers: slices.Clone(m.Signers)})
	}
	return out
}

// orphanAfter is how many starts of a signer set may run the full protocol
// although this party offered a presignature of that set before the
// presignature is retired as an orphan.
//
// An orphan is a presignature whose other parts are gone: a signer
// restored its home from a backup (restoring drops presignatures, release
// case 28) or lost it. Its holder offers it first (oldest first), no other
// signer ever offers it back, every sign of the set runs the full protocol,
// and the pool counts it as full so it never refills. A start without a
// presignature while this party offered one of the set means no other
// signer offered that one for this request: most likely an orphan, though
// it may only have been reserved for a concurrent request at another
// signer, hence more than one. Retiring is always safe (a presignature
// retired is never used); a wrongly retired one costs only a new presign.
const orphanAfter = 2

// noteUnmatched counts, for each presignature this party offered of the
// start's signer set, a start that used none, and retires those that
// reached orphanAfter.
func (p *Party) noteUnmatched(id string, req *Request, offers []Offer, start *Start) {
	var orphans []string
	p.poolMu.Lock()
	for _, o := range offers {
		if !slices.Equal(o.Signers, start.Signers) {
			continue
		}
		if start.Presignature != "" {
			delete(p.unmatched, o.ID) // the set signs with presignatures: this one may simply be younger
			continue
		}
		if p.unmatched == nil {
			p.unmatched = map[string]int{}
		}
		if p.unmatched[o.ID]++; p.unmatched[o.ID] >= orphanAfter {
			delete(p.unmatched, o.ID)
			orphans = append(orphans, o.ID)
		}
	}
	p.poolMu.Unlock()
	for _, ps := range orphans {
		p.retire(req.WalletID, ps)
		p.emit(Event{Ceremony: id, Request: req, What: "presignature-retired",
			Detail: fmt.Sprintf("presignature %.16s… retired: no other signer offered it back in %d signs (its other parts are gone, e.g. a signer restored a backup)", ps, orphanAfter)})
	}
	if len(orphans) > 0 {
		p.kickPool()
	}
}

// release frees the presignatures offered for ceremony id.
func (p *Party) release(id string) {
	p.poolMu.Lock()
	defer p.poolMu.Unlock()
	for ps, c := range p.reserved {
		if c == id {
			delete(p.reserved, ps)
		}
	}
}

func allIn(fps []string, parties []identity.Public) bool {
	for _, fp := range fps {
		if _, ok := identity.Find(parties, fp); !ok {
			return false
		}
	}
	return true
}

// offered reports whether the start's presignature is one of offers, made
// by the start's signers.
func offered(offers []Offer, s *Start) bool {
	return slices.ContainsFunc(offers, func(o Offer) bool { return o.ID == s.Presignature && slices.Equal(o.Signers, s.Signers) })
}

// batchGrant is a batch of presign requests the holder approved once.
type batchGrant struct {
	initiator, wallet, signers, configDigest string
	left                                     int
	expires                                  time.Time
}

// autoApproved reports whether this party approves req without asking: a
// presign request it started itself (its pool keeper), or the next request
// of a batch its holder approved.
func (p *Party) autoApproved(req *Request) (bool, string) {
	if req.Kind != ceremony.KindPresign {
		return false, ""
	}
	if req.Initiator.Fingerprint() == p.Home.ID.Fingerprint() {
		return true, "this party's own presignature pool"
	}
	if req.Batch == nil {
		return false, ""
	}
	p.poolMu.Lock()
	defer p.poolMu.Unlock()
	g := p.batches[req.Batch.ID]
	if g == nil || g.left <= 0 || time.Now().After(g.expires) || g.initiator != req.Initiator.Fingerprint() ||
		g.wallet != req.WalletID || g.signers != strings.Join(req.Signers, ",") || g.configDigest != req.ConfigDigest {
		return false, ""
	}
	g.left--
	return true, fmt.Sprintf("batch %s approved by the holder (%d more)", req.Batch.ID, g.left)
}

// grantBatch records that the holder approved req's batch.
func (p *Party) grantBatch(req *Request) {
	if req.Kind != ceremony.KindPresign || req.Batch == nil {
		return
	}
	p.poolMu.Lock()
	defer p.poolMu.Unlock()
	if p.batches == nil {
		p.batches = map[string]*batchGrant{}
	}
	for id, g := range p.batches {
		if time.Now().After(g.expires) {
			delete(p.batches, id)
		}
	}
	p.batches[req.Batch.ID] = &batchGrant{initiator: req.Initiator.Fingerprint(), wallet: req.WalletID,
		signers: strings.Join(req.Signers, ","), configDigest: req.ConfigDigest, left: req.Batch.Size - 1,
		expires: time.Now().Add(24 * time.Hour)}
}

// kickPool asks the pool keeper to look at once (a ceremony ended).
func (p *Party) kickPool() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// batchUse is a batch and how many of its requests the keeper sent.
type batchUse struct {
	Batch
	sent int
}

// poolSet is one wallet and signer set this party keeps presignatures for.
type poolSet struct {
	wallet  string
	signers []string // fingerprints, sorted
	have    int
}

func (s poolSet) key() string { return s.wallet + "/" + strings.Join(s.signers, ",") }

// keepPool refills the presignature pools while ctx lasts, one presign
// ceremony at a time, only while no other ceremony runs at this party.
func (p *Party) keepPool(ctx context.Context) {
	check := p.Pool.Check
	if check <= 0 {
		check = 5 * time.Second
	}
	backoff := map[string]time.Time{}
	batches := map[string]*batchUse{} // the batch each set's requests belong to
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.kick:
		}
		next := check
		for ctx.Err() == nil {
			if wait := p.idleFor(); wait > 0 {
				next = min(check, wait)
				break
			}
			set, ok := p.nextPoolSet(backoff)
			if !ok {
				break
			}
			// A new batch once the holders' approval of the last one is
			// used up: its requests beyond Size would be asked again.
			b := batches[set.key()]
			if b == nil || b.sent >= b.Size {
				b = &batchUse{Batch: Batch{ID: "b" + randomHex(8), Size: p.Pool.Keep - set.have}}
				batches[set.key()] = b
			}
			b.sent++
			if err := p.presign(ctx, set, &b.Batch); err != nil && ctx.Err() == nil {
				wait := 30 * time.Second
				if errors.Is(err, ErrRejected) {
					wait = 10 * time.Minute
					delete(batches, set.key())
				}
				backoff[set.key()] = time.Now().Add(wait)
				p.emit(Event{What: "error", Detail: "presignature pool", Err: fmt.Errorf("presignatures for %s: %w; next try in %s", set.wallet, err, wait)})
			}
		}
		t.Reset(next)
	}
}

// nextPoolSet finds a signer set whose pool is below Keep and not backing
// off.
func (p *Party) nextPoolSet(backoff map[string]time.Time) (poolSet, bool) {
	me := p.Home.ID.Fingerprint()
	entries, err := p.Home.Store.List()
	if err != nil {
		return poolSet{}, false
	}
	for _, e := range entries {
		if e.State != shares.StateActive || e.PartyID != me || e.Scheme != shares.SchemeECDSA {
			continue
		}
		list, err := p.Home.Store.Presignatures(e.WalletID, me)
		if err != nil {
			continue
		}
		have := map[string]int{}
		for _, m := range list {
			have[strings.Join(m.Signers, ",")]++
		}
		for _, signers := range p.keptSets(e.Meta) {
			s := poolSet{wallet: e.WalletID, signers: signers, have: have[strings.Join(signers, ",")]}
			if s.have < p.Pool.Keep && time.Now().After(backoff[s.key()]) {
				return s, true
			}
		}
	}
	return poolSet{}, false
}

// keptSets are the signer sets of wallet m this party keeps a pool for.
func (p *Party) keptSets(m shares.Meta) [][]string {
	me := p.Home.ID.Fingerprint()
	var others []string
	for _, fp := range m.Parties {
		if fp > me && (len(p.Pool.With) == 0 || slices.Contains(p.Pool.With, fp)) {
			others = append(others, fp)
		}
	}
	slices.Sort(others)
	var out [][]string
	var pick func(start int, set []string)
	pick = func(start int, set []string) {
		if len(set) == m.Required {
			out = append(out, slices.Sorted(slices.Values(set)))
			return
		}
		for i := start; i < len(others); i++ {
			pick(i+1, append(slices.Clone(set), others[i]))
		}
	}
	pick(0, []string{me})
	return out
}

// presign runs one presign ceremony for set, as its initiator; the party's
// own Run loop takes part like any other signer.
func (p *Party) presign(ctx context.Context, set poolSet, b *Batch) error {
	w, err := p.Home.Wallet(set.wallet)
	if err != nil {
		return err
	}
	st, err := p.Home.Store.Active(set.wallet, p.Home.ID.Fingerprint())
	if err != nil {
		return err
	}
	st.Wipe()
	m := st.Meta
	req := &Request{Kind: ceremony.KindPresign, Scheme: ceremony.SchemeECDSA, WalletID: w.ID, WalletName: w.Name, Chain: w.Chain,
		Parties: w.Parties, Signers: set.signers, Required: m.Required, Epoch: m.Epoch, ConfigDigest: hex.EncodeToString(m.ConfigDigest),
		Batch: b, Deadline: time.Now().Add(presignDeadline), CreatedAt: time.Now().UTC()}
	p.mu.Lock()
	p.ownPresigns++
	p.mu.Unlock()
	defer func() { p.mu.Lock(); p.ownPresigns--; p.mu.Unlock() }()
	if _, err := Initiate(ctx, p.Relay, p.Home.ID, req, nil); err != nil {
		// This party may have stored its part while another failed: such
		// a presignature could never sign, so it is retired here.
		var fe *FailedError
		if errors.As(err, &fe) {
			p.retire(set.wallet, fe.CeremonyID)
		}
		return err
	}
	return nil
}

// retire marks a presignature this party holds used, so that it is never
// offered: the ceremony that made it failed at another signer.
func (p *Party) retire(wallet, id string) {
	me := p.Home.ID.Fingerprint()
	ps, err := p.Home.Store.OpenPresignature(wallet, me, id)
	if err != nil {
		return
	}
	ps.Wipe()
	if p.Home.Store.MarkPresignatureUsed(wallet, me, id) == nil {
		_ = p.Home.Store.WipePresignature(wallet, me, id)
	}
}

// presignaturesLeft counts this party's unused presignatures of a wallet.
func (p *Party) presignaturesLeft(wallet string) *int {
	list, err := p.Home.Store.Presignatures(wallet, p.Home.ID.Fingerprint())
	if err != nil {
		return nil
	}
	n := len(list)
	return &n
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
