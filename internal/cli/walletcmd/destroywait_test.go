package walletcmd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares/sharestest"
)

// erasingRelay answers the second owner's destroy with the erasure
// running, and then each GET of the wallet with the next record of
// records (the last one repeated).
func erasingRelay(t *testing.T, records ...string) *cmdutil.Operator {
	t.Helper()
	var gets atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPut:
			w.Write([]byte("{}"))
		case r.Method == http.MethodGet && r.URL.Path == "/v1/wallets/ops":
			w.Write([]byte(`{"id":"wal_aaaaaaaaaaaaaaaa","name":"ops","status":"active"}`))
		case r.Method == http.MethodPost:
			w.Write([]byte(`{"status":"destroyed","approvals":["ana","ben"],"needed":2,"erasure":` + records[0] + `}`))
		case r.Method == http.MethodGet && r.URL.Path == "/v1/wallets/wal_aaaaaaaaaaaaaaaa":
			n := min(int(gets.Add(1)), len(records)-1)
			w.Write([]byte(`{"id":"wal_aaaaaaaaaaaaaaaa","name":"ops","status":"destroyed","erasure":` + records[n] + `}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"not_found","message":"no such wallet"}`))
		}
	}))
	t.Cleanup(ts.Close)
	h, err := home.Init(t.TempDir(), sharestest.NewMemoryKeyring(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	c, err := relay.NewClient(ts.URL, h.ID, relay.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cmdutil.NewOperator(h, c, ts.URL)
}

func erasure(status string, parties ...string) string {
	var ps []string
	for _, p := range parties {
		name, st, _ := strings.Cut(p, "=")
		ps = append(ps, `{"name":"`+name+`","status":"`+st+`","error":"no rule allows it"}`)
	}
	return `{"status":"` + status + `","deadline":"2026-11-21T10:00:00Z","parties":[` + strings.Join(ps, ",") + `]}`
}

func TestDestroyWaitsForTheErasure(t *testing.T) {
	running := erasure("running", "ana=waiting", "ben=waiting", "vault=waiting")
	tests := []struct {
		name     string
		records  []string
		wantExit int
		wantOut  []string
		wantErr  []string // on stderr
	}{
		{"every party erased: exit 0", []string{running, erasure("running", "ana=erased", "ben=waiting", "vault=waiting"),
			erasure("done", "ana=erased", "ben=erased", "vault=erased")}, exitcode.OK,
			[]string{"shares erased by: ana, ben, vault", "not erased by:    none"}, []string{"erasure: ana erased its share", "erasure: vault erased its share"}},
		{"a party rejected: exit 1", []string{running, erasure("incomplete", "ana=erased", "ben=erased", "vault=rejected")}, exitcode.Failure,
			[]string{"shares erased by: ana, ben", "not erased by:    vault"}, []string{"vault did not erase its share (rejected): no rule allows it"}},
		{"a party never answered: exit 124", []string{running, erasure("running", "ana=erased", "ben=erased", "vault=waiting")}, exitcode.TimedOut,
			[]string{"not erased by:    vault (no answer yet)"}, []string{"waiting up to 1.5s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, ios := destroyOpts(erasingRelay(t, tt.records...), "123456")
			opts.Timeout = 1500 * time.Millisecond
			err := destroyRun(t.Context(), opts)
			if exitcode.For(err) != tt.wantExit {
				t.Fatalf("err = %v (exit %d), want exit %d", err, exitcode.For(err), tt.wantExit)
			}
			out, errOut := ios.Out.(interface{ String() string }).String(), ios.ErrOut.(interface{ String() string }).String()
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout %q lacks %q", out, w)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
	t.Run("--output json lists the parties by answer", func(t *testing.T) {
		t.Parallel()
		opts, ios := destroyOpts(erasingRelay(t, running, erasure("incomplete", "ana=erased", "ben=failed", "vault=rejected")), "123456")
		opts.Timeout, opts.Format = 5*time.Second, output.FormatJSON
		if err := destroyRun(t.Context(), opts); exitcode.For(err) != exitcode.Failure {
			t.Fatalf("err = %v", err)
		}
		var got destroyJSON
		if err := json.Unmarshal([]byte(ios.Out.(interface{ String() string }).String()), &got); err != nil || got.Erasure == nil {
			t.Fatalf("JSON %+v, %v", got, err)
		}
		if e := got.Erasure; e.Status != "incomplete" || strings.Join(e.Erased, ",") != "ana" || strings.Join(e.NotErased, ",") != "ben,vault" || len(e.Waiting) != 0 {
			t.Errorf("erasure %+v", e)
		}
	})
}
