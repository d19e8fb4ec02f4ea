package identity

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paratro/paratro/shares/sharestest"
)

func TestJSONRoundTripAndFingerprintCheck(t *testing.T) {
	id, err := New("ana")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(id.Public)
	if err != nil {
		t.Fatal(err)
	}
	var p Public
	if err := json.Unmarshal(b, &p); err != nil || !p.Equal(id.Public) {
		t.Fatalf("round trip: %v %+v", err, p)
	}
	if len(p.Fingerprint()) != FingerprintLen || len(p.DisplayFingerprint()) != FingerprintLen+3 {
		t.Fatalf("fingerprint %q / %q", p.Fingerprint(), p.DisplayFingerprint())
	}
	other, _ := New("ben")
	forged := strings.Replace(string(b), id.Fingerprint(), other.Fingerprint(), 1)
	if err := json.Unmarshal([]byte(forged), &p); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("mismatched fingerprint accepted: %v", err)
	}
}

func TestBadNames(t *testing.T) {
	for _, n := range []string{"", "Ana", "a b", "-x", strings.Repeat("a", 33), "é"} {
		if _, err := New(n); err == nil {
			t.Errorf("name %q accepted", n)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	kr := sharestest.NewMemoryKeyring()
	id, _ := New("vault")
	if err := Save(home, kr, id); err != nil {
		t.Fatal(err)
	}
	if err := Save(home, kr, id); err == nil {
		t.Fatal("overwrote an identity")
	}
	got, err := Load(home, kr)
	if err != nil || !got.Public.Equal(id.Public) || string(got.Sign([]byte("m"))) != string(id.Sign([]byte("m"))) {
		t.Fatalf("load: %v", err)
	}
	fi, _ := os.Stat(filepath.Join(home, FileName))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity.json mode %v", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(filepath.Join(home, FileName))
	secret := id.Secret()
	if strings.Contains(string(raw), fmt.Sprintf("%x", secret[:16])) {
		t.Fatal("secret key in identity.json")
	}
	if s := fmt.Sprintf("%v %+v %#v", id, id, id); strings.Contains(s, fmt.Sprintf("%x", secret[:8])) {
		t.Fatal("formatting an identity shows its secret")
	}
	other := sharestest.NewMemoryKeyring()
	if _, err := Load(home, other); err == nil {
		t.Fatal("loaded without the keyring entry")
	}
	if _, err := LoadPublic(t.TempDir()); err != ErrNoIdentity {
		t.Fatalf("empty home: %v", err)
	}
}
