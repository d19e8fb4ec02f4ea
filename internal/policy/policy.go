// Package policy decides ceremony requests for unattended parties (a CI
// machine, a vault box): a file of rules, the first matching rule decides,
// and anything no rule matches is rejected.
//
//	# ci-policy.yaml
//	rules:
//	  - action: approve
//	    kinds: [sign]
//	    wallets: [wal_7hq2mzk4t6a3bx5c]
//	    initiators: [payout]        # names or fingerprints
//	  - action: reject
//	    kinds: [refresh]
//	    reason: rotations are done by hand
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/paratro/paratro/ceremony"
)

// Policy is an ordered list of rules.
type Policy struct {
	Rules []Rule `yaml:"rules"`
}

// Rule matches requests; empty lists match anything.
type Rule struct {
	Action     string   `yaml:"action"` // approve | reject
	Kinds      []string `yaml:"kinds"`  // keygen, sign, refresh
	Wallets    []string `yaml:"wallets"`
	Chains     []string `yaml:"chains"`
	Initiators []string `yaml:"initiators"`
	// Operators match the operator on whose behalf the relay asks (a
	// request started through the relay's wallet API, signed by the relay's
	// identity): their name or fingerprint. A request with no operator
	// matches only a rule without operators.
	Operators []string `yaml:"operators"`
	Reason    string   `yaml:"reason"`
}

// Request is what a rule looks at.
type Request struct {
	Kind                  ceremony.Kind
	WalletID, Chain       string
	InitiatorName, InitFP string
	// OperatorName and OperatorFP name the operator the relay acts for, if any.
	OperatorName, OperatorFP string
}

// Load reads and checks a policy file.
func Load(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse reads a policy; unknown fields and unknown actions or kinds are errors.
func Parse(b []byte) (*Policy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if len(p.Rules) == 0 {
		return nil, errors.New("policy: no rules (everything would be rejected)")
	}
	for i, r := range p.Rules {
		if r.Action != "approve" && r.Action != "reject" {
			return nil, fmt.Errorf("policy rule %d: action must be approve or reject, not %q", i+1, r.Action)
		}
		for _, k := range r.Kinds {
			switch ceremony.Kind(k) {
			case ceremony.KindKeygen, ceremony.KindSign, ceremony.KindRefresh:
			default:
				return nil, fmt.Errorf("policy rule %d: unknown kind %q (keygen, sign or refresh)", i+1, k)
			}
		}
	}
	return &p, nil
}

// Decide returns whether to approve r, and why.
func (p *Policy) Decide(r Request) (approve bool, reason string) {
	for i, rule := range p.Rules {
		if !match(rule.Kinds, string(r.Kind)) || !match(rule.Wallets, r.WalletID) || !match(rule.Chains, r.Chain) ||
			!(match(rule.Initiators, r.InitiatorName) || match(rule.Initiators, r.InitFP)) ||
			len(rule.Operators) > 0 && (r.OperatorName == "" || !(match(rule.Operators, r.OperatorName) || match(rule.Operators, r.OperatorFP))) {
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

func match(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
