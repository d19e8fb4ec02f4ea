package control

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// Chains the API creates wallets for.
var chains = []string{"ethereum", "bitcoin"}

// createRequest is the body of POST /v1/wallets.
type createRequest struct {
	Name      string     `json:"name"`
	Chain     string     `json:"chain"`
	Type      string     `json:"type"`
	Threshold *Threshold `json:"threshold"`
	Parties   []string   `json:"parties,omitempty"`
	Scheme    string     `json:"scheme,omitempty"`

	resolved []identity.Public // the parties, once resolved
}

const createFields = "name, chain, type, threshold {required, total}, and optionally parties, scheme"

// validate checks the request's own fields (not its parties) and returns
// the scheme it asks for.
func (c *createRequest) validate() (ceremony.Scheme, error) {
	c.Name = strings.TrimSpace(c.Name)
	if err := checkName(c.Name); err != nil {
		return "", err
	}
	switch {
	case c.Chain == "":
		return "", relay.Error(http.StatusBadRequest, "unknown_chain", `chain is missing: use "ethereum" or "bitcoin"`)
	case c.Chain != "ethereum" && c.Chain != "bitcoin":
		return "", relay.Errorf(http.StatusBadRequest, "unknown_chain", "chain %q is not supported: use %q or %q", clip(c.Chain), chains[0], chains[1])
	case c.Type != "mpc":
		return "", badRequest(`type must be "mpc" (the only kind of wallet paratro makes), not %q`, clip(c.Type))
	}
	if err := checkThreshold(c.Threshold); err != nil {
		return "", err
	}
	return schemeFor(c.Chain, c.Scheme)
}

// checkName accepts 1 to 64 printable characters.
func checkName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return relay.Error(http.StatusBadRequest, "bad_name", `name is missing: give the wallet a name of 1 to 64 printable characters, e.g. "Operations Wallet"`)
	case n > 64 || !utf8.ValidString(name):
		return relay.Errorf(http.StatusBadRequest, "bad_name", "name is %d characters long: use 1 to 64 printable characters", n)
	case strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }):
		return relay.Error(http.StatusBadRequest, "bad_name", "name holds control or other unprintable characters: use 1 to 64 printable characters")
	case strings.HasPrefix(name, "wal_"):
		return relay.Error(http.StatusBadRequest, "bad_name", `name must not start with "wal_", which wallet ids do: wallets are looked up by id or name`)
	}
	return nil
}

// checkThreshold wants 2 <= required <= total <= MaxParties.
func checkThreshold(t *Threshold) error {
	bad := func(format string, args ...any) error {
		return relay.Errorf(http.StatusBadRequest, "bad_threshold", format, args...)
	}
	switch {
	case t == nil:
		return bad(`threshold is missing: give {"required": 2, "total": 3} for a 2-of-3 wallet`)
	case t.Required < 2:
		return bad("threshold.required is %d: it must be at least 2, since with 1 any single share could sign alone and the wallet would be a single key, not MPC", t.Required)
	case t.Total < t.Required:
		return bad("threshold.required (%d) is more than threshold.total (%d): a wallet cannot need more signers than it has parties", t.Required, t.Total)
	case t.Total > MaxParties:
		return bad("threshold.total is %d: this relay makes wallets of at most %d parties (a DKG's work grows with the square of the parties)", t.Total, MaxParties)
	}
	return nil
}

// schemeFor is the signature scheme of a wallet: ECDSA unless Schnorr is
// asked for, which only Bitcoin (Taproot) uses.
func schemeFor(chain, scheme string) (ceremony.Scheme, error) {
	switch ceremony.Scheme(scheme) {
	case "", ceremony.SchemeECDSA:
		return ceremony.SchemeECDSA, nil
	case ceremony.SchemeSchnorr:
		if chain != "bitcoin" {
			return "", relay.Errorf(http.StatusBadRequest, "bad_scheme", "scheme schnorr (BIP-340, Taproot) is for bitcoin wallets; %s needs ecdsa", chain)
		}
		return ceremony.SchemeSchnorr, nil
	}
	return "", relay.Errorf(http.StatusBadRequest, "bad_scheme", `scheme %q is not supported: use "ecdsa" (the default) or, for bitcoin, "schnorr"`, clip(scheme))
}

// parseDigest reads a 32-byte digest given as 64 hex characters (an 0x
// prefix is allowed).
func parseDigest(s string) (string, error) {
	h := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		what := fmt.Sprintf("%d characters", len(s))
		if err != nil && len(h) == 64 {
			what = "not hex"
		}
		return "", relay.Errorf(http.StatusBadRequest, "bad_digest",
			"digest must be the 32-byte hash to sign as 64 hex characters (e.g. a transaction's signing hash); got %s", what)
	}
	return h, nil
}

// clip shortens text from a caller before it goes into a message.
func clip(s string) string { return ceremony.SanitizeN(s, 40) }
