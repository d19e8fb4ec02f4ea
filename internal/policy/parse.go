package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a mistake in a policy file, located by line.
type Error struct {
	File  string // as given to ParseFile; empty from Parse
	Line  int
	Rule  int    // 1-based; 0 when about the file as a whole
	Field string // the field at fault, if any
	Msg   string // what is wrong and what to write instead
}

// Error reads "FILE:LINE: rule N: FIELD: MSG", or "line LINE: ..." without a file.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	} else {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Rule > 0 {
		fmt.Fprintf(&b, "rule %d: ", e.Rule)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ruleFields are a rule's fields in the order the docs list them, each with
// how to read it.
var ruleFields = []struct {
	name string
	set  func(r *Rule, v *yaml.Node) error
}{
	{"action", setAction},
	{"kinds", setKinds},
	{"wallets", func(r *Rule, v *yaml.Node) (err error) { r.Wallets, err = stringList(v); return }},
	{"chains", func(r *Rule, v *yaml.Node) (err error) { r.Chains, err = stringList(v); return }},
	{"initiators", func(r *Rule, v *yaml.Node) (err error) { r.Initiators, err = stringList(v); return }},
	{"operators", func(r *Rule, v *yaml.Node) (err error) { r.Operators, err = stringList(v); return }},
	{"max_amount", func(r *Rule, v *yaml.Node) (err error) { r.MaxAmount, err = amountField(v); return }},
	{"max_fee", func(r *Rule, v *yaml.Node) (err error) { r.MaxFee, err = amountField(v); return }},
	{"destinations", setDestinations},
	{"contract_calls", setContractCalls},
	{"days", setDays},
	{"hours", setHours},
	{"timezone", setTimezone},
	{"reason", func(r *Rule, v *yaml.Node) (err error) { r.Reason, err = scalar(v); return }},
}

// examples show, in error messages, how to write a field.
var examples = map[string]string{
	"action": "approve", "kinds": "[keygen, sign]", "wallets": "[wal_7hq2mzk4t6a3bx5c]",
	"chains": "[ethereum]", "initiators": "[ci-bot]", "operators": "[ben]",
	"max_amount": `"0.5 ETH"`, "max_fee": `"0.01 ETH"`, "destinations": "[0x..., bc1...]",
	"contract_calls": "true", "days": "[mon-fri]", "hours": `"08:00-18:00"`,
	"timezone": "Europe/Zurich", "reason": "rotations are done by hand",
}

// nodeError is an error about one node; parseRule adds rule and field.
type nodeError struct {
	node *yaml.Node
	msg  string
	like bool // a wrong type: eachField adds an example of the field
}

func (e *nodeError) Error() string { return e.msg }

// asNodeError returns err as a nodeError, placing it at n if it has no node.
func asNodeError(err error, n *yaml.Node) *nodeError {
	var ne *nodeError
	if errors.As(err, &ne) {
		return ne
	}
	return &nodeError{node: n, msg: err.Error()}
}

func badNode(n *yaml.Node, format string, args ...any) error {
	return &nodeError{node: n, msg: fmt.Sprintf(format, args...)}
}

// ParseFile reads a policy in YAML or JSON. name (a path, or "" for none)
// starts every error, which names the line and, when it can, the rule and
// field. Unknown or repeated fields, wrong types and empty lists are errors.
func ParseFile(name string, b []byte) (*Policy, error) {
	fail := func(line, rule int, field, format string, args ...any) (*Policy, error) {
		return nil, &Error{File: name, Line: max(line, 1), Rule: rule, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	root, err := decodeOne(b)
	if err != nil {
		var ne *nodeError
		if errors.As(err, &ne) {
			return fail(ne.node.Line, 0, "", "%s", ne.msg)
		}
		line, msg := yamlErrorLine(err)
		return fail(line, 0, "", "%s", msg)
	}
	if root.Kind != yaml.MappingNode {
		return fail(root.Line, 0, "", `a policy is a mapping with a rules list; start the file with "rules:"`)
	}
	var rules *yaml.Node
	if _, err := eachField(root, []string{"rules"}, func(_ string, v *yaml.Node) error { rules = v; return nil }); err != nil {
		ne := asNodeError(err, root)
		return fail(ne.node.Line, 0, "", "%s", ne.msg)
	}
	switch {
	case rules == nil:
		return fail(root.Line, 0, "", `no "rules:" list; every request would be rejected`)
	case rules.Kind != yaml.SequenceNode:
		return fail(rules.Line, 0, "rules", `want a list of rules, each starting "- action: approve" or "- action: reject"`)
	case len(rules.Content) == 0:
		return fail(rules.Line, 0, "rules", `empty list; every request would be rejected; add a rule like "- action: approve"`)
	}
	p := &Policy{}
	for i, n := range rules.Content {
		r, field, err := parseRule(resolve(n))
		if err != nil {
			ne := asNodeError(err, n)
			return fail(ne.node.Line, i+1, field, "%s", ne.msg)
		}
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}

// decodeOne parses the one YAML document in b.
func decodeOne(b []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, badNode(&yaml.Node{Line: 1}, `empty file; write "rules:" and at least one rule`)
	} else if err != nil {
		return nil, err
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, badNode(&next, "a second YAML document; put all rules in one list")
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, badNode(&doc, `empty file; write "rules:" and at least one rule`)
	}
	return resolve(doc.Content[0]), nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlErrorLine splits a YAML syntax error into its line and message. The
// parser's errors ("did not find expected ...") give the line before the
// construct the problem is in, counted from zero; the scanner's are exact.
func yamlErrorLine(err error) (int, string) {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 1, err.Error()
	}
	line, _ := strconv.Atoi(m[1])
	if line > 0 && strings.HasPrefix(m[2], "did not find expected") {
		return line + 1, "not valid YAML or JSON here or below: " + m[2] + "; check the indentation and brackets"
	}
	return line, "not valid YAML or JSON: " + m[2]
}

// parseRule reads one rule; on error it returns the field at fault.
func parseRule(n *yaml.Node) (r Rule, field string, err error) {
	if n.Kind != yaml.MappingNode {
		return r, "", badNode(n, `want a mapping of fields, like "- action: approve"`)
	}
	r.Line = n.Line
	known := make([]string, len(ruleFields))
	for i, f := range ruleFields {
		known[i] = f.name
	}
	seen := map[string]*yaml.Node{}
	field, err = eachField(n, known, func(key string, v *yaml.Node) error {
		seen[key] = v
		for _, f := range ruleFields {
			if f.name == key {
				return f.set(&r, v)
			}
		}
		return nil
	})
	if err != nil {
		return r, field, err
	}
	field, err = checkRule(n, &r, seen)
	return r, field, err
}

// checkRule checks what involves more than one field.
func checkRule(n *yaml.Node, r *Rule, seen map[string]*yaml.Node) (field string, err error) {
	switch {
	case seen["action"] == nil:
		return "action", badNode(n, "missing; write action: approve or action: reject")
	case seen["contract_calls"] != nil && r.MaxAmount == nil && r.Destinations == nil:
		return "contract_calls", badNode(seen["contract_calls"], "only applies with max_amount or destinations; add one or remove contract_calls")
	case seen["timezone"] != nil && r.Window.Start == r.Window.End && len(r.Window.Days) == 0:
		return "timezone", badNode(seen["timezone"], "only applies with days or hours; add one or remove timezone")
	}
	return "", nil
}
