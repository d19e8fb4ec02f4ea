package control

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// A caller of the role matrix: "none" (no credentials), the viewer, and
// for each of operator, admin and owner one operator who holds a share of
// the wallet under test and is a member of the ceremony under test (own)
// and one who is neither (foreign, starred).
type matrixCaller struct {
	key  string // "none", "viewer", "operator", "operator*", ...
	name string // the operator ("" for none)
	role relay.Role
}

var matrixCallers = []matrixCaller{
	{"none", "", ""},
	{"viewer", "viv", relay.RoleViewer},
	{"operator", "vault", relay.RoleOperator},
	{"operator*", "otto", relay.RoleOperator},
	{"admin", "ben", relay.RoleAdmin},
	{"admin*", "adam", relay.RoleAdmin},
	{"owner", "ana", relay.RoleOwner},
	{"owner*", "olga", relay.RoleOwner},
}

// expect is a row's statuses by caller key.
type expect map[string]int

// gate is the expectation of a route for role min and above: ok for
// them, 403 for lower roles, 401 without credentials.
func gate(min relay.Role, ok int) expect {
	e := expect{}
	for _, c := range matrixCallers {
		switch {
		case c.key == "none":
			e[c.key] = http.StatusUnauthorized
		case c.role.AtLeast(min):
			e[c.key] = ok
		default:
			e[c.key] = http.StatusForbidden
		}
	}
	return e
}

// with overrides some cells.
func (e expect) with(cells expect) expect {
	out := expect{}
	for k, v := range e {
		out[k] = v
	}
	for k, v := range cells {
		out[k] = v
	}
	return out
}

// SECURITY.md case 38: every endpoint the relay serves (read from its
// router, the control plane mounted) × {none, viewer, operator, admin,
// owner} × own or foreign object (a wallet the caller holds a share of or
// not, a ceremony it is a member of or not, its own API key, action or
// backup export or another's) answers exactly as DESIGN.md's access table
// and the documented rules allow: create wallet and rotate keys need
// admin (rotate: TOTP), sign operator or admin, backup export and destroy
// owner with TOTP, and everything else the least role its route declares.
// A role refusal is 403 "forbidden", no credentials 401; a route without
// a row here fails the test, so a new endpoint needs a decision.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	var approving atomic.Bool
	approving.Store(true)
	decide := func(context.Context, *coord.Proposal) (coord.Decision, error) {
		return coord.Decision{Approve: approving.Load(), Reason: "the role matrix only asks"}, nil
	}
	r := newRig(t, rigOptions{decide: map[string]coord.Decider{"ana": decide, "ben": decide, "vault": decide}})
	wallet := str(r.create(frost("matrix")), "id")
	approving.Store(false) // the ceremonies the matrix starts are rejected at once

	ids := map[string]*identity.Identity{}
	for n, h := range r.homes {
		ids[n] = h.ID
	}
	join := func(name string, role relay.Role) {
		id, err := identity.New(name)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = id
		if r.clients[name], err = relay.NewClient(r.url, id, relay.ClientOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := r.clients[name].Register(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := r.clients["ana"].AddOperator(t.Context(), name, role); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range matrixCallers {
		if c.name != "" && ids[c.name] == nil {
			join(c.name, c.role)
			k, err := r.clients[c.name].CreateAPIKey(t.Context(), "matrix")
			if err != nil {
				t.Fatal(err)
			}
			r.keys[c.name] = k.Key
			if c.role.AtLeast(relay.RoleAdmin) {
				r.enroll(c.name)
			}
		}
	}
	// Objects: a signature of the wallet, ben's pending rotate-keys
	// action, two backup exports ana asked for, a ceremony of the
	// holders, per caller an API key of its own and one of another
	// operator, and per caller a viewer it may try to remove.
	sigID := str(r.call("POST", "/v1/wallets/"+wallet+"/sign", "vault", `{"digest":"`+strings.Repeat("ab", 32)+`"}`).ok(t, http.StatusAccepted), "id")
	action := obj(r.call("POST", "/v1/wallets/"+wallet+"/rotate-keys", "ben", "").ok(t, http.StatusAccepted), "action")
	actionID := str(action, "id")
	var exports []string
	for range 2 {
		b := r.call("POST", "/v1/wallets/"+wallet+"/backup-exports", "ana", "", relay.HeaderOTP, r.otp("ana")).ok(t, http.StatusAccepted)
		exports = append(exports, str(b, "id"))
	}
	holders := []identity.Public{ids["ben"].Public, ids["vault"].Public}
	cid := randomCeremonyID()
	if err := r.clients["ana"].CreateCeremony(t.Context(), relay.CreateCeremony{ID: cid, Members: holders,
		Request: probe(ids["ana"], wallet), Deadline: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ownKey, otherKey, temp := map[string]string{}, map[string]string{}, map[string]string{}
	counterpart := map[string]string{"otto": "vault", "adam": "ben", "olga": "ana", "vault": "otto", "ben": "adam", "ana": "olga", "viv": "vault"}
	for _, c := range matrixCallers[1:] {
		k, err := r.clients[c.name].CreateAPIKey(t.Context(), "throwaway")
		if err != nil {
			t.Fatal(err)
		}
		ownKey[c.name] = k.ID
		if k, err = r.clients[counterpart[c.name]].CreateAPIKey(t.Context(), "throwaway of another"); err != nil {
			t.Fatal(err)
		}
		otherKey[c.name] = k.ID
		temp[c.name] = "temp-" + c.name
		join(temp[c.name], relay.RoleViewer)
	}
	// Without credentials, the viewer's objects are tried.
	ownKey[""], otherKey[""], temp[""] = ownKey["viv"], otherKey["viv"], temp["viv"]

	// A request of a row, for one caller.
	type req struct {
		path, body string
	}
	fixed := func(path, body string) func(matrixCaller) req {
		return func(matrixCaller) req { return req{path: path, body: body} }
	}
	w := "/v1/wallets/" + wallet
	type matrixRow struct {
		pattern string
		role    relay.Role // the least role the router must declare ("" for routes that take no API key)
		auth    string     // how the router authenticates it
		req     func(matrixCaller) req
		want    expect
	}
	rows := []matrixRow{
		// Public.
		{"GET /healthz", "", relay.AuthPublic, fixed("/healthz", ""), gate("", 200).with(expect{"none": 200})},
		{"GET /v1/relay", "", relay.AuthPublic, fixed("/v1/relay", ""), gate("", 200).with(expect{"none": 200})},
		// The parties' API: signed by a registered identity, whatever its
		// role; a ceremony's mailbox only for its members.
		{"PUT /v1/identities/self", "", relay.AuthSigned, func(c matrixCaller) req {
			if c.name == "" {
				return req{path: "/v1/identities/self", body: "{}"}
			}
			b, _ := json.Marshal(ids[c.name].Public)
			return req{path: "/v1/identities/self", body: string(b)}
		}, gate(relay.RoleViewer, 200)},
		{"GET /v1/identities", "", relay.AuthRegistered, fixed("/v1/identities", ""), gate(relay.RoleViewer, 200)},
		{"POST /v1/ceremonies", "", relay.AuthRegistered, func(c matrixCaller) req {
			initiator := ids[c.name]
			if initiator == nil {
				initiator = ids["ana"]
			}
			b, _ := json.Marshal(relay.CreateCeremony{ID: randomCeremonyID(), Members: holders, Request: probe(initiator, wallet),
				Deadline: time.Now().Add(time.Hour)})
			return req{path: "/v1/ceremonies", body: string(b)}
		}, gate(relay.RoleOperator, 201)}, // a sign: operator or above
		{"GET /v1/ceremonies/{id}", "", relay.AuthRegistered, fixed("/v1/ceremonies/"+cid, ""), members(200)},
		{"POST /v1/ceremonies/{id}/messages", "", relay.AuthRegistered, func(c matrixCaller) req {
			return req{path: "/v1/ceremonies/" + cid + "/messages", body: `{"kind":"control","data":"` + base64.StdEncoding.EncodeToString([]byte("from "+c.key)) + `"}`}
		}, members(201)},
		{"GET /v1/ceremonies/{id}/messages", "", relay.AuthRegistered, fixed("/v1/ceremonies/"+cid+"/messages", ""), members(200)},
		{"GET /v1/inbox", "", relay.AuthRegistered, fixed("/v1/inbox", ""), gate(relay.RoleViewer, 200)},
		// Operators, API keys, TOTP, audit.
		{"GET /v1/operators", relay.RoleViewer, relay.AuthOperator, fixed("/v1/operators", ""), gate(relay.RoleViewer, 200)},
		{"POST /v1/operators", relay.RoleOwner, relay.AuthOperator, fixed("/v1/operators", `{"identity":"viv","role":"viewer"}`), gate(relay.RoleOwner, 200)},
		{"PATCH /v1/operators/{who}", relay.RoleOwner, relay.AuthOperator, fixed("/v1/operators/viv", `{"role":"viewer"}`), gate(relay.RoleOwner, 200)},
		{"DELETE /v1/operators/{who}", relay.RoleOwner, relay.AuthOperator, func(c matrixCaller) req {
			return req{path: "/v1/operators/" + temp[c.name]}
		}, gate(relay.RoleOwner, 200)},
		{"GET /v1/whoami", relay.RoleViewer, relay.AuthOperator, fixed("/v1/whoami", ""), gate(relay.RoleViewer, 200)},
		// Made with the identity, never with an API key.
		{"POST /v1/api-keys", relay.RoleViewer, relay.AuthOperator, fixed("/v1/api-keys", `{"name":"k"}`), gate(relay.RoleViewer, 403)},
		{"GET /v1/api-keys", relay.RoleViewer, relay.AuthOperator, fixed("/v1/api-keys", ""), gate(relay.RoleViewer, 200)},
		// One's own key (own column); another's (starred): only an owner.
		{"DELETE /v1/api-keys/{id}", relay.RoleViewer, relay.AuthOperator, func(c matrixCaller) req {
			if strings.HasSuffix(c.key, "*") {
				return req{path: "/v1/api-keys/" + otherKey[c.name]}
			}
			return req{path: "/v1/api-keys/" + ownKey[c.name]}
		}, gate(relay.RoleViewer, 200).with(expect{"operator*": 404, "admin*": 404})},
		{"POST /v1/mfa/enroll", relay.RoleViewer, relay.AuthOperator, fixed("/v1/mfa/enroll", ""), gate(relay.RoleViewer, 403)},   // identity only
		{"POST /v1/mfa/confirm", relay.RoleViewer, relay.AuthOperator, fixed("/v1/mfa/confirm", ""), gate(relay.RoleViewer, 409)}, // nothing to confirm
		{"GET /v1/mfa", relay.RoleViewer, relay.AuthOperator, fixed("/v1/mfa", ""), gate(relay.RoleViewer, 200)},
		{"GET /v1/audit", relay.RoleViewer, relay.AuthOperator, fixed("/v1/audit", ""), gate(relay.RoleViewer, 200)},
		// The wallet API (DESIGN.md's table).
		{"POST /v1/wallets", relay.RoleAdmin, relay.AuthOperator, func(c matrixCaller) req {
			return req{path: "/v1/wallets", body: `{"name":"by ` + c.key + `","chain":"bitcoin","type":"mpc","scheme":"schnorr","threshold":{"required":2,"total":3},"parties":["ana","ben","vault"]}`}
		}, gate(relay.RoleAdmin, 202)},
		{"GET /v1/wallets", relay.RoleViewer, relay.AuthOperator, fixed("/v1/wallets", ""), gate(relay.RoleViewer, 200)},
		{"GET /v1/wallets/{id}", relay.RoleViewer, relay.AuthOperator, fixed(w, ""), gate(relay.RoleViewer, 200)},
		// Without a code: held for the same admin's TOTP (202 awaiting_mfa).
		{"POST /v1/wallets/{id}/rotate-keys", relay.RoleAdmin, relay.AuthOperator, fixed(w+"/rotate-keys", ""), gate(relay.RoleAdmin, 202)},
		// Any operator may ask; the wallet's parties approve or not.
		{"POST /v1/wallets/{id}/sign", relay.RoleOperator, relay.AuthOperator, fixed(w+"/sign", `{"digest":"`+strings.Repeat("cd", 32)+`"}`), gate(relay.RoleOperator, 202)},
		{"GET /v1/wallets/{id}/signatures", relay.RoleViewer, relay.AuthOperator, fixed(w+"/signatures", ""), gate(relay.RoleViewer, 200)},
		{"GET /v1/wallets/{id}/signatures/{sig}", relay.RoleViewer, relay.AuthOperator, fixed(w+"/signatures/"+sigID, ""), gate(relay.RoleViewer, 200)},
		// An owner's approval needs a TOTP code (401 mfa_required without).
		{"POST /v1/wallets/{id}/destroy", relay.RoleOwner, relay.AuthOperator, fixed(w+"/destroy", ""), gate(relay.RoleOwner, 401)},
		// An owner exports its own share (with TOTP: 401 without); an
		// owner who holds none of the wallet must name a party (400).
		{"POST /v1/wallets/{id}/backup-exports", relay.RoleOwner, relay.AuthOperator, fixed(w+"/backup-exports", ""), gate(relay.RoleOwner, 401).with(expect{"owner*": 400})},
		{"GET /v1/backup-exports", relay.RoleOwner, relay.AuthOperator, fixed("/v1/backup-exports", ""), gate(relay.RoleOwner, 200)},
		{"GET /v1/backup-exports/{id}", relay.RoleOwner, relay.AuthOperator, fixed("/v1/backup-exports/"+exports[0], ""), gate(relay.RoleOwner, 200)},
		// Any owner may cancel an export (other owners are notified and can).
		{"DELETE /v1/backup-exports/{id}", relay.RoleOwner, relay.AuthOperator, func(c matrixCaller) req {
			if c.key == "owner*" {
				return req{path: "/v1/backup-exports/" + exports[1]}
			}
			return req{path: "/v1/backup-exports/" + exports[0]}
		}, gate(relay.RoleOwner, 200)},
		// Only the requester completes (not released yet: 409); another owner 403.
		{"POST /v1/backup-exports/{id}/complete", relay.RoleOwner, relay.AuthOperator, fixed("/v1/backup-exports/"+exports[0]+"/complete", ""), gate(relay.RoleOwner, 409).with(expect{"owner*": 403})},
		// An action is its operator's (ben's): others are told there is none.
		{"GET /v1/actions/{id}", relay.RoleViewer, relay.AuthOperator, fixed("/v1/actions/"+actionID, ""), gate(relay.RoleViewer, 404).with(expect{"admin": 200})},
		{"POST /v1/actions/{id}/confirm", relay.RoleViewer, relay.AuthOperator, fixed("/v1/actions/"+actionID+"/confirm", ""), gate(relay.RoleViewer, 404).with(expect{"admin": 401})},
		{"GET /v1/notifications", relay.RoleViewer, relay.AuthOperator, fixed("/v1/notifications", ""), gate(relay.RoleViewer, 200)},
	}

	// Every route of the router has exactly one row, with its role.
	routes := r.srv.Routes()
	for _, rt := range routes {
		i := slices.IndexFunc(rows, func(row matrixRow) bool { return row.pattern == rt.Pattern })
		switch {
		case i < 0:
			t.Errorf("route %q (%s, role %q) has no row in the role matrix: decide who may call it", rt.Pattern, rt.Auth, rt.Role)
		case rows[i].auth != rt.Auth || rows[i].role != rt.Role:
			t.Errorf("route %q is mounted as %s with role %q; the access table says %s, %q", rt.Pattern, rt.Auth, rt.Role, rows[i].auth, rows[i].role)
		}
	}
	for _, row := range rows {
		if !slices.ContainsFunc(routes, func(rt relay.Route) bool { return rt.Pattern == row.pattern }) {
			t.Errorf("the matrix has a row for %q, which the relay does not serve", row.pattern)
		}
	}

	for _, row := range rows {
		method, _, _ := strings.Cut(row.pattern, " ")
		for _, c := range matrixCallers {
			rq := row.req(c)
			res := r.matrixSend(method, rq.path, rq.body, c, row.auth, ids[c.name])
			want := row.want[c.key]
			if res.status != want {
				t.Errorf("%s as %s (%s): %d %s, want %d", row.pattern, c.key, c.name, res.status, strings.TrimSpace(res.raw), want)
				continue
			}
			// A refusal for the role, or of a non-member, says so.
			code := str(res.body, "error")
			roleRefused := row.auth == relay.AuthOperator && c.key != "none" && !c.role.AtLeast(row.role)
			if (roleRefused || row.auth == relay.AuthRegistered && want == http.StatusForbidden) && code != "forbidden" {
				t.Errorf("%s as %s: %d %q, want a role refusal (403 forbidden)", row.pattern, c.key, res.status, code)
			}
			if c.key == "none" && want == http.StatusUnauthorized && code == "" {
				t.Errorf("%s without credentials: 401 without an error code: %s", row.pattern, res.raw)
			}
		}
		// The parties' API takes no API key, whatever its role.
		if row.auth == relay.AuthRegistered || row.auth == relay.AuthSigned {
			rq := row.req(matrixCallers[6])
			if res := r.send(method, rq.path, "ana", strings.NewReader(rq.body)); res.status != http.StatusUnauthorized {
				t.Errorf("%s with the owner's API key instead of a signature: %d %s, want 401", row.pattern, res.status, res.raw)
			}
		}
	}
}

// members is the expectation of a ceremony's mailbox: its members (the
// own column) get ok, anyone else registered 403, no credentials 401.
func members(ok int) expect {
	return expect{"none": 401, "viewer": 403, "operator": ok, "operator*": 403, "admin": ok, "admin*": 403, "owner": ok, "owner*": 403}
}

// matrixSend sends a request as c: with its API key on operator routes,
// signed with its identity on the parties' routes, bare for none.
func (r *rig) matrixSend(method, path, body string, c matrixCaller, auth string, id *identity.Identity) response {
	r.t.Helper()
	if c.key == "none" || auth == relay.AuthOperator || auth == relay.AuthPublic {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		return r.send(method, path, c.name, rd)
	}
	req, err := http.NewRequest(method, r.url+path, bytes.NewReader([]byte(body)))
	if err != nil {
		r.t.Fatal(err)
	}
	relay.SignRequest(req, id, []byte(body), time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// probe is the part of a request statement the relay reads: a sign of
// wallet by id (the parties ignore it: it is not signed).
func probe(id *identity.Identity, wallet string) []byte {
	return []byte(`{"type":"request","ceremony":"x","signer":"` + id.Fingerprint() + `","body":{"kind":"sign","wallet_id":"` + wallet + `"},"sig":"00"}`)
}

func randomCeremonyID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
