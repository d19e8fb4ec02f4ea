package control

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paratro/paratro/internal/relay"
)

// Ceremonies nobody runs any more (the relay restarted while they ran)
// are marked failed once their deadline has passed; a rotation leaves the
// wallet active on its epoch.
func TestAbandonedCeremoniesFailAfterTheirDeadline(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	active := r.create(frost("kept"))
	now := r.clock.now().UTC()
	past := now.Add(-time.Hour)
	creating := Wallet{ID: "wal_abandoned0000000", Name: "abandoned", Chain: "bitcoin", Type: "mpc", Scheme: "schnorr",
		Status: StatusCreating, Source: SourceAPI, CreatedAt: past, UpdatedAt: past, Deadline: past.Add(10 * time.Minute)}
	sig := Signature{ID: "sig_abandoned0000000", Wallet: str(active, "id"), Status: SigPending, Digest: digestHex(5), CreatedAt: past, Deadline: past}
	err := r.plane.st.Update(func(tx *bolt.Tx) error {
		var w Wallet
		if err := get(tx, bucketWallets, str(active, "id"), &w); err != nil {
			return err
		}
		w.Status, w.Rotation = StatusRotating, &Rotation{ID: "rot_abandoned0000000", Status: RotationRunning, FromEpoch: 1, StartedAt: past, Deadline: past}
		return joinErr(put(tx, bucketWallets, w.ID, &w), put(tx, bucketWallets, creating.ID, &creating), put(tx, bucketSignatures, sig.ID, &sig))
	})
	if err != nil {
		t.Fatal(err)
	}
	r.plane.settleStale()
	failed := r.call("GET", "/v1/wallets/"+creating.ID, "viv", "").ok(t, http.StatusOK)
	if str(failed, "status") != StatusFailed || !strings.Contains(str(failed, "error"), "deadline") {
		t.Fatalf("abandoned DKG: %v", failed)
	}
	kept := r.call("GET", "/v1/wallets/"+str(active, "id"), "viv", "").ok(t, http.StatusOK)
	if str(kept, "status") != StatusActive || kept["epoch"] != 1.0 || str(obj(kept, "rotation"), "status") != RotationFailed {
		t.Fatalf("abandoned rotation: %v", kept)
	}
	s := r.call("GET", "/v1/wallets/"+str(active, "id")+"/signatures/"+sig.ID, "viv", "").ok(t, http.StatusOK)
	if str(s, "status") != SigFailed || !strings.Contains(str(s, "reason"), "deadline") {
		t.Fatalf("abandoned signature: %v", s)
	}
}

// A relay without an identity of its own cannot start ceremonies.
func TestAttachNeedsTheRelayIdentity(t *testing.T) {
	t.Parallel()
	st, err := relay.OpenStore(filepath.Join(t.TempDir(), "relay"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := Attach(relay.NewServer(st, relay.Config{}), st, Options{}); err == nil || !strings.Contains(err.Error(), "identity") {
		t.Fatalf("Attach: %v", err)
	}
}

func joinErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
