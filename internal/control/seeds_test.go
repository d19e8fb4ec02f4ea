package control

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/chain/ethereum"
)

// The seeds' two curl examples, as sent: create an Ethereum wallet (a real
// CMP DKG of ana, ben and vault, the relay's three holders) and rotate its
// keys. The rotate call carries no TOTP code, so it waits as an action that
// ben confirms with his code; the new epoch keeps the key and address, and
// a signature by the new shares recovers to the address.
func TestSeedsCreateEthereumWalletAndRotateKeys(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a CMP DKG and refresh take seconds")
	}
	r := newRig(t, rigOptions{})
	// curl -X POST https://api.paratro.com/v1/wallets -H "Authorization: Bearer YOUR_API_KEY" -H "Content-Type: application/json" -d '...'
	created := r.call("POST", "/v1/wallets", "ben", `{
    "name": "Operations Wallet",
    "chain": "ethereum",
    "type": "mpc",
    "threshold": {
      "required": 2,
      "total": 3
    }
  }`).ok(t, http.StatusAccepted)
	id := str(created, "id")
	if !strings.HasPrefix(id, "wal_") || str(created, "status") != StatusCreating || str(created, "scheme") != "ecdsa" ||
		str(created, "type") != "mpc" || str(created, "ceremony_id") == "" || len(created["parties"].([]any)) != 3 {
		t.Fatalf("created: %v", created)
	}
	w := r.waitWallet(id, StatusActive)
	pub, _ := hex.DecodeString(str(w, "public_key"))
	addr, err := ethereum.Address(pub)
	if err != nil || len(pub) != 33 || str(w, "address") != addr || w["epoch"] != 1.0 {
		t.Fatalf("active wallet: %v (%v)", w, err)
	}
	// The same wallet by its name.
	if byName := r.call("GET", "/v1/wallets/Operations%20Wallet", "viv", "").ok(t, http.StatusOK); str(byName, "id") != id {
		t.Fatalf("by name: %v", byName)
	}

	// curl -X POST https://api.paratro.com/v1/wallets/wal_abc123/rotate-keys -H "Authorization: Bearer YOUR_API_KEY"
	asked := r.call("POST", "/v1/wallets/"+id+"/rotate-keys", "ben", "").ok(t, http.StatusAccepted)
	act := obj(asked, "action")
	actID := str(act, "id")
	expires, _ := time.Parse(time.RFC3339, str(act, "expires_at"))
	if str(asked, "status") != "awaiting_mfa" || !strings.HasPrefix(actID, "act_") || str(act, "kind") != "rotate-keys" ||
		str(act, "wallet") != id || str(act, "confirm") != "POST /v1/actions/"+actID+"/confirm" ||
		expires.Sub(r.clock.now()) > ActionTTL || expires.Sub(r.clock.now()) < ActionTTL-time.Minute {
		t.Fatalf("awaiting mfa: %v", asked)
	}
	if w := r.call("GET", "/v1/wallets/"+id, "viv", "").ok(t, http.StatusOK); str(w, "status") != StatusActive || w["rotation"] != nil {
		t.Fatalf("the wallet changed before the code: %v", w)
	}
	started := r.call("POST", "/v1/actions/"+actID+"/confirm", "ben", `{"otp":"`+r.otp("ben")+`"}`).ok(t, http.StatusAccepted)
	rot := obj(started, "rotation")
	if str(obj(started, "wallet"), "status") != StatusRotating || str(rot, "status") != RotationRunning || !strings.HasPrefix(str(rot, "id"), "rot_") {
		t.Fatalf("confirmed: %v", started)
	}
	after := r.waitWallet(id, StatusActive)
	if after["epoch"] != 2.0 || str(after, "public_key") != str(w, "public_key") || str(after, "address") != addr ||
		str(obj(after, "rotation"), "status") != RotationDone || str(after, "config_digest") == str(w, "config_digest") {
		t.Fatalf("after rotation: %v", after)
	}

	// The new shares sign for the same address.
	digest := sha256.Sum256([]byte("paratro control plane test"))
	sig := r.call("POST", "/v1/wallets/"+id+"/sign", "vault", `{"digest":"`+hex.EncodeToString(digest[:])+`"}`).ok(t, http.StatusAccepted)
	done := r.waitSignature(id, str(sig, "id"))
	raw, _ := hex.DecodeString(str(done, "signature"))
	if got, err := ethereum.RecoverAddress(digest[:], raw); err != nil || got != addr || str(done, "status") != SigSigned || done["epoch"] != 2.0 {
		t.Fatalf("signature %v recovers to %s (%v), want %s", done, got, err, addr)
	}

	events := map[string]int{}
	for _, e := range r.auditEvents("") {
		if e.Wallet == id {
			events[e.Event+" "+e.Outcome]++
		}
	}
	for _, want := range []string{audit.EventWalletRequested + " accepted", audit.EventWalletCreated + " ok",
		audit.EventRotateRequested + " awaiting_mfa", audit.EventActionConfirmed + " ok", audit.EventRotateRequested + " accepted",
		audit.EventRotated + " ok", audit.EventSignRequested + " accepted", audit.EventSigned + " ok"} {
		if events[want] != 1 {
			t.Errorf("audit: %d %q entries, want 1 (%v)", events[want], want, events)
		}
	}
}
