package backup_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/backup"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/shares"
)

const walletID = "wal_aaaaaaaaaaaaaaaa"

// fixture is ana's share of a 2-of-3 Schnorr wallet whose party IDs are
// real identity fingerprints (FROST keygen takes milliseconds).
type fixture struct {
	ana   *identity.Identity
	share *shares.Share
}

var theFixture = sync.OnceValues(func() (*fixture, error) {
	var ids []*identity.Identity
	var pids []party.ID
	for _, n := range []string{"ana", "ben", "vault"} {
		id, err := identity.New(n)
		if err != nil {
			return nil, err
		}
		ids, pids = append(ids, id), append(pids, id.PartyID())
	}
	out, _ := ceremonytest.RunAll(context.Background(), ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, pids...), nil)
	sh := out[pids[0]]
	if sh.Err != nil {
		return nil, sh.Err
	}
	secret, err := sh.Result.Share.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var parties []string
	for _, p := range sh.Result.Share.Parties() {
		parties = append(parties, string(p))
	}
	return &fixture{ana: ids[0], share: &shares.Share{Meta: shares.Meta{WalletID: walletID, PartyID: string(pids[0]), Epoch: 3,
		Scheme: shares.SchemeSchnorr, Required: 2, Parties: parties, PublicKey: sh.Result.Share.PublicKey(),
		ConfigDigest: sh.Result.Share.ConfigDigest(), CreatedAt: time.Date(2026, 3, 2, 8, 15, 0, 0, time.UTC)}, Secret: secret}}, nil
})

func contents(t *testing.T, enc string) *backup.Contents {
	t.Helper()
	f, err := theFixture()
	if err != nil {
		t.Fatal(err)
	}
	sh := *f.share
	sh.Secret = bytes.Clone(f.share.Secret)
	w := &home.Wallet{ID: walletID, Name: "ops", Chain: "bitcoin", Scheme: "schnorr", Required: 2, Epoch: 3}
	return &backup.Contents{Header: backup.NewHeader(&sh, f.ana, w, enc, time.Date(2026, 11, 22, 10, 14, 0, 0, time.UTC)),
		Share: &sh, Identity: f.ana, Wallet: w}
}

var pass = []byte("correct horse battery staple")

func sealPassphrase(t *testing.T) []byte {
	t.Helper()
	r, err := backup.PassphraseRecipient(pass, 10)
	if err != nil {
		t.Fatal(err)
	}
	file, err := backup.Seal(contents(t, backup.EncPassphrase), r)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func openPassphrase(file []byte, p []byte) (*backup.Contents, error) {
	id, err := backup.PassphraseIdentity(p)
	if err != nil {
		return nil, err
	}
	return backup.Open(file, id)
}

func TestRoundTripWithAPassphraseGivesBackTheShareAndIdentity(t *testing.T) {
	want := contents(t, backup.EncPassphrase)
	file := sealPassphrase(t)
	if bytes.Contains(file, want.Share.Secret) || bytes.Contains(file, want.Identity.Secret()) {
		t.Fatal("the file holds a secret in the clear")
	}
	if !strings.HasPrefix(string(file), "paratro-share-backup v1\n{") || !strings.Contains(string(file), "-----BEGIN AGE ENCRYPTED FILE-----") {
		t.Fatalf("layout:\n%s", file)
	}
	got, err := openPassphrase(file, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Wipe()
	if got.Header != want.Header || !bytes.Equal(got.Share.Secret, want.Share.Secret) || got.Share.Epoch != 3 ||
		!got.Share.CreatedAt.Equal(want.Share.CreatedAt) || !got.Identity.Public.Equal(want.Identity.Public) ||
		got.Wallet == nil || got.Wallet.Name != "ops" {
		t.Fatalf("got %+v, want %+v", got.Header, want.Header)
	}
	h, _, _, err := backup.ParseHeader(file)
	if err != nil || h.Encryption != backup.EncPassphrase || h.PartyName != "ana" || h.Chain != "bitcoin" || h.Total != 3 {
		t.Fatalf("header %+v, %v", h, err)
	}
}

func TestRoundTripWithAgeRecipients(t *testing.T) {
	one, _ := age.GenerateX25519Identity()
	two, _ := age.GenerateX25519Identity()
	file, err := backup.Seal(contents(t, backup.EncRecipients), one.Recipient(), two.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []*age.X25519Identity{one, two} {
		got, err := backup.Open(file, id)
		if err != nil {
			t.Fatal(err)
		}
		got.Wipe()
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := backup.Open(file, other); !errors.Is(err, backup.ErrDecrypt) {
		t.Fatalf("another identity: %v, want ErrDecrypt", err)
	}
	if _, err := openPassphrase(file, pass); !errors.Is(err, backup.ErrDecrypt) {
		t.Fatalf("a passphrase on a recipients file: %v, want ErrDecrypt", err)
	}
}

func TestAWrongPassphraseIsRefused(t *testing.T) {
	_, err := openPassphrase(sealPassphrase(t), []byte("not the passphrase"))
	if !errors.Is(err, backup.ErrDecrypt) || strings.Contains(err.Error(), string(pass)) {
		t.Fatalf("got %v, want ErrDecrypt", err)
	}
}

func TestATruncatedFileIsRefused(t *testing.T) {
	file := sealPassphrase(t)
	for _, n := range []int{0, 10, len("paratro-share-backup v1\n") + 20, bytes.Index(file, []byte("-----BEGIN")) + 40, len(file) / 2, len(file) - 40} {
		if _, err := openPassphrase(file[:n], pass); !errors.Is(err, backup.ErrFormat) && !errors.Is(err, backup.ErrTampered) {
			t.Errorf("cut at %d of %d: %v, want ErrFormat or ErrTampered", n, len(file), err)
		}
	}
}

func TestAnEditedHeaderIsDetected(t *testing.T) {
	for _, edit := range [][2]string{{`"epoch":3`, `"epoch":4`}, {`"wallet_name":"ops"`, `"wallet_name":"opz"`}, {`"party_name":"ana"`, `"party_name":"ann"`}} {
		file := bytes.Replace(sealPassphrase(t), []byte(edit[0]), []byte(edit[1]), 1)
		if _, err := openPassphrase(file, pass); !errors.Is(err, backup.ErrTampered) {
			t.Errorf("%s → %s: %v, want ErrTampered", edit[0], edit[1], err)
		}
	}
}

func TestAnEditedPayloadIsDetected(t *testing.T) {
	file := sealPassphrase(t)
	// Change one base64 character in the middle of the armored payload.
	i := bytes.Index(file, []byte("-----BEGIN AGE ENCRYPTED FILE-----\n")) + 36 + (len(file)-bytes.Index(file, []byte("-----BEGIN")))/2
	edited := bytes.Clone(file)
	if edited[i] == 'A' {
		edited[i] = 'B'
	} else {
		edited[i] = 'A'
	}
	if _, err := openPassphrase(edited, pass); err == nil || errors.Is(err, backup.ErrDecrypt) {
		t.Fatalf("an edited payload: %v, want an error that is not a passphrase problem", err)
	}
}

func TestSealRefusesAShareThatDoesNotMatchItsIdentity(t *testing.T) {
	c := contents(t, backup.EncPassphrase)
	other, _ := identity.New("ana")
	c.Identity = other
	r, _ := backup.PassphraseRecipient(pass, 10)
	if _, err := backup.Seal(c, r); !errors.Is(err, backup.ErrTampered) {
		t.Fatalf("got %v", err)
	}
	c = contents(t, backup.EncPassphrase)
	c.Share.Secret[len(c.Share.Secret)/2] ^= 1
	if _, err := backup.Seal(c, r); !errors.Is(err, backup.ErrTampered) {
		t.Fatalf("a damaged secret: %v", err)
	}
}
