package holder_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/shares"
)

func TestSignWithADerivedIndexUsesTheStoredShares(t *testing.T) {
	if testing.Short() {
		t.Skip("a CMP signing ceremony: seconds, and minutes under the race detector; runs without -short")
	}
	hs := holders(t)
	fixture := ceremonytest.ECDSAShares(t)
	for id, h := range hs {
		if err := h.Import("wal_hd", 1, fixture[id]); err != nil {
			t.Fatal(err)
		}
	}
	child, err := hs["alice"].ChildPublicKey("wal_hd", 5)
	if err != nil {
		t.Fatal(err)
	}
	if other, _ := hs["carol"].ChildPublicKey("wal_hd", 5); !bytes.Equal(child, other) {
		t.Fatalf("alice and carol derive different children: %x %x", child, other)
	}
	digest := ceremonytest.Digest("from child 5")
	d, err := hs["alice"].Describe(ceremony.KindSign, "wal_hd", []party.ID{"alice", "bob"}, digest, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	i := uint32(5)
	d.Index = &i
	res := runPair(t, hs["alice"], hs["bob"], d, "sign failed")
	if !bytes.Equal(res.PublicKey, child) {
		t.Fatalf("signed for %x, want child %x", res.PublicKey, child)
	}
	addr, _ := ethereum.Address(child)
	if err := ethereum.VerifyDigest(addr, digest, res.Signature); err != nil {
		t.Fatal(err)
	}
	t.Run("errors", func(t *testing.T) {
		if _, err := hs["alice"].ChildPublicKey("wal_none", 1); !errors.Is(err, shares.ErrNotFound) {
			t.Fatalf("no share: %v", err)
		}
		if _, err := hs["alice"].ChildPublicKey("wal_hd", 1<<31); err == nil || !strings.Contains(err.Error(), "hardened") {
			t.Fatalf("hardened: %v", err)
		}
	})
}
