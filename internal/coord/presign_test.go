package coord

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/holder"
)

// presigs lists party i's unused presignatures of wallet as
// "epoch:signer-names" strings, sorted.
func (r *rig) presigs(i int, wallet string) []string {
	r.t.Helper()
	list, err := r.homes[i].Store.Presignatures(wallet, r.homes[i].ID.Fingerprint())
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, m := range list {
		var names []string
		for _, fp := range m.Signers {
			for _, h := range r.homes {
				if h.ID.Fingerprint() == fp {
					names = append(names, h.ID.Name)
				}
			}
		}
		slices.Sort(names)
		out = append(out, fmt.Sprintf("%d:%s", m.Epoch, strings.Join(names, "+")))
	}
	slices.Sort(out)
	return out
}

// The presignature pool through a real relay: it fills to its limit and
// stops, a sign uses one presignature in one round and the pool refills,
// two signs at once use two different presignatures, and a key rotation
// drops every presignature of the old epoch before the pool refills with
// new ones.
func TestPresignaturePoolThroughRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("CMP key generation, presign and refresh ceremonies: a minute; runs without -short")
	}
	r := newRig(t, "ana", "ben", "vault")
	r.pool = Pool{Keep: 2, Check: 200 * time.Millisecond}
	for i := range r.homes {
		r.start(i, approveAll)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	wallet := holder.NewWalletID()
	rep, err := r.initiate(ctx, 1, &Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeECDSA, WalletID: wallet,
		WalletName: "ops", Chain: "ethereum", Parties: r.parties(), Required: 2, Deadline: time.Now().Add(2 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := ethereum.Address(rep.PublicKey())
	// Each party is in two of the three signer sets, and each set has one
	// keeper, so each holds two presignatures of each of its sets.
	want := func(i, epoch int) []string {
		var out []string
		me := r.homes[i].ID.Name
		for _, set := range []string{"ana+ben", "ana+vault", "ben+vault"} {
			if strings.Contains(set, me) {
				out = append(out, fmt.Sprintf("%d:%s", epoch, set), fmt.Sprintf("%d:%s", epoch, set))
			}
		}
		return out
	}
	waitEach := func(epoch int) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			ok := true
			var got []string
			for i := range r.homes {
				p := r.presigs(i, wallet)
				got = append(got, r.homes[i].ID.Name+"="+strings.Join(p, ","))
				ok = ok && slices.Equal(p, want(i, epoch))
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("pools never filled with epoch %d presignatures: %v", epoch, got)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitEach(1)
	time.Sleep(time.Second) // the pool stops at its limit
	for i := range r.homes {
		if got := r.presigs(i, wallet); len(got) != 4 {
			t.Fatalf("%s holds %v after the pool filled", r.homes[i].ID.Name, got)
		}
	}

	// signBy signs text (with the first two to approve when signers is
	// empty) and checks the signature with go-ethereum.
	signBy := func(text string, signers []string) *Report {
		t.Helper()
		epoch, cd := r.share(0, wallet)
		digest := ceremonytest.Digest(text)
		rep, err := r.initiate(ctx, 0, &Request{Kind: ceremony.KindSign, Scheme: ceremony.SchemeECDSA, WalletID: wallet,
			Parties: r.parties(), Required: 2, Signers: signers, Epoch: epoch, ConfigDigest: cd, Digest: hex.EncodeToString(digest),
			Deadline: time.Now().Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := hex.DecodeString(rep.Result().Signature)
		if err := ethereum.VerifyDigest(addr, digest, sig); err != nil {
			t.Fatalf("go-ethereum rejects the signature: %v", err)
		}
		return rep
	}
	sign := func(text string) *Report { t.Helper(); return signBy(text, nil) }
	rep = sign("one round")
	used := rep.Result().Presignature
	if used == "" {
		t.Fatal("the sign did not use a presignature")
	}
	for _, o := range rep.Outcomes {
		if o.Presignature != used || o.PresignaturesLeft == nil || *o.PresignaturesLeft != 3 {
			t.Fatalf("outcome %+v", o)
		}
	}
	waitEach(1) // refilled

	// Two signs at once never use the same presignature: each party
	// reserves what it offers for one request. (When the parties answered
	// the two requests in different orders, they offered different ones
	// and a sign falls back to the full protocol.)
	var wg sync.WaitGroup
	ids := make([]string, 2)
	for k := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[k] = sign(fmt.Sprintf("concurrent %d", k)).Result().Presignature
		}()
	}
	wg.Wait()
	if ids[0] != "" && ids[0] == ids[1] || slices.Contains(ids, used) {
		t.Fatalf("presignatures used: %v (and %s before)", ids, used)
	}
	t.Logf("two signs at once used presignatures %q", ids)

	// A full-protocol sign leaves the pool alone.
	epoch, cd := r.share(0, wallet)
	digest := ceremonytest.Digest("full protocol")
	rep, err = r.initiate(ctx, 0, &Request{Kind: ceremony.KindSign, Scheme: ceremony.SchemeECDSA, WalletID: wallet,
		Parties: r.parties(), Required: 2, Epoch: epoch, ConfigDigest: cd, Digest: hex.EncodeToString(digest),
		NoPresignature: true, Deadline: time.Now().Add(time.Minute)})
	if err != nil || rep.Result().Presignature != "" {
		t.Fatalf("full protocol: %v, %+v", err, rep)
	}

	// A rotation drops the old epoch's presignatures; new ones follow.
	waitEach(1)
	r.enrollTOTP(1)
	if _, err := r.initiate(ctx, 1, &Request{Kind: ceremony.KindRefresh, Scheme: ceremony.SchemeECDSA, WalletID: wallet,
		Parties: r.parties(), Required: 2, Epoch: epoch, ConfigDigest: cd, Deadline: time.Now().Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	waitEach(2)
	if sign("after the rotation").Result().Presignature == "" {
		t.Fatal("no presignature used after the rotation")
	}

	// ana loses her presignatures with vault (a restored backup drops
	// them, release case 28): vault's parts are orphans, which it offers
	// first and nobody offers back. The pair signs with the full protocol
	// until vault retires them (orphanAfter unmatched starts each), then
	// with presignatures again: the pool heals by itself.
	waitEach(2)
	pair := []string{r.homes[0].ID.Fingerprint(), r.homes[2].ID.Fingerprint()}
	slices.Sort(pair)
	anaFP := r.homes[0].ID.Fingerprint()
	list, err := r.homes[0].Store.Presignatures(wallet, anaFP)
	if err != nil {
		t.Fatal(err)
	}
	orphans := map[string]bool{}
	for _, m := range list {
		if slices.Equal(m.Signers, pair) {
			if err := r.homes[0].Store.MarkPresignatureUsed(wallet, anaFP, m.ID); err != nil {
				t.Fatal(err)
			}
			if err := r.homes[0].Store.WipePresignature(wallet, anaFP, m.ID); err != nil {
				t.Fatal(err)
			}
			orphans[m.ID] = true
		}
	}
	if len(orphans) != 2 {
		t.Fatalf("ana held %d presignatures with vault, want 2", len(orphans))
	}
	signPair := func(k int) string {
		t.Helper()
		ps := signBy(fmt.Sprint("after ana's restore ", k), pair).Result().Presignature
		if orphans[ps] {
			t.Fatalf("sign %d used orphaned presignature %s", k, ps)
		}
		return ps
	}
	holdsOrphans := func() bool {
		return slices.ContainsFunc(mustPresigs(t, r, 2, wallet), func(id string) bool { return orphans[id] })
	}
	// every orphan is offered orphanAfter times before it is retired
	k := 0
	for ; holdsOrphans(); k++ {
		if k == orphanAfter*len(orphans) {
			t.Fatalf("vault still holds orphaned presignatures after %d signs: %v", k, r.presigs(2, wallet))
		}
		if ps := signPair(k); ps != "" {
			t.Fatalf("sign %d used presignature %s while vault held orphans ana could not have offered back", k, ps)
		}
	}
	t.Logf("vault retired its orphaned presignatures after %d full-protocol signs", k)
	waitEach(2) // the pool refills the pair with presignatures both hold
	if signPair(k) == "" {
		t.Fatal("ana and vault did not sign with a presignature once the pool refilled")
	}
}

// mustPresigs lists the IDs of party i's unused presignatures of wallet.
func mustPresigs(t *testing.T, r *rig, i int, wallet string) []string {
	t.Helper()
	list, err := r.homes[i].Store.Presignatures(wallet, r.homes[i].ID.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	return ids
}
