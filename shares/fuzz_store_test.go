package shares_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/paratro/paratro/internal/fuzzseed"
	"github.com/paratro/paratro/shares"
)

// FuzzActiveShareFile writes arbitrary bytes as the active share file of a
// real store and opens it through the store (Active, List). A refusal
// matches ErrCorrupt, ErrAuth or ErrUnsupportedFormat and leaves the file
// on disk exactly as it was (never repaired, truncated or removed); an
// accepted file is the share that was stored there.
func FuzzActiveShareFile(f *testing.F) {
	s, _ := newStore(f)
	want := testShare(f, "w1", "alice", 1)
	putActive(f, s, want)
	path := sharePath(s, "w1", "alice", 1)
	sealed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	fuzzseed.Add(f, sealed)
	fuzzseed.Add(f, sealed[:len(sealed)/2])
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	fuzzseed.Add(f, flipped)
	fuzzseed.Add(f, []byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := s.Active("w1", "alice")
		_, lerr := s.List()
		after, rerr := os.ReadFile(path)
		if rerr != nil || !bytes.Equal(after, data) {
			t.Fatalf("opening the share file changed it on disk (%v)", rerr)
		}
		if err != nil {
			if !errors.Is(err, shares.ErrCorrupt) && !errors.Is(err, shares.ErrAuth) && !errors.Is(err, shares.ErrUnsupportedFormat) {
				t.Fatalf("undocumented error: %v", err)
			}
			if lerr == nil {
				t.Fatal("List opened a store whose share Active refused")
			}
			return
		}
		defer got.Wipe()
		if lerr != nil || got.WalletID != want.WalletID || got.PartyID != want.PartyID || got.Epoch != want.Epoch ||
			!bytes.Equal(got.Secret, want.Secret) {
			t.Fatalf("opened another share than the one stored: %v (List: %v)", got, lerr)
		}
	})
}
