package ceremony_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/fuzzseed"
)

func TestSharesSurviveSerialisation(t *testing.T) {
	for _, scheme := range []ceremony.Scheme{ceremony.SchemeECDSA, ceremony.SchemeSchnorr} {
		t.Run(string(scheme), func(t *testing.T) {
			for id, sh := range fixtureShares(t, scheme) {
				b, err := sh.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				back, err := ceremony.UnmarshalShare(b)
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				if !back.Equal(sh) || !bytes.Equal(back.PublicKey(), sh.PublicKey()) ||
					!bytes.Equal(back.ConfigDigest(), sh.ConfigDigest()) || back.PartyID() != id {
					t.Fatalf("%s: share changed in a round trip", id)
				}
			}
		})
	}
}

func TestSharesOfOneEpochAgreeOnTheConfiguration(t *testing.T) {
	for _, scheme := range []ceremony.Scheme{ceremony.SchemeECDSA, ceremony.SchemeSchnorr} {
		shares := fixtureShares(t, scheme)
		if !bytes.Equal(shares["alice"].ConfigDigest(), shares["carol"].ConfigDigest()) ||
			!bytes.Equal(shares["alice"].PublicKey(), shares["bob"].PublicKey()) {
			t.Fatalf("%s: parties disagree on the public configuration", scheme)
		}
	}
}

func TestUnmarshalShareRejectsDamageWithoutPanicking(t *testing.T) {
	good, _ := ceremonytest.ECDSAShares(t)["alice"].MarshalBinary()
	cases := map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not a share at all"),
		"truncated": good[:len(good)/2],
		"one byte":  good[:1],
	}
	for i := 0; i < len(good); i += len(good) / 7 {
		flipped := bytes.Clone(good)
		flipped[i] ^= 0x40
		cases[fmt.Sprintf("bit flip at %d", i)] = flipped
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			sh, err := ceremony.UnmarshalShare(b)
			if err == nil && sh.Equal(ceremonytest.ECDSAShares(t)["alice"]) {
				t.Fatal("damaged bytes decoded to the original share")
			}
			if err != nil && !errors.Is(err, ceremony.ErrShareFormat) {
				t.Fatalf("got %v, want ErrShareFormat", err)
			}
		})
	}
}

func TestShareNeverPrintsSecrets(t *testing.T) {
	for _, sh := range []*ceremony.Share{ceremonytest.ECDSAShares(t)["alice"], ceremonytest.SchnorrShares(t)["alice"]} {
		b, _ := sh.MarshalBinary()
		for _, s := range []string{fmt.Sprint(sh), fmt.Sprintf("%v %+v %#v %s", sh, sh, sh, sh)} {
			if strings.Contains(s, hex.EncodeToString(b[len(b)-40:])) || len(s) > 400 {
				t.Fatalf("formatting a share printed %q", s)
			}
		}
	}
}

// FuzzUnmarshalShare feeds arbitrary bytes to the share reader. Refusals
// match ErrShareFormat; an accepted share marshals to bytes that read back
// to an equal share with the same key, configuration and bytes.
func FuzzUnmarshalShare(f *testing.F) {
	for _, sh := range ceremonytest.SchnorrShares(f) {
		b, _ := sh.MarshalBinary()
		fuzzseed.Add(f, b)
	}
	good, _ := ceremonytest.ECDSAShares(f)["bob"].MarshalBinary()
	fuzzseed.Add(f, good)
	fuzzseed.Add(f, good[:len(good)/2])
	fuzzseed.Add(f, []byte{0xa1, 0x66, 'c', 'o', 'n', 'f', 'i', 'g', 0x5a, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		sh, err := ceremony.UnmarshalShare(b)
		if err != nil {
			if !errors.Is(err, ceremony.ErrShareFormat) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		again, err := sh.MarshalBinary()
		if err != nil {
			t.Fatalf("cannot marshal an accepted share: %v", err)
		}
		sh2, err := ceremony.UnmarshalShare(again)
		if err != nil {
			t.Fatalf("re-marshalled share refused: %v", err)
		}
		third, _ := sh2.MarshalBinary()
		if !sh2.Equal(sh) || !bytes.Equal(sh2.PublicKey(), sh.PublicKey()) ||
			!bytes.Equal(sh2.ConfigDigest(), sh.ConfigDigest()) || !bytes.Equal(third, again) {
			t.Fatal("decode, encode, decode changed the share")
		}
	})
}
