package shares_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
)

// testShare returns a share with a random 3 KB secret, like a CMP config.
func testShare(t testing.TB, wallet, party string, epoch uint64) *shares.Share {
	t.Helper()
	secret := make([]byte, 3085)
	rand.Read(secret)
	return &shares.Share{
		Meta: shares.Meta{
			WalletID:     wallet,
			PartyID:      party,
			Epoch:        epoch,
			Scheme:       shares.SchemeECDSA,
			Required:     2,
			Parties:      []string{party, "party-b", "party-c"},
			PublicKey:    bytes.Repeat([]byte{0x02}, 33),
			ConfigDigest: bytes.Repeat([]byte{byte(epoch)}, 32),
			CreatedAt:    time.Date(2026, 11, 21, 5, 0, 0, 123, time.UTC),
		},
		Secret: secret,
	}
}

// newStore opens a store in a fresh directory with a fresh memory keyring.
func newStore(t testing.TB) (*shares.Store, *sharestest.MemoryKeyring) {
	t.Helper()
	kr := sharestest.NewMemoryKeyring()
	s, err := shares.Open(filepath.Join(t.TempDir(), "data"), kr)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, kr
}

// putActive stores sh as pending and commits it.
func putActive(t testing.TB, s *shares.Store, sh *shares.Share) {
	t.Helper()
	if err := s.PutPending(sh); err != nil {
		t.Fatalf("PutPending(epoch %d): %v", sh.Epoch, err)
	}
	if err := s.Commit(sh.WalletID, sh.PartyID, sh.Epoch); err != nil {
		t.Fatalf("Commit(epoch %d): %v", sh.Epoch, err)
	}
}

// sharePath is where the store keeps one epoch of a share.
func sharePath(s *shares.Store, wallet, party string, epoch uint64) string {
	return filepath.Join(slotDir(s, wallet, party), strconv.FormatUint(epoch, 10)+".share")
}

func slotDir(s *shares.Store, wallet, party string) string {
	return filepath.Join(s.Dir(), "shares", wallet, hex.EncodeToString([]byte(party)))
}

// sameShare fails the test unless got equals want, secret included.
func sameShare(t testing.TB, got, want *shares.Share) {
	t.Helper()
	g, w := got.Meta, want.Meta
	if g.WalletID != w.WalletID || g.PartyID != w.PartyID || g.Epoch != w.Epoch || g.Scheme != w.Scheme ||
		g.Required != w.Required || strings.Join(g.Parties, ",") != strings.Join(w.Parties, ",") ||
		!bytes.Equal(g.PublicKey, w.PublicKey) || !bytes.Equal(g.ConfigDigest, w.ConfigDigest) || !g.CreatedAt.Equal(w.CreatedAt) {
		t.Errorf("metadata differs:\n got %+v\nwant %+v", g, w)
	}
	if !bytes.Equal(got.Secret, want.Secret) {
		t.Errorf("secret differs (%d bytes vs %d)", len(got.Secret), len(want.Secret))
	}
}

// wantErr fails the test unless err matches kind and its message contains
// every part given.
func wantErr(t testing.TB, err, kind error, parts ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want one matching %q", err, kind)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

// noSecretIn fails the test if text contains secret, or its hex or base64
// form, or any 8-byte window of it.
func noSecretIn(t testing.TB, text string, secret []byte) {
	t.Helper()
	forms := []string{hex.EncodeToString(secret[:16]), base64.StdEncoding.EncodeToString(secret[:15])}
	for i := 0; i+8 <= len(secret); i += 8 {
		forms = append(forms, string(secret[i:i+8]))
	}
	for _, f := range forms {
		if strings.Contains(text, f) {
			t.Fatalf("secret material found in %q", text)
		}
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func mustSet(t *testing.T, kr shares.Keyring, name string, v []byte) {
	t.Helper()
	if err := kr.Set(name, v); err != nil {
		t.Fatal(err)
	}
}
