package ceremonytest

import (
	"context"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/paratro/paratro/ceremony"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// FixtureParties are the parties of the fixture wallets.
var FixtureParties = []party.ID{"alice", "bob", "carol"}

// Fixture is the file format of a committed fixture wallet. The keys in it
// are public and for tests only: anyone can sign with them.
type Fixture struct {
	Warning   string            `json:"warning"`
	Scheme    string            `json:"scheme"`
	Required  int               `json:"required"`
	Parties   []string          `json:"parties"`
	PublicKey string            `json:"public_key"`
	Shares    map[string]string `json:"shares"`
}

// FixtureWarning heads every fixture file.
const FixtureWarning = "TEST-ONLY KEYS, PUBLIC ON PURPOSE: anyone can sign with these shares. Never send funds to this key. Regenerate with scripts/gen-fixtures.sh."

//go:embed testdata/TEST-ONLY-ecdsa-2of3.json
var ecdsaFixture []byte

// ECDSAShares returns fresh copies of the TEST-ONLY 2-of-3 CMP fixture
// shares of alice, bob and carol, so tests sign and refresh without paying
// for a CMP key generation.
func ECDSAShares(t testing.TB) map[party.ID]*ceremony.Share {
	t.Helper()
	shares, err := ParseFixture(ecdsaFixture)
	if err != nil {
		t.Fatalf("ecdsa fixture: %v", err)
	}
	return shares
}

// ParseFixture decodes a fixture file and checks its shares agree on the key.
func ParseFixture(data []byte) (map[party.ID]*ceremony.Share, error) {
	var f Fixture
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	out := map[party.ID]*ceremony.Share{}
	for id, h := range f.Shares {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("share %s: %w", id, err)
		}
		sh, err := ceremony.UnmarshalShare(b)
		if err != nil {
			return nil, fmt.Errorf("share %s: %w", id, err)
		}
		if hex.EncodeToString(sh.PublicKey()) != f.PublicKey || string(sh.PartyID()) != id {
			return nil, fmt.Errorf("share %s does not match the fixture's public key", id)
		}
		out[party.ID(id)] = sh
	}
	return out, nil
}

var schnorrShares = sync.OnceValues(func() (map[party.ID]*ceremony.Share, error) {
	out, _ := RunAll(context.Background(), Keygen(ceremony.SchemeSchnorr, 2, FixtureParties...), nil)
	shares := Shares(out)
	for id, o := range out {
		if o.Err != nil {
			return nil, fmt.Errorf("%s: %w", id, o.Err)
		}
	}
	return shares, nil
})

// SchnorrShares returns 2-of-3 FROST shares of alice, bob and carol, made
// once per test process by a real key generation (it takes milliseconds).
// Callers must not modify them.
func SchnorrShares(t testing.TB) map[party.ID]*ceremony.Share {
	t.Helper()
	shares, err := schnorrShares()
	if err != nil {
		t.Fatalf("schnorr keygen: %v", err)
	}
	return shares
}
