// Package policy decides ceremony requests for unattended parties (a CI
// machine, a vault box): a file of rules, the first matching rule decides,
// and anything no rule matches is rejected.
//
//	# ci-policy.yaml
//	rules:
//	  - action: approve
//	    kinds: [keygen, refresh]
//	    initiators: [ci-bot]          # names or fingerprints
//	  - action: approve
//	    kinds: [sign]
//	    wallets: [wal_7hq2mzk4t6a3bx5c]
//	    max_amount: "0.5 ETH"         # only a transfer this party decoded itself
//	    destinations: [0x9f1c4be5e5cf2a3b9d2e6f8a7b0c1d2e3f4a5b6c]
//	    days: [mon-fri]
//	    hours: "08:00-18:00"
//	    timezone: Europe/Zurich
//	  - action: reject
//	    kinds: [refresh]
//	    reason: rotations are done by hand
//
// A rule matches when every field it sets matches; a field it leaves out
// matches anything. Files are YAML or JSON; [ParseFile] reports mistakes as
// "FILE:LINE: rule N: FIELD: what is wrong; what to write instead". See
// docs/policy.md for every field.
package policy

import (
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/paratro/paratro/ceremony"
)

// Policy is an ordered list of rules.
type Policy struct {
	Rules []Rule
}

// Rule matches requests. A field left empty (nil) matches anything; [Parse]
// refuses empty lists, so an empty list is never what a file said.
type Rule struct {
	Line       int      // where the rule starts in its file
	Action     string   // approve | reject
	Kinds      []string // keygen, sign, presign, refresh, destroy
	Wallets    []string
	Chains     []string
	Initiators []string // names or fingerprints
	// Operators match the operator on whose behalf the relay asks (a
	// request started through the relay's wallet API, signed by the relay's
	// identity): their name or fingerprint. A request with no operator
	// matches only a rule without operators.
	Operators []string

	// MaxAmount and MaxFee are ceilings on what a sign request moves and
	// may pay; a request without a decoded Transfer never matches them.
	MaxAmount, MaxFee *Amount
	// Destinations, lower case: every destination must be one of them.
	Destinations []string
	// ContractCalls lets MaxAmount and Destinations match a transaction
	// carrying contract-call data. Without it they do not, because such a
	// transaction's value says nothing about the tokens the call moves.
	ContractCalls bool
	// Window limits when the rule matches; nil means at any time.
	Window *Window

	Reason string
}

// Request is what a rule looks at.
type Request struct {
	Kind                  ceremony.Kind
	WalletID, Chain       string
	InitiatorName, InitFP string
	// OperatorName and OperatorFP name the operator the relay acts for, if any.
	OperatorName, OperatorFP string
	// Transfer is what a sign request moves, as this party decoded it itself from the
	// transaction whose hash it is asked to sign; nil when only a raw digest is known.
	Transfer *Transfer
	// Time is when the party decides (its clock), for time windows.
	Time time.Time
}

// Transfer is what a transaction moves, decoded by the deciding party.
type Transfer struct {
	Asset    string   // "ETH" or "BTC" (upper case)
	Amount   *big.Int // in the asset's smallest unit: wei, sat
	Fee      *big.Int // the most the transaction can pay in fees, same unit; nil if unknown
	To       []string // destination addresses
	DataSize int      // bytes of contract-call data (0 for a plain transfer)
}

// Load reads and checks a policy file; errors start with its path and line.
func Load(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFile(path, b)
}

// Parse reads a policy as [ParseFile] does, its errors starting with "line N:".
func Parse(b []byte) (*Policy, error) { return ParseFile("", b) }

// Decide returns whether to approve r, and why: the first matching rule's
// action and reason, or a rejection when no rule matches.
func (p *Policy) Decide(r Request) (approve bool, reason string) {
	for i := range p.Rules {
		rule := &p.Rules[i]
		if !rule.matches(r) {
			continue
		}
		reason := rule.Reason
		if reason == "" {
			reason = fmt.Sprintf("policy rule %d", i+1)
		}
		return rule.Action == "approve", reason
	}
	return false, "no policy rule allows it"
}

func (rule *Rule) matches(r Request) bool {
	if r.Kind == "destroy" && !slices.Contains(rule.Kinds, "destroy") {
		// Erasing a share cannot be undone: only a rule that names
		// destroy among its kinds approves it, never a catch-all rule.
		return false
	}
	return match(rule.Kinds, string(r.Kind)) && match(rule.Wallets, r.WalletID) && match(rule.Chains, r.Chain) &&
		(match(rule.Initiators, r.InitiatorName) || match(rule.Initiators, r.InitFP)) &&
		(len(rule.Operators) == 0 || r.OperatorName != "" && (match(rule.Operators, r.OperatorName) || match(rule.Operators, r.OperatorFP))) &&
		rule.matchTransfer(r.Transfer) && rule.Window.Contains(r.Time)
}

// matchTransfer checks the fields about what a transaction moves; a rule
// that sets any of them matches only a decoded transfer.
func (rule *Rule) matchTransfer(t *Transfer) bool {
	if rule.MaxAmount == nil && rule.MaxFee == nil && rule.Destinations == nil {
		return true
	}
	if t == nil {
		return false
	}
	if (rule.MaxAmount != nil || rule.Destinations != nil) && t.DataSize != 0 && !rule.ContractCalls {
		return false
	}
	if rule.MaxAmount != nil && !rule.MaxAmount.covers(t.Asset, t.Amount) ||
		rule.MaxFee != nil && !rule.MaxFee.covers(t.Asset, t.Fee) {
		return false
	}
	return rule.Destinations == nil || len(t.To) > 0 && !slices.ContainsFunc(t.To, func(to string) bool {
		return !slices.Contains(rule.Destinations, strings.ToLower(strings.TrimSpace(to)))
	})
}

func match(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
