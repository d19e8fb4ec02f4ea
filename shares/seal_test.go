package shares

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"
)

// Internal tests of the sealed format and the plaintext encoding.

func testAEADAndSlot(t testing.TB) (aeadSlot, *Share) {
	t.Helper()
	aead, err := newAEAD(bytes.Repeat([]byte{0x42}, kekLen))
	if err != nil {
		t.Fatal(err)
	}
	sl, err := newSlot("/store", "w1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	sh := &Share{
		Meta: Meta{
			WalletID: "w1", PartyID: "alice", Epoch: 1, Scheme: SchemeSchnorr, Required: 2,
			Parties: []string{"alice", "bob"}, PublicKey: []byte{2, 3}, ConfigDigest: []byte{9},
			CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		},
		Secret: bytes.Repeat([]byte("secret!"), 400),
	}
	return aeadSlot{aead, sl}, sh
}

func TestEncodeShare(t *testing.T) {
	t.Parallel()
	_, sh := testAEADAndSlot(t)
	tests := []struct {
		name string
		edit func(*Share)
	}{
		{"a full share survives encoding", func(*Share) {}},
		{"a zero creation time survives encoding", func(s *Share) { s.CreatedAt = time.Time{} }},
		{"a creation time before 1970 survives encoding", func(s *Share) { s.CreatedAt = time.Date(1900, 1, 1, 0, 0, 0, 999, time.UTC) }},
		{"empty public key and digest survive encoding", func(s *Share) { s.PublicKey, s.ConfigDigest = nil, nil }},
		{"the largest epoch survives encoding", func(s *Share) { s.Epoch = 1<<64 - 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := *sh
			tt.edit(&in)
			got, err := decodeShare(encodeShare(&in))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(encodeMeta(&got.Meta), encodeMeta(&in.Meta)) || !got.CreatedAt.Equal(in.CreatedAt) ||
				got.CreatedAt.IsZero() != in.CreatedAt.IsZero() || !bytes.Equal(got.Secret, in.Secret) {
				t.Errorf("decoded %#v, want %#v", got, in)
			}
		})
	}
	t.Run("every strict prefix of an encoding is malformed", func(t *testing.T) {
		enc := encodeShare(sh)
		for n := range len(enc) {
			if _, err := decodeShare(enc[:n]); !errors.Is(err, errMalformed) {
				t.Fatalf("prefix of %d bytes: %v", n, err)
			}
		}
	})
	t.Run("trailing bytes are malformed", func(t *testing.T) {
		if _, err := decodeShare(append(encodeShare(sh), 0)); !errors.Is(err, errMalformed) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestContentsMustMatchTheirPlace(t *testing.T) {
	t.Parallel()
	as, sh := testAEADAndSlot(t)
	tests := []struct {
		name string
		edit func(*Share)
	}{
		{"contents naming another wallet are refused", func(s *Share) { s.WalletID = "w2" }},
		{"contents naming another party are refused", func(s *Share) { s.PartyID = "bob" }},
		{"contents naming another epoch are refused", func(s *Share) { s.Epoch = 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := *sh
			tt.edit(&in)
			// Sealed for w1/alice/1, with contents about something else:
			// only a holder of the KEK could make such a file.
			data := seal(as.aead, shareRef(as.slot, 1), encodeShare(&in))
			_, err := parseShareFile(as.aead, as.slot, 1, "/store/x", data)
			if !errors.Is(err, ErrCorrupt) || err.Error() != "share for w1 (party alice, epoch 1) cannot be opened: its contents belong to another wallet, party or epoch" {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("sealed garbage is malformed", func(t *testing.T) {
		data := seal(as.aead, shareRef(as.slot, 1), []byte("garbage"))
		_, err := parseShareFile(as.aead, as.slot, 1, "/store/x", data)
		if !errors.Is(err, ErrCorrupt) || err.Error() != "share for w1 (party alice, epoch 1) cannot be opened: its contents are malformed" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestMalformedManifest(t *testing.T) {
	t.Parallel()
	as, _ := testAEADAndSlot(t)
	manifestOf := func(active, pending uint64) []byte {
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, active), pending)
	}
	tests := []struct {
		name string
		pt   []byte
	}{
		{"a manifest of the wrong length is malformed", []byte{1, 2, 3}},
		{"a manifest naming no epoch is malformed", manifestOf(0, 0)},
		{"a manifest whose pending epoch is not after the active one is malformed", manifestOf(3, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sl, err := newSlot(t.TempDir(), "w1", "alice")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(sl.dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(sl.statePath(), seal(as.aead, stateRef(sl), tt.pt), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = (&Store{}).readManifest(as.aead, sl)
			if !errors.Is(err, ErrCorrupt) || err.Error() != "share state for w1 (party alice) cannot be opened: its contents are malformed" {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("a well-formed manifest reads back", func(t *testing.T) {
		sl, _ := newSlot(t.TempDir(), "w1", "alice")
		os.MkdirAll(sl.dir, 0o700)
		os.WriteFile(sl.statePath(), seal(as.aead, stateRef(sl), manifestOf(2, 3)), 0o600)
		if m, err := (&Store{}).readManifest(as.aead, sl); err != nil || m != (manifest{active: 2, pending: 3}) {
			t.Fatalf("readManifest = %+v, %v", m, err)
		}
	})
}
