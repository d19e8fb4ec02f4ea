package envelope

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/paratro/paratro/internal/identity"
)

type trio struct{ a, b, c *identity.Identity }

func newTrio(t *testing.T) trio {
	t.Helper()
	var ids [3]*identity.Identity
	for i, n := range []string{"ana", "ben", "vault"} {
		id, err := identity.New(n)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return trio{ids[0], ids[1], ids[2]}
}

func (tr trio) lookup(fp string) (identity.Public, bool) {
	for _, id := range []*identity.Identity{tr.a, tr.b, tr.c} {
		if id.Fingerprint() == fp {
			return id.Public, true
		}
	}
	return identity.Public{}, false
}

func hdr(from *identity.Identity, to string) Header {
	return Header{Ceremony: "c1", SessionID: []byte("session-1"), Type: 1, Round: 2, From: from.Fingerprint(), To: to}
}

func TestBroadcastRoundTrip(t *testing.T) {
	tr := newTrio(t)
	raw, err := Seal(tr.a, hdr(tr.a, ""), []byte("round two"), []identity.Public{tr.b.Public, tr.c.Public})
	if err != nil {
		t.Fatal(err)
	}
	for _, me := range []*identity.Identity{tr.b, tr.c} {
		h, pt, err := Open(me, raw, tr.lookup)
		if err != nil {
			t.Fatalf("%s: %v", me.Name, err)
		}
		if string(pt) != "round two" || h.From != tr.a.Fingerprint() || h.Round != 2 || !h.Broadcast() {
			t.Fatalf("%s opened %q %+v", me.Name, pt, h)
		}
	}
	if _, _, err := Open(tr.a, raw, tr.lookup); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("sender opening its own envelope: %v", err)
	}
	if bytes.Contains(raw, []byte("round two")) {
		t.Fatal("plaintext visible in the envelope")
	}
}

func TestP2POnlyForRecipient(t *testing.T) {
	tr := newTrio(t)
	raw, err := Seal(tr.a, hdr(tr.a, tr.b.Fingerprint()), []byte("share for ben"), []identity.Public{tr.b.Public})
	if err != nil {
		t.Fatal(err)
	}
	if _, pt, err := Open(tr.b, raw, tr.lookup); err != nil || string(pt) != "share for ben" {
		t.Fatalf("ben: %q %v", pt, err)
	}
	if _, _, err := Open(tr.c, raw, tr.lookup); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("vault reading ben's message: %v", err)
	}
	if _, err := Seal(tr.a, hdr(tr.a, tr.b.Fingerprint()), []byte("x"), []identity.Public{tr.c.Public}); err == nil {
		t.Fatal("sealed a p2p message to somebody other than its recipient")
	}
}

// Every single-byte change to an envelope is refused, and when the sender
// can still be read the error names it.
func TestEveryByteFlipRefused(t *testing.T) {
	tr := newTrio(t)
	raw, err := Seal(tr.a, hdr(tr.a, ""), bytes.Repeat([]byte("m"), 64), []identity.Public{tr.b.Public, tr.c.Public})
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x01
		_, _, err := Open(tr.b, bad, tr.lookup)
		if err == nil {
			t.Fatalf("flip at byte %d of %d accepted", i, len(raw))
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("flip at %d: %T %v", i, err, err)
		}
		if e.Sender == tr.a.Fingerprint() && errors.Is(err, ErrUnauthenticated) {
			named++
		}
	}
	if named < len(raw)/2 {
		t.Fatalf("only %d of %d flips were reported as unauthenticated from the sender", named, len(raw))
	}
}

// A member cannot re-sign another member's ciphertext as its own: the
// recipient's HPKE context binds the original sender.
func TestResignedBySomebodyElse(t *testing.T) {
	tr := newTrio(t)
	raw, _ := Seal(tr.a, hdr(tr.a, tr.b.Fingerprint()), []byte("secret"), []identity.Public{tr.b.Public})
	var w wire
	var b body
	if err := decMode.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	if err := decMode.Unmarshal(w.Body, &b); err != nil {
		t.Fatal(err)
	}
	b.From = tr.c.Fingerprint()
	bb, _ := encMode.Marshal(b)
	forged, _ := encMode.Marshal(wire{Body: bb, Sig: tr.c.Sign(signed(bb))})
	if _, _, err := Open(tr.b, forged, tr.lookup); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("re-signed envelope: %v", err)
	}
}

// The header binds ceremony, session and round: the same ciphertext under
// another header (re-signed by its real sender, the strongest replay) does
// not decrypt.
func TestReplayIntoAnotherCeremony(t *testing.T) {
	tr := newTrio(t)
	raw, _ := Seal(tr.a, hdr(tr.a, tr.b.Fingerprint()), []byte("secret"), []identity.Public{tr.b.Public})
	var w wire
	var b body
	_ = decMode.Unmarshal(raw, &w)
	_ = decMode.Unmarshal(w.Body, &b)
	for name, change := range map[string]func(*body){
		"ceremony": func(b *body) { b.Ceremony = "c2" },
		"session":  func(b *body) { b.SessionID = []byte("session-2") },
		"round":    func(b *body) { b.Round = 3 },
		"type":     func(b *body) { b.Type = 3 },
	} {
		c := b
		change(&c)
		bb, _ := encMode.Marshal(c)
		moved, _ := encMode.Marshal(wire{Body: bb, Sig: tr.a.Sign(signed(bb))})
		if _, _, err := Open(tr.b, moved, tr.lookup); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s changed: %v", name, err)
		}
	}
}

// A broadcast whose recipients get different plaintexts is caught by the
// signed digest.
func TestBroadcastEquivocationCaught(t *testing.T) {
	tr := newTrio(t)
	raw, _ := Seal(tr.a, hdr(tr.a, ""), []byte("to everyone"), []identity.Public{tr.b.Public, tr.c.Public})
	var w wire
	var b body
	_ = decMode.Unmarshal(raw, &w)
	_ = decMode.Unmarshal(w.Body, &b)
	for i := range b.Boxes {
		if b.Boxes[i].To == tr.c.Fingerprint() {
			pk, _ := hpke.NewDHKEMPublicKey(mustBox(t, tr.c.Public))
			b.Boxes[i].CT, _ = hpke.Seal(pk, kdf, aead, info(b, tr.c.Fingerprint()), []byte("something else"))
		}
	}
	bb, _ := encMode.Marshal(b)
	split, _ := encMode.Marshal(wire{Body: bb, Sig: tr.a.Sign(signed(bb))})
	if _, pt, err := Open(tr.b, split, tr.lookup); err != nil || string(pt) != "to everyone" {
		t.Fatalf("ben: %q %v", pt, err)
	}
	if _, _, err := Open(tr.c, split, tr.lookup); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("vault accepted a different broadcast: %v", err)
	}
	if d := sha256.Sum256([]byte("to everyone")); !bytes.Equal(d[:], b.Digest) {
		t.Fatal("digest is not of the plaintext")
	}
}

func TestUnknownSenderAndGarbage(t *testing.T) {
	tr := newTrio(t)
	raw, _ := Seal(tr.a, hdr(tr.a, ""), []byte("x"), []identity.Public{tr.b.Public})
	none := func(string) (identity.Public, bool) { return identity.Public{}, false }
	if _, err := Inspect(raw, none); !errors.Is(err, ErrUnknownSender) {
		t.Fatalf("unknown sender: %v", err)
	}
	for _, g := range [][]byte{nil, {0xff}, []byte("hello"), make([]byte, MaxSize+1)} {
		if _, err := Inspect(g, tr.lookup); !errors.Is(err, ErrMalformed) {
			t.Fatalf("garbage %d bytes: %v", len(g), err)
		}
	}
}

func mustBox(t *testing.T, p identity.Public) *ecdhPublicKey {
	k, err := p.BoxPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type ecdhPublicKey = ecdh.PublicKey
