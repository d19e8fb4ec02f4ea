package shares_test

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/paratro/paratro/shares"
)

func TestStoreRoundTrip(t *testing.T) {
	t.Parallel()
	s, kr := newStore(t)
	want := testShare(t, "wal_abc123", "alice", 1)

	if err := s.PutPending(want); err != nil {
		t.Fatal(err)
	}
	t.Run("a pending share is not active yet", func(t *testing.T) {
		_, err := s.Active("wal_abc123", "alice")
		wantErr(t, err, shares.ErrNotFound, "no active share for wal_abc123 (party alice)")
	})
	t.Run("a pending share reads back whole", func(t *testing.T) {
		got, err := s.Pending("wal_abc123", "alice")
		if err != nil {
			t.Fatal(err)
		}
		sameShare(t, got, want)
	})
	if err := s.Commit("wal_abc123", "alice", 1); err != nil {
		t.Fatal(err)
	}
	t.Run("a committed share is active and no longer pending", func(t *testing.T) {
		got, err := s.Active("wal_abc123", "alice")
		if err != nil {
			t.Fatal(err)
		}
		sameShare(t, got, want)
		_, err = s.Pending("wal_abc123", "alice")
		wantErr(t, err, shares.ErrNotFound, "no pending share")
	})
	t.Run("a store opened again with the same keyring reads the share", func(t *testing.T) {
		s2, err := shares.Open(s.Dir(), kr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s2.Active("wal_abc123", "alice")
		if err != nil {
			t.Fatal(err)
		}
		sameShare(t, got, want)
	})
	t.Run("the share file does not contain the secret", func(t *testing.T) {
		noSecretIn(t, string(readFile(t, sharePath(s, "wal_abc123", "alice", 1))), want.Secret)
	})
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	t.Run("committing epoch 2 makes it active and wipes epoch 1", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		putActive(t, s, testShare(t, "w1", "alice", 1))
		next := testShare(t, "w1", "alice", 2)
		if err := s.PutPending(next); err != nil {
			t.Fatal(err)
		}
		old := sharePath(s, "w1", "alice", 1)
		// A second link to the old file shows what was written to its blocks.
		kept := s.Dir() + "/kept-link"
		if err := os.Link(old, kept); err != nil {
			t.Fatal(err)
		}
		size := len(readFile(t, old))

		if err := s.Commit("w1", "alice", 2); err != nil {
			t.Fatal(err)
		}
		got, err := s.Active("w1", "alice")
		if err != nil {
			t.Fatal(err)
		}
		sameShare(t, got, next)
		if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("epoch 1 file still exists (stat: %v)", err)
		}
		if b := readFile(t, kept); len(b) != size || !bytes.Equal(b, make([]byte, size)) {
			t.Errorf("epoch 1 file was not overwritten with zeros before removal")
		}
	})
	t.Run("discarding epoch 2 keeps epoch 1 active and removes epoch 2", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		first := testShare(t, "w1", "alice", 1)
		putActive(t, s, first)
		if err := s.PutPending(testShare(t, "w1", "alice", 2)); err != nil {
			t.Fatal(err)
		}
		if err := s.Discard("w1", "alice", 2); err != nil {
			t.Fatal(err)
		}
		got, err := s.Active("w1", "alice")
		if err != nil {
			t.Fatal(err)
		}
		sameShare(t, got, first)
		if _, err := os.Stat(sharePath(s, "w1", "alice", 2)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("epoch 2 file still exists (stat: %v)", err)
		}
		_, err = s.Pending("w1", "alice")
		wantErr(t, err, shares.ErrNotFound)
		t.Run("and a later refresh can use epoch 2 again", func(t *testing.T) {
			putActive(t, s, testShare(t, "w1", "alice", 2))
		})
	})
	t.Run("discarding a wallet's first share leaves nothing behind", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		if err := s.PutPending(testShare(t, "w1", "alice", 1)); err != nil {
			t.Fatal(err)
		}
		if err := s.Discard("w1", "alice", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(s.Dir() + "/shares/w1"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("wallet directory still exists (stat: %v)", err)
		}
		if list, err := s.List(); err != nil || len(list) != 0 {
			t.Errorf("List = %v, %v; want nothing", list, err)
		}
	})
}

func TestList(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	putActive(t, s, testShare(t, "w2", "bob", 1))
	putActive(t, s, testShare(t, "w1", "carol", 1))
	putActive(t, s, testShare(t, "w1", "alice", 1))
	putActive(t, s, testShare(t, "w1", "alice", 2))
	if err := s.PutPending(testShare(t, "w1", "alice", 3)); err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.WalletID+"/"+e.PartyID+"/"+strconv.FormatUint(e.Epoch, 10)+"/"+string(e.State))
	}
	want := "w1/alice/2/active w1/alice/3/pending w1/carol/1/active w2/bob/1/active"
	if strings.Join(got, " ") != want {
		t.Errorf("List =\n %v\nwant\n %v", strings.Join(got, " "), want)
	}
	t.Run("entries carry the metadata", func(t *testing.T) {
		if e := list[0]; e.Scheme != shares.SchemeECDSA || e.Required != 2 || len(e.Parties) != 3 {
			t.Errorf("entry = %+v", e)
		}
	})
}

func TestPutPendingRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   []uint64 // epochs made active in order; a trailing 0 then the pending epoch
		share   func(t *testing.T) *shares.Share
		kind    error
		message string
	}{
		{"a wallet's first share must be epoch 1", nil,
			func(t *testing.T) *shares.Share { return testShare(t, "w", "alice", 2) },
			shares.ErrInvalid, "the first share of a wallet must be epoch 1, not 2"},
		{"a refresh must move the epoch forward", []uint64{1, 2},
			func(t *testing.T) *shares.Share { return testShare(t, "w", "alice", 2) },
			shares.ErrInvalid, "epoch 2 is not after the active epoch 2"},
		{"a second pending epoch is refused", []uint64{1, 0, 2},
			func(t *testing.T) *shares.Share { return testShare(t, "w", "alice", 3) },
			shares.ErrPending, "store pending share for w (party alice, epoch 3): epoch 2 is already pending; commit or discard it first"},
		{"the same pending epoch cannot be put twice", []uint64{0, 1},
			func(t *testing.T) *shares.Share { return testShare(t, "w", "alice", 1) },
			shares.ErrPending, "epoch 1 is already pending"},
		{"a wallet id with a slash is refused", nil,
			func(t *testing.T) *shares.Share { return testShare(t, "../w", "alice", 1) },
			shares.ErrInvalid, `invalid wallet id "../w"`},
		{"a wallet id over 64 characters is refused", nil,
			func(t *testing.T) *shares.Share { return testShare(t, strings.Repeat("w", 65), "alice", 1) },
			shares.ErrInvalid, "invalid wallet id"},
		{"an empty party id is refused", nil,
			func(t *testing.T) *shares.Share { return testShare(t, "w", "", 1) },
			shares.ErrInvalid, `invalid party id ""`},
		{"a party id with a NUL byte is refused", nil,
			func(t *testing.T) *shares.Share { return testShare(t, "w", "a\x00", 1) },
			shares.ErrInvalid, `invalid party id "a\x00"`},
		{"a party id over 32 bytes is refused", nil,
			func(t *testing.T) *shares.Share { return testShare(t, "w", strings.Repeat("p", 33), 1) },
			shares.ErrInvalid, "use 1 to 32 printable ASCII characters"},
		{"an unknown scheme is refused", nil,
			func(t *testing.T) *shares.Share { sh := testShare(t, "w", "alice", 1); sh.Scheme = "rsa"; return sh },
			shares.ErrInvalid, `unknown scheme "rsa"`},
		{"an empty secret is refused", nil,
			func(t *testing.T) *shares.Share { sh := testShare(t, "w", "alice", 1); sh.Secret = nil; return sh },
			shares.ErrInvalid, "the secret is empty"},
		{"a party outside the wallet's parties is refused", nil,
			func(t *testing.T) *shares.Share {
				sh := testShare(t, "w", "alice", 1)
				sh.Parties = []string{"x", "y"}
				return sh
			},
			shares.ErrInvalid, "the party is not among the wallet's parties"},
		{"required above the number of parties is refused", nil,
			func(t *testing.T) *shares.Share { sh := testShare(t, "w", "alice", 1); sh.Required = 4; return sh },
			shares.ErrInvalid, "required is 4, want 1 to 3"},
		{"a nil share is refused", nil,
			func(t *testing.T) *shares.Share { return nil },
			shares.ErrInvalid, "store pending share: no share given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newStore(t)
			pending := false
			for _, e := range tt.setup {
				switch {
				case e == 0:
					pending = true
				case pending:
					if err := s.PutPending(testShare(t, "w", "alice", e)); err != nil {
						t.Fatal(err)
					}
				default:
					putActive(t, s, testShare(t, "w", "alice", e))
				}
			}
			err := s.PutPending(tt.share(t))
			wantErr(t, err, tt.kind, tt.message)
		})
	}
}

func TestCommitAndDiscardRules(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	putActive(t, s, testShare(t, "w", "alice", 1))
	if err := s.PutPending(testShare(t, "w", "alice", 2)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		op      func() error
		kind    error
		message string
	}{
		{"committing an epoch that is not the pending one is refused",
			func() error { return s.Commit("w", "alice", 3) },
			shares.ErrPending, "commit share for w (party alice, epoch 3): epoch 2 is pending, not 3"},
		{"discarding an epoch that is not the pending one is refused",
			func() error { return s.Discard("w", "alice", 1) },
			shares.ErrPending, "epoch 2 is pending, not 1"},
		{"committing with nothing pending says so",
			func() error { return s.Commit("w", "bob", 1) },
			shares.ErrNotFound, "commit share for w (party bob, epoch 1): no epoch is pending"},
		{"committing with an invalid wallet id is refused",
			func() error { return s.Commit("w/x", "alice", 2) },
			shares.ErrInvalid, `invalid wallet id "w/x"`},
		{"reading with an invalid party id is refused",
			func() error { _, err := s.Active("w", strings.Repeat("p", 40)); return err },
			shares.ErrInvalid, "invalid party id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.op(), tt.kind, tt.message)
		})
	}
	t.Run("after the refusals the pending epoch is intact", func(t *testing.T) {
		if sh, err := s.Pending("w", "alice"); err != nil || sh.Epoch != 2 {
			t.Fatalf("Pending = %v, %v", sh, err)
		}
	})
}
