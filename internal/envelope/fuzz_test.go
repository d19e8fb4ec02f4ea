package envelope

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/paratro/paratro/internal/fuzzseed"
	"github.com/paratro/paratro/internal/identity"
)

// fixedTrio is three identities with fixed (TEST-ONLY) secrets, so the
// committed seed corpus stays valid from run to run.
func fixedTrio(tb testing.TB) trio {
	tb.Helper()
	var ids [3]*identity.Identity
	for i, n := range []string{"ana", "ben", "vault"} {
		secret := sha256.Sum256([]byte("paratro fuzz TEST-ONLY identity " + n))
		box := sha256.Sum256(secret[:])
		id, err := identity.FromSecret(n, append(secret[:], box[:]...))
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = id
	}
	return trio{ids[0], ids[1], ids[2]}
}

// FuzzOpen feeds arbitrary bytes to Open, as ben (a member with ana and
// vault). It must never panic or change its input; every refusal is an
// *Error of one of the four documented kinds, and Open refuses whatever
// Inspect refuses, for the same reason. An accepted envelope comes from
// another member, is addressed to ben, carries at most MaxPayload bytes,
// and sealing its header and plaintext again opens to the same.
func FuzzOpen(f *testing.F) {
	tr := fixedTrio(f)
	for _, c := range []struct {
		from    *identity.Identity
		to      string
		payload string
		rcpt    []identity.Public
	}{
		{tr.a, "", "round two broadcast", []identity.Public{tr.b.Public, tr.c.Public}},
		{tr.a, tr.b.Fingerprint(), "p2p to ben", []identity.Public{tr.b.Public}},
		{tr.c, tr.b.Fingerprint(), "", []identity.Public{tr.b.Public}},
		{tr.a, tr.c.Fingerprint(), "p2p to vault", []identity.Public{tr.c.Public}},
		{tr.b, "", "ben's own", []identity.Public{tr.a.Public, tr.c.Public}},
	} {
		raw, err := Seal(c.from, hdr(c.from, c.to), []byte(c.payload), c.rcpt)
		if err != nil {
			f.Fatal(err)
		}
		fuzzseed.Add(f, raw)
	}
	fuzzseed.Add(f, []byte{})
	fuzzseed.Add(f, []byte{0xa2, 0x01, 0x40, 0x02, 0x40})             // {1: h'', 2: h''}
	fuzzseed.Add(f, []byte{0xa2, 0x01, 0x41, 0xa0, 0x02, 0x40})       // empty body map
	fuzzseed.Add(f, []byte{0xa1, 0x01, 0x5a, 0xff, 0xff, 0xff, 0xff}) // declares a 4 GiB body
	fuzzseed.Add(f, []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})

	kinds := []error{ErrMalformed, ErrUnknownSender, ErrUnauthenticated, ErrNotForMe}
	kindOf := func(t *testing.T, err error) error {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("refusal is not an *envelope.Error: %T %v", err, err)
		}
		for _, k := range kinds {
			if errors.Is(err, k) {
				return k
			}
		}
		t.Fatalf("refusal of no documented kind: %v", err)
		return nil
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		orig := bytes.Clone(raw)
		ih, ierr := Inspect(raw, tr.lookup)
		h, pt, err := Open(tr.b, raw, tr.lookup)
		if !bytes.Equal(raw, orig) {
			t.Fatal("Open changed its input")
		}
		if ierr != nil {
			if err == nil {
				t.Fatalf("Inspect refused (%v) what Open accepted", ierr)
			}
			if kindOf(t, ierr) != kindOf(t, err) {
				t.Fatalf("Inspect refused as %v, Open as %v", ierr, err)
			}
			return
		}
		if err != nil {
			kindOf(t, err)
			if ih.From == tr.b.Fingerprint() || (!ih.Broadcast() && ih.To != tr.b.Fingerprint()) {
				if !errors.Is(err, ErrNotForMe) {
					t.Fatalf("an envelope not for ben refused as %v", err)
				}
			}
			return
		}
		if len(raw) > MaxSize || len(pt) > MaxPayload {
			t.Fatalf("accepted %d bytes with a %d-byte payload", len(raw), len(pt))
		}
		if h.ID() != ih.ID() || !bytes.Equal(h.SessionID, ih.SessionID) {
			t.Fatalf("Open read header %+v, Inspect %+v", h, ih)
		}
		var from *identity.Identity
		switch h.From {
		case tr.a.Fingerprint():
			from = tr.a
		case tr.c.Fingerprint():
			from = tr.c
		default:
			t.Fatalf("accepted an envelope from %q", h.From)
		}
		if !h.Broadcast() && h.To != tr.b.Fingerprint() {
			t.Fatalf("accepted an envelope addressed to %q", h.To)
		}
		rcpt := []identity.Public{tr.b.Public}
		if h.Broadcast() {
			rcpt = nil
			for _, id := range []*identity.Identity{tr.a, tr.b, tr.c} {
				if id != from {
					rcpt = append(rcpt, id.Public)
				}
			}
		}
		again, err := Seal(from, h, pt, rcpt)
		if err != nil {
			t.Fatalf("cannot seal again what was opened: %v", err)
		}
		h2, pt2, err := Open(tr.b, again, tr.lookup)
		if err != nil || h2.ID() != h.ID() || !bytes.Equal(h2.SessionID, h.SessionID) || !bytes.Equal(pt2, pt) {
			t.Fatalf("seal then open gave %+v %q %v, want %+v %q", h2, pt2, err, h, pt)
		}
	})
}
