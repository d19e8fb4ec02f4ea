package control

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/holder"
	"github.com/paratro/paratro/internal/relay"
)

// Wallets made and rotated from the CLI (an operator's own identity as
// initiator) are listed like the API's: creating, then active with the key
// every party agreed on; a refresh moves the epoch.
func TestCLIWalletsAreListed(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	wallet := holder.NewWalletID()
	req := &coord.Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: wallet, WalletName: "cli wallet",
		Chain: "bitcoin", Parties: r.walletParties(), Required: 2, Deadline: r.clock.now().Add(time.Minute)}
	rep, err := r.initiate(ctx, "ben", req)
	if err != nil {
		t.Fatal(err)
	}
	w := r.waitWallet(wallet, StatusActive)
	if str(w, "public_key") != hex.EncodeToString(rep.PublicKey()) || str(w, "source") != SourceCLI || str(w, "name") != "cli wallet" ||
		str(w, "ceremony_id") != rep.CeremonyID || !strings.HasPrefix(str(w, "created_by"), "ben (") || w["epoch"] != 1.0 {
		t.Fatalf("wallet: %v", w)
	}
	refresh := &coord.Request{Kind: ceremony.KindRefresh, Scheme: ceremony.SchemeSchnorr, WalletID: wallet, Parties: r.walletParties(),
		Required: 2, Epoch: 1, ConfigDigest: str(w, "config_digest"), Deadline: r.clock.now().Add(time.Minute)}
	if _, err := r.initiate(ctx, "ben", refresh); err != nil {
		t.Fatal(err)
	}
	after := r.waitWallet(wallet, StatusActive)
	if after["epoch"] != 2.0 || str(obj(after, "rotation"), "status") != RotationDone || str(after, "public_key") != str(w, "public_key") {
		t.Fatalf("after the CLI refresh: %v", after)
	}
	// The API signs with the epoch the CLI refresh left.
	sig := r.call("POST", "/v1/wallets/"+wallet+"/sign", "vault", `{"digest":"`+digestHex(4)+`"}`).ok(t, http.StatusAccepted)
	if s := r.waitSignature(wallet, str(sig, "id")); str(s, "status") != SigSigned {
		t.Fatalf("signature: %v", s)
	}
	// A keygen from the CLI may not reuse a known wallet's id.
	_, err = r.initiate(ctx, "ben", &coord.Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: wallet,
		Parties: r.walletParties(), Required: 2, Deadline: r.clock.now().Add(time.Minute)})
	var ae *relay.APIError
	if !errors.As(err, &ae) || ae.Code != "wallet_exists" {
		t.Fatalf("keygen reusing the id: %v", err)
	}
}

// A CLI keygen that a party rejects is listed as failed, with who and why.
func TestCLIWalletRejected(t *testing.T) {
	t.Parallel()
	no := func(context.Context, *coord.Proposal) (coord.Decision, error) {
		return coord.Decision{Approve: false, Reason: "not today"}, nil
	}
	r := newRig(t, rigOptions{decide: map[string]coord.Decider{"vault": no}})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	wallet := holder.NewWalletID()
	_, err := r.initiate(ctx, "ben", &coord.Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeSchnorr, WalletID: wallet,
		WalletName: "refused", Chain: "bitcoin", Parties: r.walletParties(), Required: 2, Deadline: r.clock.now().Add(time.Minute)})
	if !errors.Is(err, coord.ErrRejected) {
		t.Fatalf("keygen: %v", err)
	}
	w := r.waitWallet(wallet, StatusFailed)
	if str(w, "error") != "rejected by vault: not today" || strings.Join(names(w["blamed"]), ",") != "vault" {
		t.Fatalf("wallet: %v", w)
	}
}

// initiate runs a ceremony from the CLI as operator name, with a TOTP code
// when the operator has enrolled.
func (r *rig) initiate(ctx context.Context, name string, req *coord.Request) (*coord.Report, error) {
	// A client of its own, like a separate CLI process: the TOTP code is
	// for the next state-changing call, which on the shared client could be
	// one of the holder's running party (its registration) instead.
	c, err := relay.NewClient(r.url, r.homes[name].ID, relay.ClientOptions{})
	if err != nil {
		return nil, err
	}
	if r.secrets[name] != "" {
		c.SetOTP(r.otp(name))
	}
	return coord.Initiate(ctx, c, r.homes[name].ID, req, nil)
}
