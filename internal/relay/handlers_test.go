package relay

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/identity"
)

func TestAnUnregisteredCallerIsToldToRegister(t *testing.T) {
	r := startRelay(t, Config{})
	c := r.client(t, newIdentity(t, "eve"))
	_, err := c.Roster(ctx(t))
	ae := apiErr(t, err, http.StatusForbidden, "register_first")
	if !strings.Contains(ae.Error(), "register first: run paratro party run") || !strings.HasSuffix(ae.Error(), "(HTTP 403)") {
		t.Errorf("message = %q", ae.Error())
	}
	_, err = c.Inbox(ctx(t), 0, 0)
	apiErr(t, err, http.StatusForbidden, "register_first")
}

func TestRegistration(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob")

	t.Run("registering again changes nothing", func(t *testing.T) {
		if err := ps[0].c.Register(ctx(t)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the roster lists every identity by name", func(t *testing.T) {
		got, err := ps[1].c.Roster(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !got[0].Equal(ps[0].id.Public) || !got[1].Equal(ps[1].id.Public) {
			t.Fatalf("roster = %v", got)
		}
	})
	t.Run("another key cannot take a registered name", func(t *testing.T) {
		err := r.client(t, newIdentity(t, "alice")).Register(ctx(t))
		ae := apiErr(t, err, http.StatusConflict, "name_taken")
		if !strings.Contains(ae.Message, "name taken") {
			t.Errorf("message = %q", ae.Message)
		}
	})
	t.Run("nobody registers an identity whose key they do not sign with", func(t *testing.T) {
		body, _ := json.Marshal(ps[1].id.Public)
		eve := newIdentity(t, "eve")
		resp := send(t, r.signed(t, eve, http.MethodPut, "/v1/identities/self", body, time.Now()))
		if resp.status != http.StatusBadRequest || resp.body.Error != "wrong_key" {
			t.Fatalf("got %d %s", resp.status, resp.raw)
		}
	})
}

func TestCreatingACeremony(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob", "carol")
	alice, bob, carol := ps[0], ps[1], ps[2]
	deadline := time.Now().Add(time.Hour).Truncate(time.Second)
	cc := CreateCeremony{ID: newCeremonyID(), Members: []identity.Public{bob.id.Public, carol.id.Public},
		Request: requestStatement(alice.fp()), Deadline: deadline}
	if err := alice.c.CreateCeremony(ctx(t), cc); err != nil {
		t.Fatal(err)
	}

	t.Run("adds the initiator as a member", func(t *testing.T) {
		got, err := bob.c.Ceremony(ctx(t), cc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Initiator != alice.fp() || len(got.Members) != 3 || !got.Members[2].Equal(alice.id.Public) ||
			!bytes.Equal(got.Request, cc.Request) || !got.Deadline.Equal(deadline) || got.CreatedAt.IsZero() {
			t.Fatalf("ceremony = %+v", got)
		}
	})
	t.Run("announces it in every member's inbox, the initiator's too (its own party may take part)", func(t *testing.T) {
		for _, p := range []party{alice, bob, carol} {
			items, err := p.c.Inbox(ctx(t), 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].Seq != 1 || items[0].CeremonyID != cc.ID || items[0].Initiator != alice.fp() {
				t.Fatalf("%s's inbox = %+v", p.id.Name, items)
			}
		}
	})
	t.Run("is idempotent", func(t *testing.T) {
		if err := alice.c.CreateCeremony(ctx(t), cc); err != nil {
			t.Fatal(err)
		}
		if items, _ := bob.c.Inbox(ctx(t), 0, 0); len(items) != 1 {
			t.Fatalf("inbox after a repeat = %+v", items)
		}
	})
	t.Run("refuses other content under the same id", func(t *testing.T) {
		other := cc
		other.Request = []byte("another descriptor")
		apiErr(t, alice.c.CreateCeremony(ctx(t), other), http.StatusConflict, "ceremony_exists")
		apiErr(t, bob.c.CreateCeremony(ctx(t), cc), http.StatusConflict, "ceremony_exists")
	})
	t.Run("refuses an unregistered member", func(t *testing.T) {
		bad := cc
		bad.ID = newCeremonyID()
		bad.Members = []identity.Public{bob.id.Public, newIdentity(t, "dave").Public}
		ae := apiErr(t, alice.c.CreateCeremony(ctx(t), bad), http.StatusBadRequest, "unknown_member")
		if !strings.Contains(ae.Message, "dave") {
			t.Errorf("message = %q", ae.Message)
		}
	})
	for _, tt := range []struct {
		name   string
		change func(*CreateCeremony)
	}{
		{"a malformed id", func(c *CreateCeremony) { c.ID = strings.ToUpper(c.ID) }},
		{"a member listed twice", func(c *CreateCeremony) { c.Members = append(c.Members, bob.id.Public) }},
		{"no member but the initiator", func(c *CreateCeremony) { c.Members = []identity.Public{alice.id.Public} }},
		{"a deadline in the past", func(c *CreateCeremony) { c.Deadline = time.Now().Add(-time.Minute) }},
		{"a deadline months ahead", func(c *CreateCeremony) { c.Deadline = time.Now().Add(90 * 24 * time.Hour) }},
	} {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			bad := cc
			bad.ID = newCeremonyID()
			tt.change(&bad)
			apiErr(t, alice.c.CreateCeremony(ctx(t), bad), http.StatusBadRequest, "bad_ceremony")
		})
	}
}

func TestANonMemberCannotReadOrWriteACeremonyAndIsLogged(t *testing.T) {
	r := startRelay(t, Config{})
	ps := r.register(t, "alice", "bob", "mallory")
	mallory := ps[2]
	cid := openCeremony(t, ps[0], ps[1])
	calls := map[string]func() error{
		"read the ceremony": func() error { _, err := mallory.c.Ceremony(ctx(t), cid); return err },
		"read the mailbox":  func() error { _, err := mallory.c.Messages(ctx(t), cid, 0, 0); return err },
		"post to it":        func() error { _, err := mallory.c.Post(ctx(t), cid, KindControl, []byte("hi")); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			ae := apiErr(t, call(), http.StatusForbidden, "forbidden")
			if ae.Message != "not a member of this ceremony" {
				t.Errorf("message = %q", ae.Message)
			}
		})
	}
	recs := r.logs.records("ceremony access refused")
	if len(recs) != len(calls) {
		t.Fatalf("%d log lines, want %d:\n%s", len(recs), len(calls), r.logs)
	}
	for _, rec := range recs {
		if rec["level"] != "WARN" || rec["identity"] != mallory.fp() || rec["name"] != "mallory" ||
			rec["ceremony"] != cid || !strings.HasPrefix(rec["path"].(string), "/v1/ceremonies/"+cid) {
			t.Errorf("log line = %v", rec)
		}
	}
}

func TestAnUnknownCeremonyIsNotFound(t *testing.T) {
	r := startRelay(t, Config{})
	alice := r.register(t, "alice")[0]
	_, err := alice.c.Ceremony(ctx(t), newCeremonyID())
	apiErr(t, err, http.StatusNotFound, "not_found")
}
