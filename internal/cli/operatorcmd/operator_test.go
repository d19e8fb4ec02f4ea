package operatorcmd

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/cli/exitcode"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
	"github.com/paratro/paratro/shares/sharestest"
)

// testRelay is a relay on httptest whose first owner is ana.
type testRelay struct {
	url string
}

func newTestRelay(t *testing.T) (*testRelay, *cmdutil.Operator) {
	t.Helper()
	dir := t.TempDir()
	st, err := relay.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := relay.NewServer(st, relay.Config{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	r := &testRelay{url: ts.URL}
	ana := r.operator(t, "ana")
	if err := relay.WriteBootstrap(dir, ana.Home.ID.Public); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	srv.WatchBootstrap(done, dir, time.Hour) // takes the file once, then returns
	return r, ana
}

// operator makes an identity called name, registered with the relay.
func (r *testRelay) operator(t *testing.T, name string) *cmdutil.Operator {
	t.Helper()
	h, err := home.Init(t.TempDir(), sharestest.NewMemoryKeyring(), name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := relay.NewClient(r.url, h.ID, relay.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	op := cmdutil.NewOperator(h, c, r.url)
	if err := op.Register(t.Context()); err != nil {
		t.Fatal(err)
	}
	return op
}

func as(op *cmdutil.Operator) func() (*cmdutil.Operator, error) {
	return func() (*cmdutil.Operator, error) { return op, nil }
}

func TestAddListRemove(t *testing.T) {
	r, ana := newTestRelay(t)
	ben := r.operator(t, "ben")

	ios, _, out, _ := iostreams.Test()
	if err := addRun(t.Context(), &addOptions{IO: ios, Open: as(ana), Who: "ben", Role: relay.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^ben \([0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4}\) is admin\n$`).MatchString(out.String()) {
		t.Errorf("add printed %q", out)
	}

	ios, _, out, _ = iostreams.Test()
	if err := listRun(t.Context(), &listOptions{IO: ios, Open: as(ben), Format: output.FormatTable}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^NAME +FINGERPRINT +ROLE +MFA +ADDED$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^ana +[0-9a-f ]{19} +owner +- +\d{4}-\d\d-\d\d \d\d:\d\d$`).MatchString(lines[1]) ||
		!strings.HasPrefix(lines[2], "ben ") {
		t.Errorf("list table:\n%s", out)
	}

	ios, _, out, _ = iostreams.Test()
	if err := listRun(t.Context(), &listOptions{IO: ios, Open: as(ben), Format: output.FormatJSON}); err != nil {
		t.Fatal(err)
	}
	var got []operatorJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 2 || got[1].Role != "admin" ||
		got[1].AddedBy != ana.Home.ID.Fingerprint() || got[1].MFA.Enrolled {
		t.Errorf("list JSON %s: %+v %v", out, got, err)
	}

	// an admin may not manage operators: exit 6, with a hint
	ios, _, _, _ = iostreams.Test()
	err := removeRun(t.Context(), &removeOptions{IO: ios, Open: as(ben), Who: "ana"})
	if exitcode.For(err) != exitcode.AccessRefused || len(cmdutil.Hints(err)) == 0 {
		t.Errorf("remove by an admin: %v (exit %d)", err, exitcode.For(err))
	}

	ios, _, out, _ = iostreams.Test()
	if err := removeRun(t.Context(), &removeOptions{IO: ios, Open: as(ana), Who: "ben", Format: output.FormatJSON}); err != nil {
		t.Fatal(err)
	}
	var removed removedJSON
	if err := json.Unmarshal(out.Bytes(), &removed); err != nil || removed.Name != "ben" || !removed.Removed || removed.Role != "admin" {
		t.Errorf("remove JSON %s", out)
	}
	ios, _, _, _ = iostreams.Test()
	err = listRun(t.Context(), &listOptions{IO: ios, Open: as(ben)})
	if exitcode.For(err) != exitcode.AccessRefused {
		t.Errorf("list by a removed operator: %v (exit %d)", err, exitcode.For(err))
	}
}

func TestAddFlags(t *testing.T) {
	tests := []struct {
		argv    string
		want    relay.Role
		wantErr string
	}{
		{"add ben --role admin", relay.RoleAdmin, ""},
		{"add ben --role OWNER", relay.RoleOwner, ""},
		{"set-role ben --role viewer", relay.RoleViewer, ""},
		{"add ben", "", "give --role"},
		{"add ben --role root", "", `invalid --role "root"`},
		{"add --role admin", "", "needs the operator's name or fingerprint"},
	}
	for _, tt := range tests {
		t.Run(tt.argv, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IO: ios, Now: time.Now, Getenv: func(string) string { return "" }}
			var got *addOptions
			cmd := newCmdAdd(f, func(_ context.Context, o *addOptions) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.argv)[1:])
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitcode.For(err) != exitcode.Usage {
					t.Fatalf("err = %v, want a usage error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Who != "ben" || got.Role != tt.want {
				t.Fatalf("err = %v, options %+v", err, got)
			}
		})
	}
}
