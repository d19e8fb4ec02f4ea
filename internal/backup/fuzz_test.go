package backup_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/paratro/paratro/internal/backup"
	"github.com/paratro/paratro/internal/fuzzseed"
	"github.com/paratro/paratro/internal/home"
)

// fuzzAgeKey is a TEST-ONLY age identity: the committed corpus of
// FuzzOpen is encrypted to it.
const fuzzAgeKey = "AGE-SECRET-KEY-1TFMVD3PKKX7R6QGAFX0V0FZRSM54DEWQRJMHR6VZMSJ45H64S2JSKRNQ4W"

// FuzzOpen feeds arbitrary files to Open, with the age identity the seeds
// are encrypted to (X25519: a passphrase's scrypt would make each run take
// a second). Refusals match ErrFormat, ErrDecrypt or ErrTampered; an opened
// backup passes Check, its header is the one in the clear, and sealing its
// contents again opens to the same share, identity and header.
func FuzzOpen(f *testing.F) {
	id, err := age.ParseX25519Identity(fuzzAgeKey)
	if err != nil {
		f.Fatal(err)
	}
	c := contentsTB(f, backup.EncRecipients)
	file, err := backup.Seal(c, id.Recipient())
	if err != nil {
		f.Fatal(err)
	}
	fuzzseed.Add(f, file)
	fuzzseed.Add(f, file[:len(file)/2])
	fuzzseed.Add(f, bytes.Replace(file, []byte(`"epoch":3`), []byte(`"epoch":4`), 1))
	other, _ := age.GenerateX25519Identity()
	if wrong, err := backup.Seal(c, other.Recipient()); err == nil {
		fuzzseed.Add(f, wrong)
	}
	fuzzseed.Add(f, []byte("paratro-share-backup v1\n{\"version\":1}\n"))
	fuzzseed.Add(f, []byte("paratro-share-backup v2\n"))
	fuzzseed.Add(f, []byte{})
	f.Fuzz(func(t *testing.T, file []byte) {
		orig := bytes.Clone(file)
		c, err := backup.Open(file, id)
		if !bytes.Equal(file, orig) {
			t.Fatal("Open changed its input")
		}
		if err != nil {
			if !errors.Is(err, backup.ErrFormat) && !errors.Is(err, backup.ErrDecrypt) && !errors.Is(err, backup.ErrTampered) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		defer c.Wipe()
		if err := backup.Check(c); err != nil {
			t.Fatalf("opened a backup that does not check: %v", err)
		}
		h, _, _, err := backup.ParseHeader(file)
		if err != nil || h != c.Header {
			t.Fatalf("opened header %+v, the clear one %+v (%v)", c.Header, h, err)
		}
		again, err := backup.Seal(c, id.Recipient())
		if err != nil {
			t.Fatalf("cannot seal again what was opened: %v", err)
		}
		c2, err := backup.Open(again, id)
		if err != nil {
			t.Fatalf("sealed again, refused: %v", err)
		}
		defer c2.Wipe()
		if c2.Header != c.Header || !bytes.Equal(c2.Share.Secret, c.Share.Secret) ||
			c2.Identity.Fingerprint() != c.Identity.Fingerprint() || c2.Share.WalletID != c.Share.WalletID {
			t.Fatal("open, seal, open changed the contents")
		}
	})
}

// contentsTB is contents for a fuzz target.
func contentsTB(tb testing.TB, enc string) *backup.Contents {
	tb.Helper()
	f, err := theFixture()
	if err != nil {
		tb.Fatal(err)
	}
	sh := *f.share
	sh.Secret = bytes.Clone(f.share.Secret)
	w := &home.Wallet{ID: walletID, Name: "ops", Chain: "bitcoin", Scheme: "schnorr", Required: 2, Epoch: 3}
	return &backup.Contents{Header: backup.NewHeader(&sh, f.ana, w, enc, time.Date(2026, 11, 22, 10, 14, 0, 0, time.UTC)),
		Share: &sh, Identity: f.ana, Wallet: w}
}
