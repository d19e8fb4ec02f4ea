package coord

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// Status is what an initiator knows about its ceremony, reported as it changes.
type Status struct {
	Phase    string   // "approvals", "running", "done"
	Approved []string // names
	Rejected []string
	Waiting  []string // names not yet answered (approvals) or finished (running)
	Finished []string
	// SAS is the request's short authentication string (see SAS): the
	// holders' approval screens show the same one.
	SAS string
}

// Report is a ceremony's result as seen by its initiator.
type Report struct {
	CeremonyID string
	Request    *Request
	Signers    []identity.Public
	// Outcomes of every signer, by fingerprint.
	Outcomes map[string]*Outcome
	Elapsed  time.Duration
}

// RejectedError means a party rejected the request.
type RejectedError struct {
	By     string
	Reason string
}

func (e *RejectedError) Error() string {
	if e.Reason == "" {
		return "rejected by " + e.By
	}
	return fmt.Sprintf("rejected by %s: %s", e.By, e.Reason)
}

// ErrRejected matches a RejectedError with errors.Is.
var ErrRejected = errors.New("rejected")

func (e *RejectedError) Is(target error) bool { return target == ErrRejected }

// FailedError means the ceremony failed at one or more parties.
type FailedError struct {
	CeremonyID string
	Kind       ceremony.Kind
	// Failures by party name, in the parties' own words.
	Failures map[string]*Outcome
	// Missing names the parties that never reported, at the deadline.
	Missing []string
	names   func(string) string
	timeout bool
}

func (e *FailedError) Error() string {
	var parts []string
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range e.Failures {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		o := e.Failures[n]
		msg := o.Error
		if len(o.Waiting) > 0 {
			msg += " (waiting for " + strings.Join(mapNames(o.Waiting, e.names), ", ") + ")"
		}
		if len(o.Culprits) > 0 {
			msg += " (culprit: " + strings.Join(mapNames(o.Culprits, e.names), ", ") + ")"
		}
		if o.Pending && !strings.Contains(msg, "kept pending") {
			// The party's own error (holder.PendingError) may say so already.
			if e.Kind == ceremony.KindKeygen {
				msg += "; its new share is kept pending until the confirmations on the relay settle it (paratro share list shows the outcome)"
			} else {
				msg += "; its new share is kept pending, the previous one stays active"
			}
		}
		parts = append(parts, n+": "+msg)
	}
	if len(e.Missing) > 0 {
		parts = append(parts, "no report from "+strings.Join(e.Missing, ", "))
	}
	return fmt.Sprintf("%s failed: %s", e.Kind, strings.Join(parts, "; "))
}

// Is lets errors.Is(err, ceremony.ErrTimeout) find a ceremony that failed on
// its deadline, and errors.Is(err, ceremony.ErrMisbehaviour) one that a
// participant aborted because another sent something invalid or
// conflicting (its outcome names culprits).
func (e *FailedError) Is(target error) bool {
	switch target {
	case ceremony.ErrTimeout:
		return e.timeout
	case ceremony.ErrMisbehaviour:
		for _, o := range e.Failures {
			if o.Code == string(ceremony.CodeMisbehaviour) || len(o.Culprits) > 0 {
				return true
			}
		}
	}
	return false
}

// Blamed are the parties this failure points at: those the others waited
// for or accused, and those that never reported.
func (e *FailedError) Blamed() []string {
	var out []string
	add := func(n string) {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, o := range e.Failures {
		// Not ReportedBy: the party that reported an abort is often the
		// honest one (it refused a changed message, or saw a peer vanish).
		for _, w := range append(slices.Clone(o.Waiting), o.Culprits...) {
			if w != "" {
				add(e.names(w))
			}
		}
	}
	for _, n := range e.Missing {
		add(n)
	}
	return out
}

func mapNames(fps []string, names func(string) string) []string {
	out := make([]string, len(fps))
	for i, fp := range fps {
		out[i] = names(fp)
	}
	return out
}

// Initiate posts req to the relay, waits for the approvals, starts the
// ceremony and waits for every participant's outcome. It returns the report
// when every participant succeeded, a *RejectedError when a needed party
// rejected, and a *FailedError naming the parties otherwise.
func Initiate(ctx context.Context, r Relay, self *identity.Identity, req *Request, progress func(Status)) (_ *Report, retErr error) {
	started := time.Now()
	req.Initiator = self.Public
	id, raw, err := postRequest(ctx, r, self, req)
	if err != nil {
		return nil, err
	}
	// Give the parties until the deadline, and a moment more to report:
	// at the deadline each party's engine gives up and reports at once.
	ctx, cancel := context.WithDeadline(ctx, req.Deadline.Add(reportGrace))
	defer cancel()
	var failWait context.Context // set once a participant reported a failure

	w := newWatch(req, id, raw, progress)
	defer func() {
		if retErr != nil && w.start == nil {
			withdraw(r, self, id, w.reqHash, retErr)
		}
	}()
	w.report()
	var after uint64
	for {
		pctx := ctx
		if failWait != nil {
			pctx = failWait
		}
		msgs, err := r.Messages(pctx, id, after, pollWait)
		if err != nil {
			if failWait != nil && failWait.Err() != nil && ctx.Err() == nil {
				return w.finish(started) // the others had their chance to report
			}
			if ctx.Err() != nil {
				return nil, w.deadline(ctx)
			}
			return nil, err
		}
		for _, m := range msgs {
			after = max(after, m.Seq)
			if err := w.message(m); err != nil {
				return nil, err
			}
		}
		if w.start == nil && !w.expired() {
			signers, err := w.ready()
			if err != nil {
				return nil, err
			}
			if signers != nil {
				w.start = &Start{Request: w.reqHash, Signers: signers, Presignature: w.presignature(signers)}
				sraw, err := signStatement(self, TypeStart, id, w.start)
				if err != nil {
					return nil, err
				}
				if _, err := r.Post(ctx, id, kindControl, sraw); err != nil {
					return nil, fmt.Errorf("start the ceremony: %w", err)
				}
				w.report()
			}
		}
		if w.start != nil && len(w.outcomes) == len(w.start.Signers) {
			return w.finish(started)
		}
		if failWait == nil && w.failed() {
			// The ceremony has failed; give the other participants a moment
			// to say how it ended for them, but do not wait for the dead.
			var stop context.CancelFunc
			failWait, stop = context.WithTimeout(ctx, failureGrace)
			defer stop()
		}
	}
}

// withdraw tells the parties that a request will not start, so that they
// stop asking their holders and stop waiting. Best effort: the deadline
// ends the request anyway.
func withdraw(r Relay, self *identity.Identity, id, reqHash string, why error) {
	reason := "the initiator gave up"
	var rej *RejectedError
	if errors.As(why, &rej) {
		reason = "rejected by " + rej.By
	}
	raw, err := signStatement(self, TypeWithdraw, id, Withdraw{Request: reqHash, Reason: reason})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, _ = r.Post(ctx, id, kindControl, raw)
}

// reportGrace is how long after the deadline the initiator waits for
// outcomes; failureGrace how long it waits for the others' outcomes once
// one participant reported a failure.
const (
	reportGrace  = 2 * time.Second
	failureGrace = 3 * time.Second
)

// failed reports whether a participant reported a failure.
func (w *watch) failed() bool {
	for _, o := range w.outcomes {
		if !o.OK {
			return true
		}
	}
	return false
}

// watch is the initiator's view of its ceremony.
type watch struct {
	req      *Request
	id       string
	reqHash  string
	order    []string // approvers, in the order the relay saw them
	approved map[string]bool
	rejected map[string]string
	start    *Start
	offers   map[string][]Offer // presignatures each approver offered
	outcomes map[string]*Outcome
	progress func(Status)
	now      func() time.Time // the initiator's clock
}

// newWatch is the initiator's view of ceremony id, which raw (the signed
// statement of req) asks for.
func newWatch(req *Request, id string, raw []byte, progress func(Status)) *watch {
	return &watch{req: req, id: id, reqHash: hashStatement(raw), approved: map[string]bool{}, rejected: map[string]string{},
		offers: map[string][]Offer{}, outcomes: map[string]*Outcome{}, progress: progress, now: time.Now}
}

// message takes one message of the ceremony's mailbox: a control statement
// that verifies as signed by a member, for this ceremony, and was posted by
// its signer. Anything else (protocol envelopes, forgeries, statements of
// other ceremonies) is ignored.
func (w *watch) message(m relay.Message) error {
	if m.Kind != kindControl {
		return nil
	}
	st, err := parseStatement(m.Data, w.id, w.req.member)
	if err != nil || st.Signer != m.From {
		return nil // not from a member, or forged: ignore it
	}
	return w.take(st)
}

// expired reports whether the request's deadline has passed: approvals no
// longer count and the ceremony is not started (the parties give up on it
// at the deadline).
func (w *watch) expired() bool { return w.now().After(w.req.Deadline) }

// take counts a verified statement. An approval counts only if it answers
// this very request (the hash of its signed statement, which binds the
// ceremony ID, wallet, epoch, digest, derivation index and deadline) and
// arrives before the deadline; a party's first answer is its answer.
func (w *watch) take(st *Statement) error {
	switch st.Type {
	case TypeApproval:
		var a Approval
		if err := st.decode(&a); err != nil || a.Request != w.reqHash || w.expired() {
			return nil
		}
		if _, seen := w.approved[st.Signer]; seen {
			return nil
		}
		if _, seen := w.rejected[st.Signer]; seen {
			return nil
		}
		if a.Approve {
			w.approved[st.Signer] = true
			w.order = append(w.order, st.Signer)
			w.offers[st.Signer] = a.Presignatures
		} else {
			w.rejected[st.Signer] = ceremony.Sanitize(a.Reason)
		}
		w.report()
	case TypeOutcome:
		if w.start == nil || !slices.Contains(w.start.Signers, st.Signer) {
			return nil
		}
		var o Outcome
		if err := st.decode(&o); err != nil {
			return nil
		}
		o.Error = w.req.humanize(sanitizeLong(o.Error))
		if _, seen := w.outcomes[st.Signer]; !seen {
			w.outcomes[st.Signer] = &o
			w.report()
		}
	}
	return nil
}

// maxOutcomeText caps a party's error text: long enough for the decisive
// cause at the end of a wrapped error, short enough for a terminal.
const maxOutcomeText = 1000

// sanitizeLong strips control characters from peer-supplied text and caps
// its length (SECURITY.md B4: peer text never reaches a terminal raw).
func sanitizeLong(s string) string { return ceremony.SanitizeN(s, maxOutcomeText) }

// humanize writes the parties' names beside their fingerprints in text.
func (r *Request) humanize(text string) string {
	for _, p := range append([]identity.Public{r.Initiator}, r.Parties...) {
		fp := p.Fingerprint()
		if strings.Contains(text, fp) && !strings.Contains(text, p.Name+" ("+fp) {
			text = strings.ReplaceAll(text, fp, p.Name+" ("+fp+")")
		}
	}
	return text
}

// ready returns the signers once enough parties approved, or an error once
// too many rejected.
func (w *watch) ready() ([]string, error) {
	needed := w.req.participants()
	if w.req.fixedSigners() {
		needed = slices.Sorted(slices.Values(w.req.Signers))
	}
	all := w.req.Kind != ceremony.KindSign || len(w.req.Signers) > 0
	for _, fp := range needed {
		if reason, ok := w.rejected[fp]; ok && all {
			return nil, &RejectedError{By: w.req.name(fp), Reason: reason}
		}
	}
	if all {
		for _, fp := range needed {
			if !w.approved[fp] {
				return nil, nil
			}
		}
		return needed, nil
	}
	if len(w.req.Parties)-len(w.rejected) < w.req.Required {
		var by, reasons []string
		for fp, reason := range w.rejected {
			by = append(by, w.req.name(fp))
			reasons = append(reasons, w.req.name(fp)+": "+reason)
		}
		slices.Sort(by)
		slices.Sort(reasons)
		return nil, &RejectedError{By: strings.Join(by, ", "), Reason: strings.Join(reasons, "; ")}
	}
	if len(w.order) < w.req.Required {
		return nil, nil
	}
	return slices.Sorted(slices.Values(w.order[:w.req.Required])), nil
}

func (w *watch) report() {
	if w.progress == nil {
		return
	}
	s := Status{Phase: "approvals", SAS: SAS(w.id, w.reqHash)}
	for _, p := range w.req.Parties {
		fp := p.Fingerprint()
		switch {
		case w.approved[fp]:
			s.Approved = append(s.Approved, p.Name)
		case hasKey(w.rejected, fp):
			s.Rejected = append(s.Rejected, p.Name)
		case w.start == nil:
			s.Waiting = append(s.Waiting, p.Name)
		}
	}
	if w.start != nil {
		s.Phase, s.Waiting = "running", nil
		for _, fp := range w.start.Signers {
			if _, ok := w.outcomes[fp]; ok {
				s.Finished = append(s.Finished, w.req.name(fp))
			} else {
				s.Waiting = append(s.Waiting, w.req.name(fp))
			}
		}
		if len(s.Waiting) == 0 {
			s.Phase = "done"
		}
	}
	w.progress(s)
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// finish checks that every participant succeeded with the same result.
func (w *watch) finish(started time.Time) (*Report, error) {
	fail := &FailedError{CeremonyID: w.id, Kind: w.req.Kind, Failures: map[string]*Outcome{}, names: w.req.name}
	for fp, o := range w.outcomes {
		if !o.OK {
			fail.Failures[w.req.name(fp)] = o
			if o.Code == string(ceremony.CodeTimeout) {
				fail.timeout = true
			}
		}
	}
	if len(fail.Failures) > 0 {
		for _, fp := range w.start.Signers {
			if _, ok := w.outcomes[fp]; !ok {
				fail.Missing = append(fail.Missing, w.req.name(fp))
			}
		}
		return nil, fail
	}
	var first *Outcome
	for _, fp := range w.start.Signers {
		o := w.outcomes[fp]
		if first == nil {
			first = o
			continue
		}
		if o.PublicKey != first.PublicKey || o.Signature != first.Signature || o.ConfigDigest != first.ConfigDigest || o.Epoch != first.Epoch {
			return nil, fmt.Errorf("%s: the parties report different results; do not use this wallet until it is checked", w.req.Kind)
		}
	}
	rep := &Report{CeremonyID: w.id, Request: w.req, Outcomes: w.outcomes, Elapsed: time.Since(started)}
	for _, fp := range w.start.Signers {
		p, _ := w.req.member(fp)
		rep.Signers = append(rep.Signers, p)
	}
	return rep, nil
}

// deadline explains a ceremony that ran out of time at the initiator.
func (w *watch) deadline(ctx context.Context) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ctx.Err()
	}
	fail := &FailedError{CeremonyID: w.id, Kind: w.req.Kind, Failures: map[string]*Outcome{}, names: w.req.name, timeout: true}
	if w.start == nil {
		for _, p := range w.req.Parties {
			if !w.approved[p.Fingerprint()] && !hasKey(w.rejected, p.Fingerprint()) {
				fail.Missing = append(fail.Missing, p.Name)
			}
		}
		return fmt.Errorf("%w: no answer from %s before the deadline", ceremony.ErrTimeout, strings.Join(fail.Missing, ", "))
	}
	for _, fp := range w.start.Signers {
		if o, ok := w.outcomes[fp]; !ok {
			fail.Missing = append(fail.Missing, w.req.name(fp))
		} else if !o.OK {
			fail.Failures[w.req.name(fp)] = o
		}
	}
	return fail
}

// PublicKey decodes the report's public key.
func (r *Report) PublicKey() []byte {
	b, _ := hex.DecodeString(r.Result().PublicKey) // checked hex when the outcomes were compared
	return b
}

// Result is any one participant's outcome (they all agree).
func (r *Report) Result() *Outcome {
	for _, s := range r.Signers {
		return r.Outcomes[s.Fingerprint()]
	}
	return nil
}

// postRequest validates req, signs it as a new ceremony's request and
// creates that ceremony on the relay, among the request's parties and the
// initiator. It returns the ceremony's ID and the signed statement.
func postRequest(ctx context.Context, r Relay, self *identity.Identity, req *Request) (string, []byte, error) {
	if err := req.Validate(); err != nil {
		return "", nil, err
	}
	id := ceremony.NewID().String()
	raw, err := signStatement(self, TypeRequest, id, req)
	if err != nil {
		return "", nil, err
	}
	members := slices.Clone(req.Parties)
	if req.Kind == ceremony.KindPresign {
		// Only the signers take part: the other parties are not asked.
		members = slices.DeleteFunc(members, func(p identity.Public) bool { return !slices.Contains(req.Signers, p.Fingerprint()) })
	}
	if _, ok := identity.Find(members, self.Fingerprint()); !ok {
		members = append(members, self.Public)
	}
	if err := r.CreateCeremony(ctx, relay.CreateCeremony{ID: id, Members: members, Request: raw, Deadline: req.Deadline}); err != nil {
		return "", nil, fmt.Errorf("post the request to the relay: %w", err)
	}
	return id, raw, nil
}

// presignature picks, for a sign among signers (sorted), a presignature
// every one of them offered in its approval, made by exactly these
// signers; the first signer's oldest such offer. Empty when there is none
// or the request cannot use one: the full protocol runs.
func (w *watch) presignature(signers []string) string {
	if !w.req.usesPresignatures() {
		return ""
	}
	for _, o := range w.offers[signers[0]] {
		if !slices.Equal(o.Signers, signers) {
			continue
		}
		all := true
		for _, s := range signers[1:] {
			all = all && slices.ContainsFunc(w.offers[s], func(x Offer) bool { return x.ID == o.ID && slices.Equal(x.Signers, signers) })
		}
		if all {
			return o.ID
		}
	}
	return ""
}
