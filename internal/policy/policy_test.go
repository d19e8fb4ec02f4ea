package policy

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return p
}

func TestOperatorsMatchTheOperatorTheRelayActsFor(t *testing.T) {
	p := mustParse(t, `
rules:
  - action: approve
    kinds: [sign]
    initiators: [relay]
    operators: [ben]
`)
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
	p := mustParse(t, `
rules:
  - action: reject
    kinds: [refresh]
    reason: rotations are done by hand
  - action: approve
    kinds: [sign]
    wallets: [wal_a]
    initiators: [payout]
  - action: reject
    kinds: [sign]
    max_amount: 10 ETH
    reason: too late
  - action: approve
    kinds: [sign]
`)
	for _, c := range []struct {
		r    Request
		want bool
		why  string
	}{
		{Request{Kind: "sign", WalletID: "wal_a", InitiatorName: "payout"}, true, "policy rule 2"},
		{Request{Kind: "sign", WalletID: "wal_b", InitiatorName: "payout", Transfer: eth("1", "0x01")}, false, "too late"},
		{Request{Kind: "sign", WalletID: "wal_b", InitiatorName: "payout"}, true, "policy rule 4"},
		{Request{Kind: "refresh", WalletID: "wal_a", InitiatorName: "payout"}, false, "rotations are done by hand"},
		{Request{Kind: "keygen", InitiatorName: "payout"}, false, "no policy rule allows it"},
	} {
		got, why := p.Decide(c.r)
		if got != c.want || why != c.why {
			t.Errorf("%+v: got %v %q, want %v %q", c.r, got, why, c.want, c.why)
		}
	}
}

func TestNoMatchingRuleRejects(t *testing.T) {
	p := mustParse(t, "rules:\n  - action: approve\n    kinds: [keygen]\n")
	for _, r := range []Request{{Kind: "sign"}, {Kind: "refresh"}, {}} {
		if ok, why := p.Decide(r); ok || why != "no policy rule allows it" {
			t.Errorf("Decide(%+v) = %v, %q", r, ok, why)
		}
	}
}

const (
	alice = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
	bob   = "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"
	btcA  = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	btcB  = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
)

// eth is a plain ETH transfer of amount (in ETH) to the addresses.
func eth(amount string, to ...string) *Transfer {
	a, err := parseAmount(amount + " ETH")
	if err != nil {
		panic(err)
	}
	return &Transfer{Asset: "ETH", Amount: a.Value, To: to}
}

func sats(n int64, fee int64, to ...string) *Transfer {
	return &Transfer{Asset: "BTC", Amount: big.NewInt(n), Fee: big.NewInt(fee), To: to}
}

func withFee(t *Transfer, wei int64) *Transfer { t.Fee = big.NewInt(wei); return t }
func withData(t *Transfer, size int) *Transfer { t.DataSize = size; return t }

// at is a time in UTC; 2025-03-12 is a Wednesday.
func at(day, hour, minute int) time.Time {
	return time.Date(2025, 3, day, hour, minute, 0, 0, time.UTC)
}

func TestEachFieldMatchesOrNot(t *testing.T) {
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Fatal(err)
	}
	if at(12, 0, 0).Weekday() != time.Wednesday {
		t.Fatal("the calendar in this test is wrong")
	}
	sign := func(tr *Transfer) Request { return Request{Kind: "sign", Transfer: tr} }
	when := func(tm time.Time) Request { return Request{Kind: "sign", Time: tm} }
	for _, c := range []struct {
		name string
		rule string // the fields of one approving rule
		r    Request
		want bool
	}{
		{"a kind in kinds matches", "kinds: [keygen, sign]", Request{Kind: "sign"}, true},
		{"a kind not in kinds does not", "kinds: [keygen]", Request{Kind: "refresh"}, false},
		{"a listed wallet matches", "wallets: [wal_a]", Request{WalletID: "wal_a"}, true},
		{"another wallet does not", "wallets: [wal_a]", Request{WalletID: "wal_b"}, false},
		{"a listed chain matches", "chains: [ethereum]", Request{Chain: "ethereum"}, true},
		{"another chain does not", "chains: [ethereum]", Request{Chain: "bitcoin"}, false},
		{"an initiator matches by name", "initiators: [ci-bot]", Request{InitiatorName: "ci-bot", InitFP: "3f9a11c27e04b8d1"}, true},
		{"an initiator matches by fingerprint", "initiators: [3f9a11c27e04b8d1]", Request{InitiatorName: "x", InitFP: "3f9a11c27e04b8d1"}, true},
		{"an all-digit fingerprint is read as written", "initiators: [0011223344556677]", Request{InitFP: "0011223344556677"}, true},
		{"another initiator does not", "initiators: [ci-bot]", Request{InitiatorName: "eve", InitFP: "00"}, false},
		{"a listed operator matches", "operators: [ben]", Request{OperatorName: "ben"}, true},
		{"another operator does not", "operators: [ben]", Request{OperatorName: "eve"}, false},

		{"an amount under the ceiling matches", `max_amount: "0.5 ETH"`, sign(eth("0.4", alice)), true},
		{"an amount equal to the ceiling matches", `max_amount: "0.5 ETH"`, sign(eth("0.5", alice)), true},
		{"one wei over the ceiling does not", `max_amount: "0.5 ETH"`, sign(eth("0.500000000000000001", alice)), false},
		{"a ceiling in gwei compares in wei", `max_amount: 500000000 gwei`, sign(eth("0.5", alice)), true},
		{"a ceiling in wei", `max_amount: 1 wei`, sign(eth("0.000000000000000002", alice)), false},
		{"an ETH ceiling does not match BTC", `max_amount: "1 ETH"`, sign(sats(1, 0, btcA)), false},
		{"a BTC ceiling in sat", `max_amount: 5000 sat`, sign(sats(5000, 0, btcA)), true},
		{"a BTC ceiling in BTC", `max_amount: 0.00005 btc`, sign(sats(5001, 0, btcA)), false},
		{"a raw digest never matches max_amount", `max_amount: "100 ETH"`, sign(nil), false},
		{"an unknown amount never matches max_amount", `max_amount: "100 ETH"`, sign(&Transfer{Asset: "ETH", To: []string{alice}}), false},
		{"a zero ceiling allows a zero transfer", `max_amount: "0 ETH"`, sign(eth("0", alice)), true},

		{"a fee under max_fee matches", `max_fee: "0.01 ETH"`, sign(withFee(eth("5", alice), 1e16)), true},
		{"a fee over max_fee does not", `max_fee: "0.01 ETH"`, sign(withFee(eth("5", alice), 1e16+1)), false},
		{"an unknown fee does not", `max_fee: "0.01 ETH"`, sign(eth("5", alice)), false},
		{"a raw digest never matches max_fee", `max_fee: "0.01 ETH"`, sign(nil), false},
		{"a BTC fee in sat", `max_fee: 2000 sat`, sign(sats(1e8, 1999, btcA)), true},

		{"every destination listed matches", "destinations: [" + alice + ", " + bob + "]", sign(eth("1", alice, bob)), true},
		{"one destination not listed does not", "destinations: [" + alice + "]", sign(eth("1", alice, bob)), false},
		{"no destination does not", "destinations: [" + alice + "]", sign(eth("1")), false},
		{"Ethereum addresses compare in any case", "destinations: [0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed]", sign(eth("1", "0x"+strings.ToUpper(alice[2:]))), true},
		{"bech32 addresses compare lower-cased", "destinations: [" + btcA + "]", sign(sats(1, 0, strings.ToUpper(btcA))), true},
		{"a raw digest never matches destinations", "destinations: [" + alice + "]", sign(nil), false},

		{"a contract call does not match max_amount", `max_amount: "1 ETH"`, sign(withData(eth("0", alice), 68)), false},
		{"a contract call does not match destinations", "destinations: [" + alice + "]", sign(withData(eth("0", alice), 68)), false},
		{"contract_calls: true lets a contract call match", "max_amount: 1 ETH\n    contract_calls: true", sign(withData(eth("0", alice), 68)), true},
		{"contract_calls: false is the default", "max_amount: 1 ETH\n    contract_calls: false", sign(withData(eth("0", alice), 68)), false},
		{"max_fee alone matches a contract call", `max_fee: "1 ETH"`, sign(withFee(withData(eth("0", alice), 68), 1)), true},

		{"a listed day matches", "days: [wed]", when(at(12, 9, 0)), true},
		{"another day does not", "days: [mon, tue]", when(at(12, 9, 0)), false},
		{"a day range matches inside", "days: [mon-fri]", when(at(14, 9, 0)), true},
		{"a day range does not match outside", "days: [mon-fri]", when(at(15, 9, 0)), false},
		{"a range may wrap over the weekend", "days: [fri-mon]", when(at(16, 9, 0)), true},
		{"day names ignore case", "days: [WED]", when(at(12, 9, 0)), true},
		{"hours include their start", `hours: "08:00-18:00"`, when(at(12, 8, 0)), true},
		{"hours exclude their end", `hours: "08:00-18:00"`, when(at(12, 18, 0)), false},
		{"the last minute is in", `hours: "08:00-18:00"`, when(at(12, 17, 59)), true},
		{"before the start is out", `hours: "08:00-18:00"`, when(at(12, 7, 59)), false},
		{"a window across midnight matches late", `hours: "22:00-06:00"`, when(at(12, 23, 30)), true},
		{"a window across midnight matches early", `hours: "22:00-06:00"`, when(at(12, 5, 59)), true},
		{"a window across midnight does not match midday", `hours: "22:00-06:00"`, when(at(12, 12, 0)), false},
		{"a night belongs to the day it starts", "days: [fri]\n    hours: \"22:00-06:00\"", when(at(15, 5, 0)), true},
		{"so the early hours of that day do not", "days: [fri]\n    hours: \"22:00-06:00\"", when(at(14, 5, 0)), false},
		{"hours may end at 24:00", `hours: "22:00-24:00"`, when(at(12, 23, 59)), true},
		{"a zero time never matches a window", "days: [mon-sun]", when(time.Time{}), false},
		{"a time zone shifts the window", "hours: \"08:00-18:00\"\n    timezone: Europe/Zurich", when(at(12, 7, 30)), true},
		{"and shifts it out at the end", "hours: \"08:00-18:00\"\n    timezone: Europe/Zurich", when(at(12, 17, 30)), false},
		{"summer time counts", "hours: \"08:00-18:00\"\n    timezone: Europe/Zurich", when(time.Date(2025, 7, 2, 6, 30, 0, 0, time.UTC)), true},
		{"a time zone shifts the day", "days: [thu]\n    timezone: Europe/Zurich", when(at(12, 23, 30)), true},
		{"the request's own zone does not matter", "hours: \"08:00-18:00\"\n    timezone: Europe/Zurich", when(at(12, 7, 30).In(zurich)), true},
		{"without a time zone the window is UTC", `hours: "08:00-18:00"`, when(at(12, 7, 30).In(zurich)), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := mustParse(t, "rules:\n  - action: approve\n    "+c.rule+"\n")
			if got, why := p.Decide(c.r); got != c.want {
				t.Errorf("Decide = %v (%s), want %v", got, why, c.want)
			}
		})
	}
}

func TestOnlyARuleNamingDestroyApprovesAnErasure(t *testing.T) {
	catchAll := mustParse(t, `
rules:
  - action: approve
    initiators: [relay]
`)
	if ok, why := catchAll.Decide(Request{Kind: "destroy", InitiatorName: "relay"}); ok {
		t.Fatalf("a rule without kinds approved erasing the share (%s)", why)
	}
	if ok, _ := catchAll.Decide(Request{Kind: "sign", InitiatorName: "relay"}); !ok {
		t.Fatal("the rule without kinds no longer approves signing")
	}
	named := mustParse(t, `
rules:
  - action: approve
    kinds: [destroy]
    initiators: [relay]
`)
	if ok, why := named.Decide(Request{Kind: "destroy", InitiatorName: "relay"}); !ok {
		t.Fatalf("a rule naming destroy did not approve it: %s", why)
	}
}
