package shares_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/paratro/paratro/shares"
)

// realService is the Secret Service "service" attribute the real-keyring
// test writes under; scripts/test-real-keyring.sh inspects it.
const realService = "paratro-test"

// TestRealOSKeyring talks to the machine's real keyring. It runs only with
// PARATRO_REAL_KEYRING=1, inside the session that scripts/with-keyring.sh
// sets up (see scripts/test-real-keyring.sh). It removes everything it
// writes, except a probe entry holding PARATRO_REAL_KEYRING_PROBE, which the
// script reads back with secret-tool and then deletes.
func TestRealOSKeyring(t *testing.T) {
	if os.Getenv("PARATRO_REAL_KEYRING") != "1" {
		t.Skip("set PARATRO_REAL_KEYRING=1 and run under scripts/test-real-keyring.sh")
	}
	kr := shares.NewOSKeyring(realService, 20*time.Second)

	t.Run("set, overwrite, get and delete work, for 3 KB and 10 KB values too", func(t *testing.T) {
		const name = "paratro-real-keyring-roundtrip"
		t.Cleanup(func() { kr.Delete(name) })
		for _, v := range [][]byte{[]byte("first"), []byte("second"), randomBytes(3 * 1024), randomBytes(10 * 1024)} {
			mustSet(t, kr, name, v)
			got, err := kr.Get(name)
			if err != nil || !bytes.Equal(got, v) {
				t.Fatalf("Get after Set of %d bytes = %d bytes, %v", len(v), len(got), err)
			}
		}
		if err := kr.Delete(name); err != nil {
			t.Fatal(err)
		}
		_, err := kr.Get(name)
		wantErr(t, err, shares.ErrNotFound)
		wantErr(t, kr.Delete(name), shares.ErrNotFound)
	})

	t.Run("a store keeps its key in the OS keyring", func(t *testing.T) {
		dir := t.TempDir()
		s, err := shares.Open(dir, kr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { kr.Delete(shares.KEKName(s)) })
		sh := testShare(t, "w-real", "alice", 1)
		putActive(t, s, sh)
		putActive(t, s, testShare(t, "w-real", "alice", 2))
		again, err := shares.Open(dir, kr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := again.Active("w-real", "alice")
		if err != nil || got.Epoch != 2 {
			t.Fatalf("Active = %v, %v", got, err)
		}
		kek, err := kr.Get(shares.KEKName(s))
		if err != nil || len(kek) != 32 {
			t.Fatalf("KEK in the OS keyring: %d bytes, %v", len(kek), err)
		}
		if err := kr.Delete(shares.KEKName(s)); err != nil {
			t.Fatal(err)
		}
		_, err = again.Active("w-real", "alice")
		wantErr(t, err, shares.ErrKEKMissing, kr.Describe()+" no longer holds the key")
	})

	t.Run("a probe entry is left for the script to find", func(t *testing.T) {
		probe := os.Getenv("PARATRO_REAL_KEYRING_PROBE")
		if probe == "" {
			t.Skip("PARATRO_REAL_KEYRING_PROBE is not set")
		}
		mustSet(t, kr, "paratro-real-keyring-probe", []byte(probe))
		got, err := kr.Get("paratro-real-keyring-probe")
		if err != nil || string(got) != probe {
			t.Fatalf("probe read back as %q, %v", got, err)
		}
	})
}
