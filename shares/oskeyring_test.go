package shares_test

import (
	"encoding/base64"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/paratro/paratro/shares"
)

// fakeBackend stands in for go-keyring: a map, or a keyring that hangs.
type fakeBackend struct {
	mu      sync.Mutex
	values  map[string]string
	hang    chan struct{} // when set, every call blocks until it is closed
	failure error
}

func (b *fakeBackend) wait() error {
	if b.hang != nil {
		<-b.hang
	}
	return b.failure
}

func (b *fakeBackend) Get(service, user string) (string, error) {
	if err := b.wait(); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.values[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (b *fakeBackend) Set(service, user, pw string) error {
	if err := b.wait(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.values[service+"/"+user] = pw
	return nil
}

func (b *fakeBackend) Delete(service, user string) error {
	if err := b.wait(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.values[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(b.values, service+"/"+user)
	return nil
}

func TestOSKeyringAdapter(t *testing.T) {
	t.Parallel()
	t.Run("secrets are stored base64 under the service and read back", func(t *testing.T) {
		b := &fakeBackend{values: map[string]string{}}
		kr := shares.NewOSKeyringWith(b, time.Second)
		secret := []byte{0, 1, 2, 0xff, 'x'}
		mustSet(t, kr, "paratro-share-kek/abc", secret)
		if got := b.values["paratro-test/paratro-share-kek/abc"]; got != base64.StdEncoding.EncodeToString(secret) {
			t.Errorf("stored %q", got)
		}
		got, err := kr.Get("paratro-share-kek/abc")
		if err != nil || string(got) != string(secret) {
			t.Errorf("Get = %x, %v", got, err)
		}
	})
	t.Run("go-keyring's not-found becomes ErrNotFound", func(t *testing.T) {
		kr := shares.NewOSKeyringWith(&fakeBackend{values: map[string]string{}}, time.Second)
		_, err := kr.Get("missing")
		wantErr(t, err, shares.ErrNotFound, "read missing in OS keyring")
		wantErr(t, kr.Delete("missing"), shares.ErrNotFound)
	})
	t.Run("a value that is not base64 is an error, not a secret", func(t *testing.T) {
		b := &fakeBackend{values: map[string]string{"paratro-test/x": "not base64!"}}
		_, err := shares.NewOSKeyringWith(b, time.Second).Get("x")
		if err == nil || errors.Is(err, shares.ErrNotFound) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("other keyring errors keep their cause", func(t *testing.T) {
		cause := errors.New(`exec: "dbus-launch": executable file not found in $PATH`)
		kr := shares.NewOSKeyringWith(&fakeBackend{failure: cause}, time.Second)
		err := kr.Set("x", []byte("y"))
		if !errors.Is(err, cause) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a keyring that does not answer times out with a hint", func(t *testing.T) {
		b := &fakeBackend{hang: make(chan struct{})}
		defer close(b.hang)
		kr := shares.NewOSKeyringWith(b, 50*time.Millisecond)
		start := time.Now()
		_, err := kr.Get("x")
		wantErr(t, err, shares.ErrKeyringTimeout, "the OS keyring did not answer within 50ms", "--keyring file")
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
		t.Run("and so does opening a store on it", func(t *testing.T) {
			_, err := shares.Open(t.TempDir(), kr)
			wantErr(t, err, shares.ErrKeyringTimeout)
		})
	})
	t.Run("the description names the OS keyring", func(t *testing.T) {
		want := map[string]string{"darwin": "OS keyring (macOS Keychain)", "windows": "OS keyring (Windows Credential Manager)"}[runtime.GOOS]
		if want == "" {
			want = "OS keyring (Secret Service)"
		}
		if d := shares.NewOSKeyring("paratro", 0).Describe(); d != want {
			t.Errorf("Describe = %q, want %q", d, want)
		}
	})
}
