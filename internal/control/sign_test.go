package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/bitcoin"
	"github.com/paratro/paratro/internal/coord"
)

// digestHex is a test digest, as 64 hex characters.
func digestHex(n int) string {
	d := sha256.Sum256(fmt.Appendf(nil, "digest %d", n))
	return hex.EncodeToString(d[:])
}

// An operator asks for a signature; the named signers sign, and the
// signature verifies against the wallet's key with BIP-340.
func TestSignDigest(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	w := r.create(frost("pay"))
	id := str(w, "id")
	asked := r.call("POST", "/v1/wallets/"+id+"/sign", "vault", `{"digest":"0x`+strings.ToUpper(digestHex(1))+`","signers":["ben","vault"]}`).
		ok(t, http.StatusAccepted)
	if !strings.HasPrefix(str(asked, "id"), "sig_") || str(asked, "status") != SigPending || str(asked, "digest") != digestHex(1) || str(asked, "wallet") != id {
		t.Fatalf("asked: %v", asked)
	}
	sig := r.waitSignature(id, str(asked, "id"))
	pub, _ := hex.DecodeString(str(w, "public_key"))
	digest, _ := hex.DecodeString(digestHex(1))
	raw, _ := hex.DecodeString(str(sig, "signature"))
	if str(sig, "status") != SigSigned || fmt.Sprint(sig["signed_by"]) != "[ben vault]" {
		t.Fatalf("signature: %v", sig)
	}
	if err := bitcoin.VerifySchnorr(pub, digest, raw); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	list := r.call("GET", "/v1/wallets/"+id+"/signatures", "viv", "").ok(t, http.StatusOK)
	if len(list["signatures"].([]any)) != 1 {
		t.Fatalf("list: %v", list)
	}
}

// Bad signing requests are refused before anything is asked of the parties.
func TestSignRefusesBadRequests(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	id := str(r.create(frost("bad")), "id")
	path := "/v1/wallets/" + id + "/sign"
	r.call("POST", path, "vault", `{"digest":"abcd"}`).refused(t, http.StatusBadRequest, "bad_digest", "64 hex characters", "got 4 characters")
	r.call("POST", path, "vault", `{"digest":"`+strings.Repeat("zz", 32)+`"}`).refused(t, http.StatusBadRequest, "bad_digest", "not hex")
	r.call("POST", path, "vault", `{"digest":"`+digestHex(1)+`","signers":["ana"]}`).refused(t, http.StatusBadRequest, "bad_signers", "exactly 2")
	r.call("POST", path, "vault", `{"digest":"`+digestHex(1)+`","signers":["ana","viv"]}`).refused(t, http.StatusBadRequest, "bad_signers", "ana, ben, vault")
	r.call("POST", path, "viv", `{"digest":"`+digestHex(1)+`"}`).refused(t, http.StatusForbidden, "forbidden", "operator role")
	r.call("POST", "/v1/wallets/wal_nope/sign", "vault", `{"digest":"`+digestHex(1)+`"}`).refused(t, http.StatusNotFound, "not_found")
	r.call("GET", "/v1/wallets/"+id+"/signatures/sig_nope", "viv", "").refused(t, http.StatusNotFound, "not_found", "signatures")
	list := r.call("GET", "/v1/wallets/"+id+"/signatures", "viv", "").ok(t, http.StatusOK)
	if len(list["signatures"].([]any)) != 0 {
		t.Fatalf("list: %v", list)
	}
}

// A signer that rejects: the signature is rejected, naming who and why.
func TestSignRejected(t *testing.T) {
	t.Parallel()
	no := func(_ context.Context, p *coord.Proposal) (coord.Decision, error) {
		return coord.Decision{Approve: p.Request.Kind != ceremony.KindSign, Reason: "not this one"}, nil
	}
	r := newRig(t, rigOptions{decide: map[string]coord.Decider{"vault": no}})
	id := str(r.create(frost("no")), "id")
	asked := r.call("POST", "/v1/wallets/"+id+"/sign", "ben", `{"digest":"`+digestHex(2)+`","signers":["ana","vault"]}`).ok(t, http.StatusAccepted)
	sig := r.waitSignature(id, str(asked, "id"))
	if str(sig, "status") != SigRejected || !strings.Contains(str(sig, "reason"), "rejected by vault: not this one") || sig["signature"] != nil {
		t.Fatalf("signature: %v", sig)
	}
}
