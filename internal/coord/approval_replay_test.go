package coord

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// SECURITY.md case 40: an approval is bound to the request it answers (the
// hash of the signed request statement: ceremony ID, wallet, epoch, digest,
// derivation index, deadline) and to its ceremony (the statement's
// signature covers the ceremony ID). An approval a holder signed for one
// request, replayed to the initiator of another, or after the request's
// deadline, does not count; only the approval of the very request does.
func TestAnApprovalCountsOnlyForTheRequestItAnswers(t *testing.T) {
	ids := map[string]*identity.Identity{}
	var parties []identity.Public
	for _, n := range []string{"ana", "ben", "cy"} {
		id, err := identity.New(n)
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = id
		parties = append(parties, id.Public)
	}
	ana, ben, cy := ids["ana"], ids["ben"], ids["cy"]
	deadline := time.Now().Add(10 * time.Minute).UTC().Truncate(time.Second)
	idx := func(i uint32) *uint32 { return &i }
	digestA, digestB := strings.Repeat("aa", 32), strings.Repeat("bb", 32)
	// base is request A: ana asks to sign digest A with wallet wal_a.
	base := func() *Request {
		return &Request{Kind: ceremony.KindSign, Scheme: ceremony.SchemeECDSA, WalletID: "wal_a", Parties: parties,
			Required: 2, Epoch: 1, ConfigDigest: strings.Repeat("cc", 32), Digest: digestA, Initiator: ana.Public,
			Deadline: deadline, CreatedAt: deadline.Add(-10 * time.Minute)}
	}
	cidA, cidB := ceremony.NewID().String(), ceremony.NewID().String()
	// request signs req as ana's request statement of ceremony cid.
	request := func(t *testing.T, cid string, req *Request) []byte {
		t.Helper()
		if err := req.Validate(); err != nil {
			t.Fatal(err)
		}
		raw, err := signStatement(ana, TypeRequest, cid, req)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// approve is by's approval, in ceremony cid, of the request statement raw.
	approve := func(t *testing.T, by *identity.Identity, cid string, raw []byte) []byte {
		t.Helper()
		a, err := signStatement(by, TypeApproval, cid, Approval{Approve: true, Request: hashStatement(raw)})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	reqA := request(t, cidA, base())
	// variant is request A with one field changed, in ceremony A.
	variant := func(t *testing.T, change func(*Request)) []byte {
		r := base()
		change(r)
		return request(t, cidA, r)
	}

	for _, tc := range []struct {
		name string
		// approval is the statement posted to ceremony A, by from.
		approval func(t *testing.T) []byte
		from     *identity.Identity
		at       time.Time // the initiator's clock when it reads the approval
		counts   bool
	}{
		{name: "ben's approval of request A", from: ben, counts: true,
			approval: func(t *testing.T) []byte { return approve(t, ben, cidA, reqA) }},
		{name: "approval of digest B", from: ben,
			approval: func(t *testing.T) []byte {
				return approve(t, ben, cidA, variant(t, func(r *Request) { r.Digest = digestB }))
			}},
		{name: "approval for another wallet", from: ben,
			approval: func(t *testing.T) []byte {
				return approve(t, ben, cidA, variant(t, func(r *Request) { r.WalletID = "wal_b" }))
			}},
		{name: "approval for another epoch", from: ben,
			approval: func(t *testing.T) []byte {
				return approve(t, ben, cidA, variant(t, func(r *Request) { r.Epoch = 2 }))
			}},
		{name: "approval for derivation index 7", from: ben,
			approval: func(t *testing.T) []byte {
				return approve(t, ben, cidA, variant(t, func(r *Request) { r.Index = idx(7) }))
			}},
		{name: "approval for index 0 (the child, not the wallet key)", from: ben,
			approval: func(t *testing.T) []byte {
				return approve(t, ben, cidA, variant(t, func(r *Request) { r.Index = idx(0) }))
			}},
		{name: "approval of the same request with a later deadline", from: ben,
			approval: func(t *testing.T) []byte {
				return approve(t, ben, cidA, variant(t, func(r *Request) { r.Deadline = deadline.Add(time.Hour) }))
			}},
		{name: "approval of the same request in ceremony B", from: ben,
			approval: func(t *testing.T) []byte { return approve(t, ben, cidB, request(t, cidB, base())) }},
		{name: "approval of request A's hash signed in ceremony B", from: ben,
			approval: func(t *testing.T) []byte { return approve(t, ben, cidB, reqA) }},
		{name: "approval from ceremony B relabelled as ceremony A", from: ben,
			approval: func(t *testing.T) []byte {
				var st Statement
				if err := json.Unmarshal(approve(t, ben, cidB, reqA), &st); err != nil {
					t.Fatal(err)
				}
				st.Ceremony = cidA
				b, _ := json.Marshal(st)
				return b
			}},
		{name: "approval with its request hash rewritten to A's", from: ben,
			approval: func(t *testing.T) []byte {
				var st Statement
				if err := json.Unmarshal(approve(t, ben, cidA, variant(t, func(r *Request) { r.Digest = digestB })), &st); err != nil {
					t.Fatal(err)
				}
				st.Body, _ = json.Marshal(Approval{Approve: true, Request: hashStatement(reqA)})
				b, _ := json.Marshal(st)
				return b
			}},
		{name: "cy's approval of request A posted by ben", from: ben,
			approval: func(t *testing.T) []byte { return approve(t, cy, cidA, reqA) }},
		{name: "ben's approval of request A read after the deadline", from: ben, at: deadline.Add(time.Second),
			approval: func(t *testing.T) []byte { return approve(t, ben, cidA, reqA) }},
		{name: "ben's approval of request A read at the deadline", from: ben, at: deadline, counts: true,
			approval: func(t *testing.T) []byte { return approve(t, ben, cidA, reqA) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWatch(base(), cidA, reqA, nil)
			at := tc.at
			if at.IsZero() {
				at = deadline.Add(-time.Minute)
			}
			w.now = func() time.Time { return at }
			m := relay.Message{Seq: 1, Kind: kindControl, From: tc.from.Fingerprint(), Data: tc.approval(t)}
			if err := w.message(m); err != nil {
				t.Fatal(err)
			}
			counted := len(w.approved) > 0
			if counted != tc.counts {
				t.Fatalf("approval counted: %v, want %v (approved %v)", counted, tc.counts, w.approved)
			}
			// With ana's own approval, two approvals would start a 2-of-3
			// sign: a replayed approval must not make it ready.
			w.approved[ana.Fingerprint()] = true
			w.order = append(w.order, ana.Fingerprint())
			signers, err := w.ready()
			if err != nil {
				t.Fatal(err)
			}
			if (signers != nil) != tc.counts {
				t.Fatalf("ready with signers %v, want ready %v", signers, tc.counts)
			}
		})
	}
}
