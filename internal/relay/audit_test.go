package relay

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paratro/paratro/internal/audit"
)

func TestSecurityEventsGoToTheAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	log, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	r := startRelay(t, Config{Audit: log})
	ps := r.register(t, "alice", "bob", "mallory")
	alice, bob, mallory := ps[0], ps[1], ps[2]
	cid := openCeremony(t, alice, bob)
	_, err = mallory.c.Ceremony(ctx(t), cid)
	apiErr(t, err, http.StatusForbidden, "forbidden")
	if _, err := alice.c.Post(ctx(t), cid, KindEnvelope, seal(t, alice, cid, 2, nil, []party{bob}, "A")); err != nil {
		t.Fatal(err)
	}
	_, err = alice.c.Post(ctx(t), cid, KindEnvelope, seal(t, alice, cid, 2, nil, []party{bob}, "B"))
	apiErr(t, err, http.StatusConflict, "equivocation")

	if n, err := audit.Verify(path); err != nil || n != 6 {
		t.Fatalf("Verify = %d, %v; want 6 entries", n, err)
	}
	es, _ := audit.ReadAll(path)
	var events []string
	for _, e := range es {
		events = append(events, e.Event)
	}
	want := []string{audit.EventIdentityRegistered, audit.EventIdentityRegistered, audit.EventIdentityRegistered,
		audit.EventCeremonyCreated, audit.EventAccessRefused, audit.EventEquivocation}
	if !slices.Equal(events, want) {
		t.Fatalf("events = %v, want %v", events, want)
	}
	if c := es[3]; c.Actor != alice.id.Label() || c.Ceremony != cid || len(c.Parties) != 2 {
		t.Errorf("ceremony created = %+v", c)
	}
	if a := es[4]; a.Actor != mallory.id.Label() || a.Ceremony != cid || a.Outcome != "refused" {
		t.Errorf("access refused = %+v", a)
	}
	if q := es[5]; q.Actor != alice.id.Label() || !slices.Equal(q.Culprits, []string{alice.id.Label()}) {
		t.Errorf("equivocation = %+v", q)
	}
}

func TestServeKeepsItsAuditLogInTheDataDirectory(t *testing.T) {
	dir := t.TempDir()
	startServe(t, Config{Listen: "127.0.0.1:0", DataDir: dir})
	fi, err := os.Stat(filepath.Join(dir, "audit.log"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("audit.log: %v, %v", fi, err)
	}
}
