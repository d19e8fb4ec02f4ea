package shares_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
)

const authFailed = "cannot be opened: authentication failed (the file was changed or belongs to another wallet or party)"

// TestTamperedShareFiles changes a stored share file in one way each and
// checks that reading it fails with the right error, without a panic, with
// no secret in the message, and without touching the file.
func TestTamperedShareFiles(t *testing.T) {
	t.Parallel()
	flip := func(offset func(n int) int) func(t *testing.T, s *shares.Store, b []byte) []byte {
		return func(t *testing.T, s *shares.Store, b []byte) []byte {
			b = bytes.Clone(b)
			b[offset(len(b))] ^= 0x01
			return b
		}
	}
	at := func(i int) func(int) int { return func(int) int { return i } }
	fromEnd := func(i int) func(int) int { return func(n int) int { return n - i } }
	truncate := func(n int) func(t *testing.T, s *shares.Store, b []byte) []byte {
		return func(t *testing.T, s *shares.Store, b []byte) []byte { return b[:n] }
	}
	// otherFile returns another slot's epoch-1 share file, sealed under the
	// same key.
	otherFile := func(wallet, party string) func(t *testing.T, s *shares.Store, b []byte) []byte {
		return func(t *testing.T, s *shares.Store, b []byte) []byte {
			putActive(t, s, testShare(t, wallet, party, 1))
			return readFile(t, sharePath(s, wallet, party, 1))
		}
	}
	const subject = "share for w1 (party alice, epoch 1) "
	tests := []struct {
		name    string
		tamper  func(t *testing.T, s *shares.Store, b []byte) []byte
		kind    error
		message string
	}{
		{"a bit flipped in the magic makes it not a share file", flip(at(0)), shares.ErrCorrupt, subject + "cannot be opened: "},
		{"a bit flipped in the version byte names the version", flip(at(8)), shares.ErrUnsupportedFormat, "format version 0, which this paratro does not read (it reads version 1)"},
		{"a bit flipped in the kind byte fails authentication", flip(at(9)), shares.ErrAuth, subject + authFailed},
		{"a bit flipped in the nonce fails authentication", flip(at(15)), shares.ErrAuth, subject + authFailed},
		{"a bit flipped in the ciphertext fails authentication", flip(func(n int) int { return n / 2 }), shares.ErrAuth, subject + authFailed},
		{"a bit flipped in the tag fails authentication", flip(fromEnd(1)), shares.ErrAuth, subject + authFailed},
		{"a file cut inside the header is truncated", truncate(9), shares.ErrCorrupt, "is truncated or not a paratro share file"},
		{"a file cut right after the nonce is truncated", truncate(22), shares.ErrCorrupt, "is truncated or not a paratro share file"},
		{"a file cut inside the ciphertext fails authentication", func(t *testing.T, s *shares.Store, b []byte) []byte { return b[:len(b)-100] }, shares.ErrAuth, subject + authFailed},
		{"an empty file is not a share file", truncate(0), shares.ErrCorrupt, "is truncated or not a paratro share file"},
		{"a future format version is named", func(t *testing.T, s *shares.Store, b []byte) []byte {
			b = bytes.Clone(b)
			b[8] = 2
			return b
		}, shares.ErrUnsupportedFormat, "format version 2"},
		{"another wallet's share swapped in fails authentication", otherFile("w2", "alice"), shares.ErrAuth, subject + authFailed},
		{"another party's share swapped in fails authentication", otherFile("w1", "bob"), shares.ErrAuth, subject + authFailed},
		{"a later epoch of the same share swapped in fails authentication", func(t *testing.T, s *shares.Store, b []byte) []byte {
			if err := s.PutPending(testShare(t, "w1", "alice", 2)); err != nil {
				t.Fatal(err)
			}
			return readFile(t, sharePath(s, "w1", "alice", 2))
		}, shares.ErrAuth, subject + authFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newStore(t)
			sh := testShare(t, "w1", "alice", 1)
			putActive(t, s, sh)
			path := sharePath(s, "w1", "alice", 1)
			tampered := tt.tamper(t, s, readFile(t, path))
			writeFile(t, path, tampered)

			got, err := s.Active("w1", "alice")
			if got != nil {
				t.Errorf("Active returned a share: %v", got)
			}
			wantErr(t, err, tt.kind, tt.message)
			noSecretIn(t, err.Error(), sh.Secret)
			if !bytes.Equal(readFile(t, path), tampered) {
				t.Error("the failed read changed the file")
			}
			_, err = s.List()
			wantErr(t, err, tt.kind)
		})
	}
}

func TestTamperedStateFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tamper  func(t *testing.T, s *shares.Store, state string)
		kind    error
		message string
		// readsOnly: the damage is only seen when the active share is read.
		readsOnly bool
	}{
		{"a bit flipped in the state manifest fails authentication", func(t *testing.T, s *shares.Store, state string) {
			b := readFile(t, state)
			b[len(b)-5] ^= 0x80
			writeFile(t, state, b)
		}, shares.ErrAuth, "share state for w1 (party alice) " + authFailed, false},
		{"another wallet's state manifest swapped in fails authentication", func(t *testing.T, s *shares.Store, state string) {
			putActive(t, s, testShare(t, "w2", "alice", 1))
			writeFile(t, state, readFile(t, filepath.Join(slotDir(s, "w2", "alice"), "state")))
		}, shares.ErrAuth, "share state for w1 (party alice) " + authFailed, false},
		{"an empty state manifest is not a share file", func(t *testing.T, s *shares.Store, state string) {
			writeFile(t, state, nil)
		}, shares.ErrCorrupt, "state is truncated or not a paratro share file", false},
		{"a missing active share file is reported", func(t *testing.T, s *shares.Store, state string) {
			os.Remove(sharePath(s, "w1", "alice", 1))
		}, shares.ErrCorrupt, filepath.Join("w1", "616c696365", "1.share") + " is missing", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newStore(t)
			putActive(t, s, testShare(t, "w1", "alice", 1))
			state := filepath.Join(slotDir(s, "w1", "alice"), "state")
			tt.tamper(t, s, state)
			before, _ := os.ReadFile(state)

			_, err := s.Active("w1", "alice")
			wantErr(t, err, tt.kind, tt.message)
			if !tt.readsOnly {
				err = s.PutPending(testShare(t, "w1", "alice", 2))
				wantErr(t, err, tt.kind)
			}
			if after, _ := os.ReadFile(state); !bytes.Equal(before, after) {
				t.Error("the failed operations changed the state manifest")
			}
		})
	}
}

func TestWrongKEK(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	sh := testShare(t, "w1", "alice", 1)
	putActive(t, s, sh)
	path := sharePath(s, "w1", "alice", 1)
	before := readFile(t, path)

	other := sharestest.NewMemoryKeyring()
	other.Set(shares.KEKName(s), bytes.Repeat([]byte{7}, 32))
	s2, err := shares.Open(s.Dir(), other)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a store whose keyring holds another key cannot open its shares", func(t *testing.T) {
		_, err := s2.Active("w1", "alice")
		wantErr(t, err, shares.ErrAuth, "share state for w1 (party alice) "+authFailed)
		noSecretIn(t, err.Error(), sh.Secret)
		if !bytes.Equal(readFile(t, path), before) {
			t.Error("the failed read changed the file")
		}
	})
	t.Run("a share file under another key fails even with a valid manifest", func(t *testing.T) {
		// Seal the same wallet/party/epoch in a second store with its own
		// key and move that file into the first store.
		s3, _ := newStore(t)
		putActive(t, s3, testShare(t, "w1", "alice", 1))
		writeFile(t, path, readFile(t, sharePath(s3, "w1", "alice", 1)))
		_, err := s.Active("w1", "alice")
		wantErr(t, err, shares.ErrAuth, "share for w1 (party alice, epoch 1) "+authFailed)
		writeFile(t, path, before)
	})
	t.Run("a keyring entry that is not a 32-byte key is refused", func(t *testing.T) {
		short := sharestest.NewMemoryKeyring()
		short.Set(shares.KEKName(s), []byte("sixteen byte key"))
		_, err := shares.Open(s.Dir(), short)
		wantErr(t, err, shares.ErrCorrupt, "memory keyring entry "+shares.KEKName(s)+" is not a 32-byte key")
	})
	t.Run("the right key still opens the untouched file", func(t *testing.T) {
		got, err := s.Active("w1", "alice")
		if err != nil {
			t.Fatal(err)
		}
		sameShare(t, got, sh)
	})
}

func TestKEKMissing(t *testing.T) {
	t.Parallel()
	s, kr := newStore(t)
	putActive(t, s, testShare(t, "w1", "alice", 1))
	if err := kr.Delete(shares.KEKName(s)); err != nil {
		t.Fatal(err)
	}
	t.Run("opening a store with shares but no key says the keyring lost it", func(t *testing.T) {
		_, err := shares.Open(s.Dir(), kr)
		wantErr(t, err, shares.ErrKEKMissing, "memory keyring no longer holds the key for the share store "+s.Dir())
	})
	t.Run("an open store whose key vanished says so on read", func(t *testing.T) {
		_, err := s.Active("w1", "alice")
		wantErr(t, err, shares.ErrKEKMissing, "no longer holds the key")
	})
	t.Run("a missing key is not silently replaced", func(t *testing.T) {
		if names := kr.Names(); len(names) != 0 {
			t.Errorf("keyring holds %v, want nothing", names)
		}
	})
	t.Run("a store without its store-id cannot find its key", func(t *testing.T) {
		os.Remove(filepath.Join(s.Dir(), "store-id"))
		_, err := shares.Open(s.Dir(), sharestest.NewMemoryKeyring())
		wantErr(t, err, shares.ErrKEKMissing, "store-id is missing")
	})
	t.Run("an empty store gets a new key", func(t *testing.T) {
		kr := sharestest.NewMemoryKeyring()
		s, err := shares.Open(t.TempDir(), kr)
		if err != nil {
			t.Fatal(err)
		}
		if k, err := kr.Get(shares.KEKName(s)); err != nil || len(k) != 32 {
			t.Errorf("keyring entry = %d bytes, %v; want a 32-byte key", len(k), err)
		}
	})
}
