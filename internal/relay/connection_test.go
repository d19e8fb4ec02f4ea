package relay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/identity"
)

// A client reports the relay answering, going away (503s it rides through)
// and answering again, each change once.
func TestClientReportsConnectionChanges(t *testing.T) {
	var calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 2, 3: // the relay is restarting
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name":"relay"}`))
	}))
	defer hs.Close()
	id, err := identity.New("ana")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []bool
	c, err := NewClient(hs.URL, id, ClientOptions{OnConnection: func(up bool) {
		mu.Lock()
		got = append(got, up)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 { // 1: up; 2, 3: down then retried to 4: up; 5: up
		if _, err := c.Info(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, []bool{true, false, true}) {
		t.Fatalf("connection changes %v, want [true false true]", got)
	}
}
