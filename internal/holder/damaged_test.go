package holder_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/shares"
)

// countingTransport counts what a holder sends and receives; it delivers
// nothing.
type countingTransport struct{ sent, received atomic.Int64 }

func (c *countingTransport) Send(context.Context, *ceremony.Message) error {
	c.sent.Add(1)
	return nil
}

func (c *countingTransport) Receive(ctx context.Context) (*ceremony.Message, error) {
	c.received.Add(1)
	<-ctx.Done()
	return nil, ctx.Err()
}

// shareFile is where h's store keeps its epoch-1 share of wallet.
func shareFile(h *holder.Holder, wallet string) string {
	return filepath.Join(h.Store.Dir(), "shares", wallet, hex.EncodeToString([]byte(h.ID)), "1.share")
}

// Case 3 of SECURITY.md (c) at the party: a share file damaged on disk in
// any way is refused when a ceremony opens it, with an error naming the
// share and saying why; the ceremony sends nothing (not one protocol
// message); the file is left exactly as it was; and the undamaged share
// still signs for the stored key.
func TestADamagedShareFileStopsTheCeremonyBeforeAnythingIsSent(t *testing.T) {
	const wallet, other = "wal_damaged", "wal_other"
	fixture := ceremonytest.SchnorrShares(t)
	subject := "share for " + wallet + " (party bob, epoch 1) cannot be opened"
	flip := func(at func(n int) int) func(t *testing.T, hs map[party.ID]*holder.Holder, b []byte) []byte {
		return func(t *testing.T, hs map[party.ID]*holder.Holder, b []byte) []byte {
			b = bytes.Clone(b)
			b[at(len(b))] ^= 0x01
			return b
		}
	}
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, hs map[party.ID]*holder.Holder, b []byte) []byte
		kind   error
		want   string
	}{
		{"a bit flipped in the ciphertext", flip(func(n int) int { return n / 2 }), shares.ErrAuth, subject + ": authentication failed"},
		{"a bit flipped in the tag", flip(func(n int) int { return n - 1 }), shares.ErrAuth, subject + ": authentication failed"},
		{"a bit flipped in the magic", flip(func(int) int { return 0 }), shares.ErrCorrupt, subject},
		{"truncated inside the header", func(_ *testing.T, _ map[party.ID]*holder.Holder, b []byte) []byte { return b[:9] }, shares.ErrCorrupt, "is truncated or not a paratro share file"},
		{"truncated inside the ciphertext", func(_ *testing.T, _ map[party.ID]*holder.Holder, b []byte) []byte { return b[:len(b)-100] }, shares.ErrAuth, subject},
		{"empty", func(*testing.T, map[party.ID]*holder.Holder, []byte) []byte { return nil }, shares.ErrCorrupt, "is truncated or not a paratro share file"},
		{"a future format version", func(_ *testing.T, _ map[party.ID]*holder.Holder, b []byte) []byte {
			b = bytes.Clone(b)
			b[8] = 2
			return b
		}, shares.ErrUnsupportedFormat, "format version 2"},
		{"another wallet's share of the same party", func(t *testing.T, hs map[party.ID]*holder.Holder, _ []byte) []byte {
			return readBytes(t, shareFile(hs["bob"], other))
		}, shares.ErrAuth, subject + ": authentication failed"},
		{"another party's share of the same wallet", func(t *testing.T, hs map[party.ID]*holder.Holder, _ []byte) []byte {
			return readBytes(t, shareFile(hs["carol"], wallet))
		}, shares.ErrAuth, subject + ": authentication failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			hs := holders(t)
			for id, h := range hs {
				for _, w := range []string{wallet, other} {
					if err := h.Import(w, 1, fixture[id]); err != nil {
						t.Fatal(err)
					}
				}
			}
			digest := ceremonytest.Digest("damaged share")
			sign, err := hs["bob"].Describe(ceremony.KindSign, wallet, []party.ID{"bob", "carol"}, digest, time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			refresh, err := hs["bob"].Describe(ceremony.KindRefresh, wallet, nil, nil, time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			path := shareFile(hs["bob"], wallet)
			original := readBytes(t, path)
			damaged := c.damage(t, hs, original)
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, d := range []*ceremony.Descriptor{sign, refresh} {
				tr := &countingTransport{}
				ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				res, err := hs["bob"].Run(ctx, d, tr, nil)
				cancel()
				if res != nil || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("%s: got %v, %v; want an error matching %v and saying %q", d.Kind, res, err, c.kind, c.want)
				}
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("%s: the ceremony waited for its deadline instead of refusing the share", d.Kind)
				}
				if n, m := tr.sent.Load(), tr.received.Load(); n != 0 || m != 0 {
					t.Errorf("%s: %d messages sent and %d receives with a damaged share", d.Kind, n, m)
				}
				if after := readBytes(t, path); !bytes.Equal(after, damaged) {
					t.Errorf("%s: the damaged file was changed", d.Kind)
				}
			}
			// The file put back, the same ceremony signs for the stored key.
			if err := os.WriteFile(path, original, 0o600); err != nil {
				t.Fatal(err)
			}
			requireNoErrors(t, run(t, hs, sign, nil))
			if _, m, err := hs["bob"].Share(wallet); err != nil || !bytes.Equal(m.PublicKey, fixture["bob"].PublicKey()) {
				t.Fatalf("the repaired share: %v", err)
			}
		})
	}
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
