package policy

import (
	"strings"
	"testing"
)

func TestOperatorsMatchTheOperatorTheRelayActsFor(t *testing.T) {
	p, err := Parse([]byte(`
rules:
  - action: approve
    kinds: [sign]
    initiators: [relay]
    operators: [ben]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		r    Request
		want bool
	}{
		{Request{Kind: "sign", InitiatorName: "relay", OperatorName: "ben", OperatorFP: "0011"}, true},
		{Request{Kind: "sign", InitiatorName: "relay", OperatorName: "eve", OperatorFP: "0022"}, false},
		{Request{Kind: "sign", InitiatorName: "relay"}, false}, // the relay on nobody's behalf
		{Request{Kind: "sign", InitiatorName: "ben"}, false},
	} {
		if got, _ := p.Decide(c.r); got != c.want {
			t.Errorf("Decide(%+v) = %v, want %v", c.r, got, c.want)
		}
	}
}

func TestFirstMatchingRuleDecides(t *testing.T) {
	p, err := Parse([]byte(`
rules:
  - action: reject
    kinds: [refresh]
    reason: rotations are done by hand
  - action: approve
    kinds: [sign]
    wallets: [wal_a]
    initiators: [payout]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		r    Request
		want bool
		why  string
	}{
		{Request{Kind: "sign", WalletID: "wal_a", InitiatorName: "payout"}, true, "rule 2"},
		{Request{Kind: "sign", WalletID: "wal_b", InitiatorName: "payout"}, false, "no policy rule"},
		{Request{Kind: "sign", WalletID: "wal_a", InitiatorName: "eve"}, false, "no policy rule"},
		{Request{Kind: "refresh", WalletID: "wal_a", InitiatorName: "payout"}, false, "by hand"},
		{Request{Kind: "keygen", InitiatorName: "payout"}, false, "no policy rule"},
	} {
		got, why := p.Decide(c.r)
		if got != c.want || !strings.Contains(why, c.why) {
			t.Errorf("%+v: %v %q", c.r, got, why)
		}
	}
}

func TestBadPolicies(t *testing.T) {
	for _, src := range []string{"", "rules: []", "rules:\n  - action: maybe", "rules:\n  - action: approve\n    kinds: [mint]", "rules:\n  - action: approve\n    walets: [x]"} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("accepted %q", src)
		}
	}
}
