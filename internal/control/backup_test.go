package control

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/relay"
)

// A backup export waits BackupDelay, during which the other owners are
// notified and any of them can cancel it; then it is released.
func TestBackupExportDelayAndCancel(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{plane: Options{BackupDelay: 2 * time.Hour}})
	if _, err := r.clients["ana"].AddOperator(t.Context(), "vault", relay.RoleOwner); err != nil {
		t.Fatal(err)
	}
	id := str(r.create(frost("safe")), "id")
	path := "/v1/wallets/" + id + "/backup-exports"

	r.call("POST", path, "ana", "").refused(t, http.StatusUnauthorized, "mfa_required")
	r.call("POST", path, "ana", `{"party":"viv"}`, "Paratro-OTP", r.otp("ana")).refused(t, http.StatusBadRequest, "not_a_party", "ana, ben, vault")
	code := r.otp("ana")
	bex := r.call("POST", path, "ana", "", "Paratro-OTP", code).ok(t, http.StatusAccepted)
	bid := str(bex, "id")
	available, _ := time.Parse(time.RFC3339, str(bex, "available_at"))
	if !strings.HasPrefix(bid, "bex_") || str(bex, "status") != BackupPending || str(obj(bex, "party"), "name") != "ana" ||
		available.Sub(r.clock.now()).Round(time.Minute) != 2*time.Hour {
		t.Fatalf("export: %v", bex)
	}
	notes := r.call("GET", "/v1/notifications", "vault", "").ok(t, http.StatusOK)["notifications"].([]any)
	if len(notes) != 1 || str(notes[0].(map[string]any), "subject") != bid || !strings.Contains(str(notes[0].(map[string]any), "message"), "DELETE /v1/backup-exports/"+bid) {
		t.Fatalf("vault's notifications: %v", notes)
	}
	if mine := r.call("GET", "/v1/notifications", "ana", "").ok(t, http.StatusOK)["notifications"].([]any); len(mine) != 0 {
		t.Fatalf("ana was told of her own request: %v", mine)
	}
	r.clock.advance(time.Hour)
	if got := r.call("GET", "/v1/backup-exports/"+bid, "vault", "").ok(t, http.StatusOK); str(got, "status") != BackupPending {
		t.Fatalf("an hour later: %v", got)
	}
	r.clock.advance(time.Hour)
	if got := r.call("GET", "/v1/backup-exports/"+bid, "vault", "").ok(t, http.StatusOK); str(got, "status") != BackupReady {
		t.Fatalf("two hours later: %v", got)
	}
	r.call("DELETE", "/v1/backup-exports/"+bid, "vault", "").refused(t, http.StatusConflict, "already_released", "rotate the wallet's keys")

	// A second export, for vault's share, cancelled by vault during the delay.
	other := r.call("POST", path, "ana", `{"party":"vault"}`, "Paratro-OTP", r.otp("ana")).ok(t, http.StatusAccepted)
	cancelled := r.call("DELETE", "/v1/backup-exports/"+str(other, "id"), "vault", "").ok(t, http.StatusOK)
	if str(cancelled, "status") != BackupCancelled || !strings.HasPrefix(str(cancelled, "cancelled_by"), "vault (") {
		t.Fatalf("cancelled: %v", cancelled)
	}
	r.clock.advance(3 * time.Hour)
	list := r.call("GET", "/v1/backup-exports", "ana", "").ok(t, http.StatusOK)["backup_exports"].([]any)
	if len(list) != 2 || str(list[0].(map[string]any), "status") != BackupCancelled || str(list[1].(map[string]any), "status") != BackupReady {
		t.Fatalf("exports: %v", list)
	}
	r.call("DELETE", "/v1/backup-exports/"+str(other, "id"), "ana", "").refused(t, http.StatusConflict, "already_cancelled")
	r.call("GET", "/v1/backup-exports/bex_nope", "ana", "").refused(t, http.StatusNotFound, "not_found")
	if mine := r.call("GET", "/v1/notifications", "ana", "").ok(t, http.StatusOK)["notifications"].([]any); len(mine) != 2 ||
		str(mine[0].(map[string]any), "kind") != audit.EventBackupCancelled || str(mine[1].(map[string]any), "kind") != audit.EventBackupReleased {
		t.Fatalf("ana's notifications, newest first: %v", mine)
	}
	events := map[string]int{}
	for _, e := range r.auditEvents("backup.") {
		if e.Outcome != "refused" {
			events[e.Event]++
		}
	}
	if events[audit.EventBackupRequested] != 2 || events[audit.EventBackupReleased] != 1 || events[audit.EventBackupCancelled] != 1 {
		t.Fatalf("audit: %v", events)
	}
}

// A released export is completed once, by its requester, after the file
// is written: it is then used up, and can be neither completed again nor
// cancelled.
func TestBackupExportCompletesOnceByItsRequester(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{plane: Options{BackupDelay: time.Hour}})
	if _, err := r.clients["ana"].AddOperator(t.Context(), "vault", relay.RoleOwner); err != nil {
		t.Fatal(err)
	}
	id := str(r.create(frost("safe")), "id")
	bid := str(r.call("POST", "/v1/wallets/"+id+"/backup-exports", "ana", "", "Paratro-OTP", r.otp("ana")).ok(t, http.StatusAccepted), "id")
	complete := "/v1/backup-exports/" + bid + "/complete"

	r.call("POST", complete, "ana", "").refused(t, http.StatusConflict, "not_ready", "pending")
	r.clock.advance(time.Hour)
	r.call("POST", complete, "vault", "").refused(t, http.StatusForbidden, "forbidden", "only they may complete it")
	done := r.call("POST", complete, "ana", "").ok(t, http.StatusOK)
	if str(done, "status") != BackupExported || str(done, "exported_at") == "" {
		t.Fatalf("completed: %v", done)
	}
	r.call("POST", complete, "ana", "").refused(t, http.StatusConflict, "not_ready", "exported")
	r.call("DELETE", "/v1/backup-exports/"+bid, "vault", "").refused(t, http.StatusConflict, "already_exported", "rotate the wallet's keys")
	r.call("POST", "/v1/backup-exports/bex_nope/complete", "ana", "").refused(t, http.StatusNotFound, "not_found")
	if got := r.call("GET", "/v1/backup-exports/"+bid, "vault", "").ok(t, http.StatusOK); str(got, "status") != BackupExported {
		t.Fatalf("after completing: %v", got)
	}
	var ok, refused int
	for _, e := range r.auditEvents(audit.EventBackupExported) {
		switch e.Outcome {
		case "ok":
			ok++
		case "refused":
			refused++
		}
	}
	if ok != 1 || refused != 3 {
		t.Fatalf("audit: %d ok, %d refused; want 1 and 3", ok, refused)
	}
}
