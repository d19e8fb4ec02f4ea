package coord

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares"
)

// keygenThenStop creates a 2-of-3 wallet with the rig's parties, records
// it in every home (as a party does after keygen), and stops the parties.
func keygenThenStop(t *testing.T, r *rig) string {
	t.Helper()
	for i := range r.homes {
		r.start(i, approveAll)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	wallet := holder.NewWalletID()
	if _, err := r.initiate(ctx, 0, &Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: wallet,
		WalletName: "doomed", Chain: "bitcoin", Parties: r.parties(), Required: 2, Deadline: time.Now().Add(30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.cancels {
		c()
	}
	r.wg.Wait()
	r.cancels = nil
	return wallet
}

// startEraser runs party i as start does, with a relay that reports
// status for every wallet.
func (r *rig) startEraser(i int, decide Decider, status string) {
	r.startParty(i, decide, func(p *Party) {
		p.WalletStatus = func(context.Context, string) (string, error) { return status, nil }
	})
}

func destroyRequest(r *rig, wallet string) *Request {
	return &Request{Kind: KindDestroy, Scheme: ceremony.SchemeSchnorr, WalletID: wallet, Parties: r.parties(), Required: 2,
		Deadline: time.Now().Add(20 * time.Second)}
}

// Every party that approves a destroy request erases its share, its
// wallet record and journal, audits it, and says so; the initiator hears
// from all of them.
func TestDestroyErasesEveryParty(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	wallet := keygenThenStop(t, r)
	for i := range r.homes {
		if err := r.homes[i].SaveWallet(&home.Wallet{ID: wallet, Name: "doomed"}); err != nil {
			t.Fatal(err)
		}
		r.startEraser(i, approveAll, StatusDestroyed)
	}
	var seen []int
	e, err := InitiateDestroy(t.Context(), r.client(r.homes[0]), r.homes[0].ID, destroyRequest(r, wallet), func(e *Erasure) {
		seen = append(seen, len(e.Waiting))
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(e.Erased, ",") != "ana,ben,vault" || !e.Done() || len(e.Failed)+len(e.Rejected) != 0 {
		t.Fatalf("erasure: %+v", e)
	}
	if len(seen) < 2 || seen[0] != 3 || seen[len(seen)-1] != 0 {
		t.Errorf("progress saw waiting counts %v, want 3 first and 0 last", seen)
	}
	for i, h := range r.homes {
		if _, err := h.Store.Active(wallet, h.ID.Fingerprint()); !errors.Is(err, shares.ErrNotFound) {
			t.Errorf("%s's share after the erasure: %v, want ErrNotFound", h.ID.Name, err)
		}
		if _, err := h.Wallet(wallet); !errors.Is(err, home.ErrNoWallet) {
			t.Errorf("%s's wallet record after the erasure: %v, want ErrNoWallet", h.ID.Name, err)
		}
		found := false
		for _, a := range r.auditOf(i, 1) {
			found = found || a.Event == audit.EventShareErased && a.Wallet == wallet && a.Outcome == "ok"
		}
		if !found {
			t.Errorf("%s's audit log has no %s entry", h.ID.Name, audit.EventShareErased)
		}
	}
}

// A party erases nothing when the relay does not say the wallet is
// destroyed, and a party that rejects keeps its share; the others still
// erase, and the initiator reports each answer.
func TestDestroyCheckedAndRejected(t *testing.T) {
	r := newRig(t, "ana", "ben", "vault")
	wallet := keygenThenStop(t, r)
	reject := func(context.Context, *Proposal) (Decision, error) {
		return Decision{Approve: false, Reason: "no rule allows it"}, nil
	}
	r.startEraser(0, approveAll, StatusDestroyed)
	r.startEraser(1, approveAll, "active")
	r.startEraser(2, reject, StatusDestroyed)
	e, err := InitiateDestroy(t.Context(), r.client(r.homes[0]), r.homes[0].ID, destroyRequest(r, wallet), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(e.Erased, ",") != "ana" || !strings.Contains(e.Failed["ben"], "the relay says wallet "+wallet+" is active, not destroyed") ||
		e.Rejected["vault"] != "no rule allows it" {
		t.Fatalf("erasure: %+v", e)
	}
	if !strings.Contains(e.String(), "erased: ana; ben failed: nothing erased") {
		t.Errorf("String() = %q", e.String())
	}
	for _, i := range []int{1, 2} {
		if ep, _ := r.share(i, wallet); ep != 1 {
			t.Errorf("%s's share: epoch %d", r.homes[i].ID.Name, ep)
		}
	}
}

// A destroy request needs no start, and nobody answering ends at the
// deadline with everyone waiting.
func TestDestroyDeadline(t *testing.T) {
	r := newRig(t, "ana", "ben")
	req := destroyRequest(r, holder.NewWalletID())
	req.Deadline = time.Now().Add(time.Second)
	e, err := InitiateDestroy(t.Context(), r.client(r.homes[0]), r.homes[0].ID, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(e.Waiting, ",") != "ana,ben" || len(e.Erased) != 0 {
		t.Fatalf("erasure at the deadline: %+v", e)
	}
	var ae *relay.APIError
	req.Kind = ceremony.KindSign
	if _, err := InitiateDestroy(t.Context(), r.client(r.homes[0]), r.homes[0].ID, req, nil); err == nil || errors.As(err, &ae) && ae.Status == http.StatusOK {
		t.Fatalf("InitiateDestroy of a sign request: %v", err)
	}
}
