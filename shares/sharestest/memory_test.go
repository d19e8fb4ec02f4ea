package sharestest_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
)

func TestMemoryKeyring(t *testing.T) {
	t.Parallel()
	t.Run("values are copied in and out", func(t *testing.T) {
		kr := sharestest.NewMemoryKeyring()
		in := []byte("secret")
		kr.Set("a", in)
		in[0] = 'X'
		out, _ := kr.Get("a")
		out[1] = 'Y'
		if got, _ := kr.Get("a"); string(got) != "secret" {
			t.Errorf("stored value changed to %q", got)
		}
	})
	t.Run("missing names match shares.ErrNotFound", func(t *testing.T) {
		kr := sharestest.NewMemoryKeyring()
		if _, err := kr.Get("a"); !errors.Is(err, shares.ErrNotFound) {
			t.Errorf("Get: %v", err)
		}
		if err := kr.Delete("a"); !errors.Is(err, shares.ErrNotFound) {
			t.Errorf("Delete: %v", err)
		}
	})
	t.Run("instances share nothing", func(t *testing.T) {
		a, b := sharestest.NewMemoryKeyring(), sharestest.NewMemoryKeyring()
		a.Set("x", []byte("1"))
		if _, err := b.Get("x"); err == nil {
			t.Error("a value set in one keyring shows in another")
		}
	})
	t.Run("concurrent use is safe", func(t *testing.T) {
		kr := sharestest.NewMemoryKeyring()
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				name := fmt.Sprint(i)
				for range 100 {
					kr.Set(name, []byte(name))
					kr.Get(name)
					kr.Names()
				}
				kr.Delete(name)
			})
		}
		wg.Wait()
		if n := len(kr.Names()); n != 0 {
			t.Errorf("%d names left", n)
		}
	})
	t.Run("it describes itself", func(t *testing.T) {
		if d := sharestest.NewMemoryKeyring().Describe(); d != "memory keyring" {
			t.Errorf("Describe = %q", d)
		}
	})
}
