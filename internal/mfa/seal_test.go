package mfa

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	e, err := Enroll("alice", "paratro")
	if err != nil {
		t.Fatal(err)
	}
	secret := e.Secret()
	sealed, err := Seal(key, "alice", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("sealed bytes contain the secret")
	}
	again, _ := Seal(key, "alice", secret)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals are equal: nonce not random")
	}
	got, err := Open(key, "alice", sealed)
	if err != nil || got != secret {
		t.Fatalf("open: %v", err)
	}

	otherKey := make([]byte, 32)
	rand.Read(otherKey)
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-5] ^= 1
	badVersion := bytes.Clone(sealed)
	badVersion[0] = 2
	cases := map[string]struct {
		key      []byte
		operator string
		sealed   []byte
	}{
		"wrong key":      {otherKey, "alice", sealed},
		"other operator": {key, "bob", sealed},
		"bit flipped":    {key, "alice", flipped},
		"truncated":      {key, "alice", sealed[:len(sealed)-1]},
		"empty":          {key, "alice", nil},
		"bad version":    {key, "alice", badVersion},
	}
	for name, c := range cases {
		got, err := Open(c.key, c.operator, c.sealed)
		if !errors.Is(err, ErrSealed) || got != "" {
			t.Errorf("%s: got %q, %v; want ErrSealed", name, got, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error contains the secret", name)
		}
	}
	if _, err := Seal(key[:16], "alice", secret); err == nil {
		t.Error("AES-128 key accepted")
	}
	if _, err := Open(key[:31], "alice", sealed); err == nil {
		t.Error("31-byte key accepted")
	}
	if _, err := Seal(key, "", secret); err == nil {
		t.Error("empty operator accepted")
	}
}
