package control

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares"
)

// waitErasure polls a destroyed wallet until its erasure is no longer
// running.
func (r *rig) waitErasure(id string) map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		w := r.call("GET", "/v1/wallets/"+id, "viv", "").ok(r.t, http.StatusOK)
		if er := obj(w, "erasure"); er != nil && str(er, "status") != ErasureRunning {
			return w
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("wallet %s's erasure still running after a minute: %v", id, w)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// When the second owner destroys a wallet, the relay asks every party to
// erase its share; each one does, the wallet records who erased, and the
// audit log shows the request, each erasure, the cancelled pending backup
// export and the released one flagged for destruction.
func TestDestroyErasesTheShares(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{plane: Options{BackupDelay: time.Hour}})
	if _, err := r.clients["ana"].AddOperator(t.Context(), "vault", relay.RoleOwner); err != nil {
		t.Fatal(err)
	}
	r.enroll("vault")
	id := str(r.create(frost("doomed")), "id")
	released := str(r.call("POST", "/v1/wallets/"+id+"/backup-exports", "ana", "", "Paratro-OTP", r.otp("ana")).ok(t, http.StatusAccepted), "id")
	r.clock.advance(time.Hour + time.Minute)
	for str(r.call("GET", "/v1/backup-exports/"+released, "ana", "").ok(t, http.StatusOK), "status") != BackupReady {
		time.Sleep(20 * time.Millisecond)
	}
	pending := str(r.call("POST", "/v1/wallets/"+id+"/backup-exports", "ana", `{"party":"vault"}`, "Paratro-OTP", r.otp("ana")).ok(t, http.StatusAccepted), "id")

	path := "/v1/wallets/" + id + "/destroy"
	r.call("POST", path, "ana", "", "Paratro-OTP", r.otp("ana")).ok(t, http.StatusAccepted)
	done := r.call("POST", path, "vault", "", "Paratro-OTP", r.otp("vault")).ok(t, http.StatusOK)
	if er := obj(done, "erasure"); er == nil || len(er["parties"].([]any)) != 3 {
		t.Fatalf("the destroying answer has no erasure of 3 parties: %v", done)
	}
	w := r.waitErasure(id)
	er := obj(w, "erasure")
	if str(er, "status") != ErasureDone || str(er, "ceremony_id") == "" || er["finished_at"] == nil {
		t.Fatalf("erasure: %v", er)
	}
	for _, q := range er["parties"].([]any) {
		if q := q.(map[string]any); str(q, "status") != PartyErased || q["at"] == nil {
			t.Errorf("party %s: %v", str(q, "name"), q)
		}
	}
	for _, n := range holders {
		h := r.homes[n]
		if _, err := h.Store.Active(id, h.ID.Fingerprint()); !errors.Is(err, shares.ErrNotFound) {
			t.Errorf("%s's share after the erasure: %v, want ErrNotFound", n, err)
		}
	}

	count := map[string]int{}
	for _, prefix := range []string{"wallet.erase", "wallet.party-erased", "backup."} {
		for _, e := range r.auditEvents(prefix) {
			if e.Event == audit.EventBackupFlagged && !strings.HasPrefix(e.Detail, released) ||
				e.Event == audit.EventBackupCancelled && !strings.HasPrefix(e.Detail, pending) {
				t.Errorf("%s names the wrong export: %s", e.Event, e.Detail)
			}
			count[e.Event+" "+e.Outcome]++
		}
	}
	if count[audit.EventEraseRequested+" accepted"] != 1 || count[audit.EventPartyErased+" "+PartyErased] != 3 ||
		count[audit.EventBackupFlagged+" flagged"] != 1 || count[audit.EventBackupCancelled+" cancelled"] != 1 {
		t.Fatalf("audit: %v", count)
	}
}

// Only the relay asks parties to erase, and only for a destroyed wallet:
// an operator's own destroy request is refused.
func TestDestroyRequestOnlyFromTheRelay(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	id := str(r.create(frost("kept")), "id")
	for _, wallet := range []string{id, "wal_aaaaaaaaaaaaaaaa"} {
		req := &coord.Request{Kind: coord.KindDestroy, Scheme: ceremony.SchemeSchnorr, WalletID: wallet, Parties: r.walletParties(),
			Required: 2, Deadline: r.clock.now().Add(time.Minute)}
		_, err := coord.InitiateDestroy(t.Context(), r.clients["ana"], r.homes["ana"].ID, req, nil)
		var ae *relay.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || !strings.Contains(ae.Message, "only the relay") {
			t.Fatalf("ana's destroy request for %s: %v", wallet, err)
		}
	}
	if w := r.call("GET", "/v1/wallets/"+id, "viv", "").ok(t, http.StatusOK); str(w, "status") != StatusActive || w["erasure"] != nil {
		t.Fatalf("wallet after the refused requests: %v", w)
	}
}
