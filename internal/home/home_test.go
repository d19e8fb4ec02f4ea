package home

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares/sharestest"
)

func newHome(t *testing.T, name string) *Home {
	t.Helper()
	h, err := Init(filepath.Join(t.TempDir(), name), sharestest.NewMemoryKeyring(), name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTrust(t *testing.T) {
	ana, ben := newHome(t, "ana"), newHome(t, "ben")
	if added, err := ana.Trust(ben.ID.Public); err != nil || !added {
		t.Fatalf("trust ben: %v %v", added, err)
	}
	if added, err := ana.Trust(ben.ID.Public); err != nil || added {
		t.Fatalf("trust ben again: %v %v", added, err)
	}
	// Another key under a trusted name, or under this home's own name, is refused.
	impostor, _ := identity.New("ben")
	if _, err := ana.Trust(impostor.Public); !errors.Is(err, ErrConflict) {
		t.Fatalf("impostor: %v", err)
	}
	self, _ := identity.New("ana")
	if _, err := ana.Trust(self.Public); !errors.Is(err, ErrConflict) {
		t.Fatalf("own name: %v", err)
	}
	list, _ := ana.Trusted()
	if len(list) != 2 || list[0].Name != "ana" || !list[1].Equal(ben.ID.Public) {
		t.Fatalf("trusted = %v", list)
	}
	if p, err := ana.Resolve(ben.ID.Fingerprint()); err != nil || p.Name != "ben" {
		t.Fatalf("resolve by fingerprint: %v %v", p, err)
	}
	if _, err := ana.Resolve("eve"); err == nil {
		t.Fatal("resolved an unknown name")
	}
	// Reopened from disk with the same keyring: same identity, same trust.
	again, err := Open(ana.Dir, ana.Keyring)
	if err != nil || !again.ID.Public.Equal(ana.ID.Public) {
		t.Fatalf("reopen: %v", err)
	}
	if trusted, err := again.Trusted(); err != nil || !slicesContainsKey(trusted, ben.ID.Public) {
		t.Fatal("trust lost on reopen")
	}
}

func TestWalletRecords(t *testing.T) {
	h := newHome(t, "ana")
	w := &Wallet{ID: "wal_aaaaaaaaaaaaaaaa", Name: "ops", Chain: "ethereum", Required: 2, Epoch: 1, CreatedAt: time.Now()}
	if err := h.SaveWallet(w); err != nil {
		t.Fatal(err)
	}
	if err := h.SaveWallet(&Wallet{ID: "../../etc/passwd"}); err == nil {
		t.Fatal("saved a wallet with a path for an ID")
	}
	for _, key := range []string{"ops", "wal_aaaaaaaaaaaaaaaa"} {
		got, err := h.Wallet(key)
		if err != nil || got.Name != "ops" {
			t.Fatalf("%s: %v %v", key, got, err)
		}
	}
	if _, err := h.Wallet("cold"); !errors.Is(err, ErrNoWallet) {
		t.Fatalf("unknown: %v", err)
	}
	_ = h.SaveWallet(&Wallet{ID: "wal_bbbbbbbbbbbbbbbb", Name: "ops", CreatedAt: time.Now()})
	if _, err := h.Wallet("ops"); err == nil {
		t.Fatal("an ambiguous name resolved")
	}
	if all, _ := h.Wallets(); len(all) != 2 {
		t.Fatalf("listed %d", len(all))
	}
}

func slicesContainsKey(list []identity.Public, p identity.Public) bool {
	q, ok := identity.Find(list, p.Fingerprint())
	return ok && q.Equal(p)
}
