package holder_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
)

// TestRefreshFailsCleanlyWhenTheShareCannotBeWritten: alice's share store
// is on a small real file system (sharestest.SmallFS: root only). It is
// filled, then remounted read-only, and a refresh is run each time: alice
// cannot store her new share (ENOSPC, then EROFS), so her ceremony fails
// with that error before she confirms, the others are told and discard
// theirs, every party keeps epoch 1 active, and alice still reads it and
// signs with it (SECURITY.md release case 29).
func TestRefreshFailsCleanlyWhenTheShareCannotBeWritten(t *testing.T) {
	dir, fill, readOnly := sharestest.SmallFS(t, 1<<20)
	hs := holders(t)
	st, err := shares.Open(dir, sharestest.NewMemoryKeyring())
	if err != nil {
		t.Fatal(err)
	}
	hs["alice"] = &holder.Holder{ID: "alice", Store: st}
	fixture := ceremonytest.SchnorrShares(t)
	for id, h := range hs {
		if err := h.Import("wal_full", 1, fixture[id]); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		fault func()
		errno syscall.Errno
	}{{"a full disk", fill, syscall.ENOSPC}, {"a read-only file system", readOnly, syscall.EROFS}} {
		c.fault()
		d, err := hs["bob"].Describe(ceremony.KindRefresh, "wal_full", nil, nil, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		errs := run(t, hs, d, nil)
		if err := errs["alice"]; !errors.Is(err, c.errno) || !strings.Contains(err.Error(), "could not store the new share") {
			t.Fatalf("%s: alice got %v, want the refresh failed on %v", c.name, err, c.errno)
		}
		for _, id := range []party.ID{"bob", "carol"} {
			if !errors.Is(errs[id], ceremony.ErrAborted) {
				t.Fatalf("%s: %s got %v, want alice's abort", c.name, id, errs[id])
			}
		}
		for id, h := range hs {
			if got := epochs(t, h); got != "1:active" {
				t.Fatalf("%s: %s holds %q, want only 1:active", c.name, id, got)
			}
		}
		if _, m, err := hs["alice"].Share("wal_full"); err != nil || m.Epoch != 1 {
			t.Fatalf("%s: alice's share: epoch %d, %v", c.name, m.Epoch, err)
		}
	}

	digest := ceremonytest.Digest("signs from a read-only disk")
	sd, err := hs["alice"].Describe(ceremony.KindSign, "wal_full", []party.ID{"alice", "carol"}, digest, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	res := runPair(t, hs["alice"], hs["carol"], sd, "signing on epoch 1 failed")
	if err := bitcoin.VerifySchnorr(fixture["alice"].PublicKey(), digest, res.Signature); err != nil {
		t.Fatal(err)
	}
}
