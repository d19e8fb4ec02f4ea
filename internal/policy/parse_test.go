package policy

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/internal/fuzzseed"
)

func TestMalformedPoliciesNameTheLineAndField(t *testing.T) {
	const head = "rules:\n  - action: approve\n" // a good rule 1, lines 1-2
	for _, c := range []struct {
		name  string
		src   string
		line  int
		field string // must appear in the message
	}{
		{"an unknown field", head + "  - action: approve\n    amount: 1 ETH\n", 4, `unknown field "amount"; did you mean "max_amount"?`},
		{"a list given as a string", head + "  - action: approve\n    kinds: sign\n", 4, "rule 2: kinds: want a list of strings, like kinds: [keygen, sign]"},
		{"an unknown action", "rules:\n  - action: maybe\n", 2, `action: "maybe" is not an action; write action: approve or action: reject`},
		{"a missing action", head + "  - kinds: [sign]\n", 3, "rule 2: action: missing"},
		{"an empty action", "rules:\n  - action: ''\n", 2, "action: empty"},
		{"an unknown kind", head + "    kinds: [sign, mint]\n", 3, `kinds: unknown kind "mint"`},
		{"an unknown unit", head + "    max_amount: 1 DOGE\n", 3, `max_amount: unknown unit "DOGE"`},
		{"more decimals than the unit has", head + "    max_amount: 0.000000001 wei\n", 3, "max_amount: \"0.000000001 wei\" has more decimals than wei allows"},
		{"more decimals than BTC has", head + "    max_fee: 0.000000001 BTC\n", 3, "max_fee: \"0.000000001 BTC\" has more decimals"},
		{"a negative amount", head + "    max_amount: -1 ETH\n", 3, "max_amount: \"-1 ETH\" is negative"},
		{"an amount without unit", head + "    max_amount: 1.5\n", 3, `max_amount: 1.5 has no unit`},
		{"an amount in exponent notation", head + "    max_fee: 1e18 wei\n", 3, "max_fee: \"1e18\" is not a plain decimal"},
		{"a legacy Bitcoin address", head + "    destinations:\n      - " + btcA + "\n      - 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\n", 5, "destinations: \"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\" is neither"},
		{"a short Ethereum address", head + "    destinations: [0x5aaeb6053f]\n", 3, "destinations: \"0x5aaeb6053f\" is not an Ethereum address"},
		{"a bad EIP-55 checksum", head + "    destinations: [0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD]\n", 3, "destinations: \"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\" fails its EIP-55 checksum"},
		{"a bad bech32 checksum", head + "    destinations: [bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5]\n", 3, "destinations: \"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5\" is not a bech32 address: checksum fails"},
		{"an unknown day", head + "    days: [mon, tues]\n", 3, `days: unknown day "tues"`},
		{"an unknown day in a range", head + "    days: [mon-fry]\n", 3, `days: unknown day "mon-fry"`},
		{"hours without minutes", head + "    hours: 8-18\n", 3, `hours: "8-18" is not a window`},
		{"hours out of range", head + "    hours: \"08:00-25:00\"\n", 3, "hours: \"08:00-25:00\" has a time out of range"},
		{"an empty window", head + "    hours: \"08:00-08:00\"\n", 3, "hours: \"08:00-08:00\" starts where it ends"},
		{"an unknown time zone", head + "    hours: \"08:00-18:00\"\n    timezone: Europe/Zurik\n", 4, `timezone: unknown time zone "Europe/Zurik"`},
		{"the local time zone", head + "    days: [mon]\n    timezone: Local\n", 4, `timezone: "Local" is not a time zone`},
		{"a time zone without a window", head + "    timezone: UTC\n", 3, "timezone: only applies with days or hours"},
		{"contract_calls not a boolean", head + "    max_amount: 1 ETH\n    contract_calls: yes\n", 4, "contract_calls: want true or false"},
		{"contract_calls without an amount or destinations", head + "    contract_calls: true\n", 3, "contract_calls: only applies with max_amount or destinations"},
		{"a field given twice", head + "    kinds: [sign]\n    kinds: [keygen]\n", 4, "kinds: given twice (first at line 3)"},
		{"an empty list", head + "    wallets: []\n", 3, "wallets: empty list"},
		{"an empty value in a list", head + "    chains: [ethereum, '']\n", 3, "chains: empty value"},
		{"a null reason", head + "    reason:\n", 3, "reason: want a string"},
		{"a rule that is not a mapping", head + "  - approve\n", 3, `rule 2: want a mapping of fields`},
		{"an empty rules list", "# ci\nrules: []\n", 2, "rules: empty list"},
		{"rules that are not a list", "rules:\n  action: approve\n", 2, "rules: want a list of rules"},
		{"a misspelt rules key", "rule:\n  - action: approve\n", 1, `unknown field "rule"; did you mean "rules"?`},
		{"a file that is a list", "- action: approve\n", 1, `start the file with "rules:"`},
		{"an empty file", "# nothing yet\n", 1, "empty file"},
		{"a second document", head + "---\nrules: []\n", 3, "a second YAML document"},
		{"a merge key", "rules:\n  - &a\n    action: approve\n  - <<: *a\n", 4, "merge keys (<<) are not supported"},
		{"bad indentation", head + "   kinds: [sign]\n", 2, "not valid YAML or JSON here or below"},
		{"an unknown field in JSON", "{\"rules\": [\n  {\"action\": \"approve\",\n   \"walets\": [\"wal_a\"]}\n]}\n", 3, `rule 1: unknown field "walets"; did you mean "wallets"?`},
		{"a wrong type in JSON", "{\"rules\": [\n  {\"action\": \"approve\",\n   \"max_amount\": 5}\n]}\n", 3, "rule 1: max_amount: 5 has no unit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFile("ci-policy.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("accepted:\n%s", c.src)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Line != c.line {
				t.Errorf("error %q: want an *Error at line %d", err, c.line)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "ci-policy.yaml:"+strconv.Itoa(c.line)+": ") || !strings.Contains(msg, c.field) || strings.Contains(msg, "\n") {
				t.Errorf("got  %s\nwant ci-policy.yaml:%d: ...%s...", msg, c.line, c.field)
			}
			if _, err := Parse([]byte(c.src)); err == nil || !strings.HasPrefix(err.Error(), "line "+strconv.Itoa(c.line)+": ") {
				t.Errorf("Parse: got %v, want line %d first", err, c.line)
			}
		})
	}
}

func TestLoadNamesTheFileInErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ci-policy.yaml")
	src := "rules:\n  - action: approve\n    kinds: [keygen]\n  - action: approve\n    kinds: [sign]\n\n    max_amount: 1.5 ETC\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := path + `:7: rule 2: max_amount: unknown unit "ETC"; write ETH, gwei, wei, BTC or sat`
	if err == nil || err.Error() != want {
		t.Errorf("Load: got  %v\nwant %s", err, want)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestAJSONPolicyWorks(t *testing.T) {
	p, err := ParseFile("ci-policy.json", []byte(`{
  "rules": [
    {"action": "approve", "kinds": ["keygen", "refresh"], "initiators": ["ci-bot"]},
    {"action": "approve", "kinds": ["sign"], "initiators": ["ci-bot"],
     "max_amount": "0.5 ETH", "max_fee": "0.01 ETH", "destinations": ["`+alice+`"],
     "contract_calls": false, "days": ["mon-fri"], "hours": "08:00-18:00",
     "timezone": "Europe/Zurich", "reason": "payouts"}
  ]
}`))
	if err != nil {
		t.Fatal(err)
	}
	r := Request{Kind: "sign", InitiatorName: "ci-bot", Transfer: withFee(eth("0.5", alice), 1e15), Time: at(12, 9, 0)}
	if ok, why := p.Decide(r); !ok || why != "payouts" {
		t.Errorf("Decide = %v, %q", ok, why)
	}
	r.Time = at(15, 9, 0) // Saturday
	if ok, _ := p.Decide(r); ok {
		t.Error("approved on a Saturday")
	}
	if ok, why := p.Decide(Request{Kind: "refresh", InitiatorName: "ci-bot"}); !ok || why != "policy rule 1" {
		t.Errorf("refresh: %v, %q", ok, why)
	}
}

func TestAmountsAreExactInTheSmallestUnit(t *testing.T) {
	for _, c := range []struct{ in, asset, value string }{
		{"1.5 ETH", "ETH", "1500000000000000000"},
		{"1.5ETH", "ETH", "1500000000000000000"},
		{"0.000000000000000001 eth", "ETH", "1"},
		{"20 gwei", "ETH", "20000000000"},
		{"0.5 Gwei", "ETH", "500000000"},
		{"7 wei", "ETH", "7"},
		{"0.001 BTC", "BTC", "100000"},
		{"21000000 btc", "BTC", "2100000000000000"},
		{"5000 sat", "BTC", "5000"},
		{"0 sat", "BTC", "0"},
	} {
		a, err := parseAmount(c.in)
		if err != nil || a.Asset != c.asset || a.Value.String() != c.value {
			t.Errorf("parseAmount(%q) = %+v, %v; want %s %s", c.in, a, err, c.value, c.asset)
		}
	}
	for _, in := range []string{"", "ETH", "1", "1 ETH extra", "1.5.1 ETH", ".5 ETH", "1,5 ETH", "+1 ETH", "0.1 sat", "0x10 wei", "1 sats"} {
		if a, err := parseAmount(in); err == nil {
			t.Errorf("parseAmount(%q) = %+v, want an error", in, a)
		}
	}
}

func TestDestinationsAreCheckedAndLowerCased(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{alice, alice},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", alice}, // EIP-55
		{"0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", alice}, // all upper: no checksum
		{btcA, btcA},
		{strings.ToUpper(btcA), btcA},
		{"tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"},
		{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"}, // taproot, bech32m
	} {
		if got, err := parseDestination(c.in); err != nil || got != c.want {
			t.Errorf("parseDestination(%q) = %q, %v", c.in, got, err)
		}
	}
	for _, in := range []string{
		"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",   // 39 digits
		"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedd", // 41
		"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",
		"5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",                     // checksum
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kV8f3t4",                     // mixed case
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kb8f3t4",                     // b is not bech32
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",                     // v0 with a bech32m checksum
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", // v1 with a bech32 checksum
		"bc1qqqqq", // too short
		"ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9",                   // another chain
		"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "", "alice's cold wallet", // not addresses
	} {
		if got, err := parseDestination(in); err == nil {
			t.Errorf("parseDestination(%q) = %q, want an error", in, got)
		}
	}
}

// TestTheDocsExamplesParse keeps docs/policy.md honest: every yaml or json
// block in it that holds a policy parses.
func TestTheDocsExamplesParse(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```(?:yaml|json)\n(.*?)```").FindAllSubmatch(b, -1)
	n := 0
	for _, m := range blocks {
		if !strings.Contains(string(m[1]), "rules") || strings.Contains(string(m[1]), "# not a policy") {
			continue
		}
		n++
		if _, err := Parse(m[1]); err != nil {
			t.Errorf("%v in\n%s", err, m[1])
		}
	}
	if n < 2 {
		t.Errorf("found %d policies in docs/policy.md, want the YAML and JSON examples at least", n)
	}
}

// TestTheCIExampleDoesWhatTheDocsSay runs requests against the complete
// example in docs/policy.md.
func TestTheCIExampleDoesWhatTheDocsSay(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(# ci-policy.yaml\n.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("no ci-policy.yaml example in docs/policy.md")
	}
	p := mustParse(t, string(m[1]))
	weekday := time.Date(2025, 3, 12, 16, 59, 0, 0, time.UTC) // Wednesday 17:59 in Zurich
	payout := func(amount string, to ...string) Request {
		return Request{Kind: "sign", Chain: "ethereum", InitiatorName: "ci-bot", Transfer: withFee(eth(amount, to...), 1e15), Time: weekday}
	}
	for _, c := range []struct {
		name string
		r    Request
		want bool
	}{
		{"keygen by ci-bot", Request{Kind: "keygen", InitiatorName: "ci-bot"}, true},
		{"refresh by ci-bot", Request{Kind: "refresh", InitiatorName: "ci-bot", WalletID: "wal_x"}, true},
		{"keygen by someone else", Request{Kind: "keygen", InitiatorName: "eve"}, false},
		{"0.5 ETH to both addresses", payout("0.5", alice, bob), true},
		{"0.51 ETH", payout("0.51", alice), false},
		{"another address", payout("0.1", "0x0000000000000000000000000000000000000001"), false},
		{"a contract call", func() Request { r := payout("0", alice); r.Transfer.DataSize = 68; return r }(), false},
		{"a raw digest", Request{Kind: "sign", Chain: "ethereum", InitiatorName: "ci-bot", Time: weekday}, false},
		{"at 18:00 Zurich", func() Request { r := payout("0.1", alice); r.Time = r.Time.Add(time.Minute); return r }(), false},
		{"on a Saturday", func() Request { r := payout("0.1", alice); r.Time = r.Time.AddDate(0, 0, 3); return r }(), false},
		{"by someone else", func() Request { r := payout("0.1", alice); r.InitiatorName = "eve"; return r }(), false},
	} {
		if got, why := p.Decide(c.r); got != c.want {
			t.Errorf("%s: Decide = %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}

// FuzzParseFile checks that no file makes ParseFile panic, and that every
// error it returns is one line with a line number.
func FuzzParseFile(f *testing.F) {
	fuzzseed.Add(f, "rules:\n  - action: approve\n    max_amount: 1 ETH\n    days: [mon-fri]\n    hours: 22:00-06:00\n")
	fuzzseed.Add(f, `{"rules": [{"action": "reject", "destinations": ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"]}]}`)
	fuzzseed.Add(f, "rules:\n  - &a {action: approve}\n  - *a\n")
	f.Fuzz(func(t *testing.T, src string) {
		_, err := ParseFile("f", []byte(src))
		var pe *Error
		if err != nil && (!errors.As(err, &pe) || pe.Line < 1 || strings.Contains(err.Error(), "\n")) {
			t.Errorf("ParseFile(%q): %q", src, err)
		}
	})
}
