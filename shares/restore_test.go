package shares_test

import (
	"errors"
	"testing"

	"github.com/paratro/paratro/shares"
)

// A share restored from a backup keeps the epoch it had, whatever it is,
// but only where the store holds no share of that wallet.
func TestPutRestored(t *testing.T) {
	st, _ := newStore(t)
	sh := testShare(t, "wal_restored", "party-a", 3)
	if err := st.PutPending(sh); !errors.Is(err, shares.ErrInvalid) {
		t.Fatalf("PutPending of a first share at epoch 3: %v, want ErrInvalid", err)
	}
	if err := st.PutRestored(sh); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit("wal_restored", "party-a", 3); err != nil {
		t.Fatal(err)
	}
	got, err := st.Active("wal_restored", "party-a")
	if err != nil || got.Epoch != 3 {
		t.Fatalf("active share: %v, %v; want epoch 3", got, err)
	}
	got.Wipe()
	if err := st.PutRestored(testShare(t, "wal_restored", "party-a", 4)); !errors.Is(err, shares.ErrInvalid) {
		t.Fatalf("PutRestored over an active share: %v, want ErrInvalid", err)
	}
}
