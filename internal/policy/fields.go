package policy

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/paratro/paratro/ceremony"
)

// eachField calls set for each key of mapping n, refusing keys not in known
// and keys given twice. When set fails it returns the key at fault, and
// completes a wrong-type message with an example of the key.
func eachField(n *yaml.Node, known []string, set func(key string, v *yaml.Node) error) (string, error) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		switch first, dup := seen[k.Value]; {
		case k.Kind != yaml.ScalarNode:
			return "", badNode(k, "want a field name here (known: %s)", strings.Join(known, ", "))
		case dup:
			return "", badNode(k, "%s: given twice (first at line %d); keep one", k.Value, first)
		case k.Value == "<<":
			return "", badNode(k, "merge keys (<<) are not supported; write the fields out in each rule")
		case !slices.Contains(known, k.Value):
			return "", badNode(k, "unknown field %q%s (known: %s)", k.Value, suggest(k.Value, known), strings.Join(known, ", "))
		}
		seen[k.Value] = k.Line
		if err := set(k.Value, v); err != nil {
			if ne, ok := err.(*nodeError); ok && ne.like {
				ne.msg += fmt.Sprintf(", like %s: %s", k.Value, examples[k.Value])
			}
			return k.Value, err
		}
	}
	return "", nil
}

// suggest returns `; did you mean "x"?` for a known name within two edits.
func suggest(name string, known []string) string {
	for _, k := range known {
		if editDistance(name, k) <= 2 || len(name) > 3 && strings.Contains(k, name) {
			return fmt.Sprintf("; did you mean %q?", k)
		}
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// resolve follows a YAML alias (*name) to its anchor.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func wrongType(n *yaml.Node, want string) error {
	return &nodeError{node: n, msg: "want " + want, like: true}
}

// scalar reads a string; numbers and booleans are taken as written.
func scalar(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", wrongType(n, "a string")
	}
	return n.Value, nil
}

// stringList reads a non-empty list of non-empty strings.
func stringList(n *yaml.Node) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, wrongType(n, "a list of strings")
	}
	if len(n.Content) == 0 {
		return nil, badNode(n, "empty list; list at least one value, or remove the field to match any")
	}
	list := make([]string, len(n.Content))
	for i, item := range n.Content {
		item = resolve(item)
		s, err := scalar(item)
		if err != nil {
			return nil, wrongType(item, "a list of strings")
		}
		if strings.TrimSpace(s) == "" {
			return nil, badNode(item, "empty value in the list; remove it")
		}
		list[i] = s
	}
	return list, nil
}

// eachItem reads a string list and checks each item with check, blaming
// the item's own line.
func eachItem(n *yaml.Node, check func(s string) (string, error)) ([]string, error) {
	list, err := stringList(n)
	if err != nil {
		return nil, err
	}
	for i, s := range list {
		if list[i], err = check(s); err != nil {
			return nil, badNode(resolve(n.Content[i]), "%v", err)
		}
	}
	return list, nil
}

func setAction(r *Rule, v *yaml.Node) (err error) {
	if r.Action, err = scalar(v); err != nil {
		return err
	}
	if r.Action == "" {
		return badNode(v, "empty; write action: approve or action: reject")
	}
	if r.Action != "approve" && r.Action != "reject" {
		return badNode(v, "%q is not an action; write action: approve or action: reject", r.Action)
	}
	return nil
}

// kindDestroy is coord.KindDestroy: the relay asking the parties of a
// destroyed wallet to erase their shares (policy does not import coord).
const kindDestroy = "destroy"

func setKinds(r *Rule, v *yaml.Node) (err error) {
	r.Kinds, err = eachItem(v, func(s string) (string, error) {
		switch ceremony.Kind(s) {
		case ceremony.KindKeygen, ceremony.KindSign, ceremony.KindPresign, ceremony.KindRefresh, kindDestroy:
			return s, nil
		}
		return "", fmt.Errorf("unknown kind %q; write keygen, sign, presign, refresh or destroy", s)
	})
	return err
}

func amountField(v *yaml.Node) (*Amount, error) {
	if v.Kind == yaml.ScalarNode && (v.ShortTag() == "!!int" || v.ShortTag() == "!!float") {
		return nil, badNode(v, "%s has no unit; write a number and a unit in quotes, like \"%s ETH\"", v.Value, v.Value)
	}
	s, err := scalar(v)
	if err != nil {
		return nil, err
	}
	a, err := parseAmount(s)
	if err != nil {
		return nil, badNode(v, "%v", err)
	}
	return a, nil
}

func setDestinations(r *Rule, v *yaml.Node) (err error) {
	r.Destinations, err = eachItem(v, parseDestination)
	return err
}

func setContractCalls(r *Rule, v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
		return wrongType(v, "true or false")
	}
	return v.Decode(&r.ContractCalls)
}

func window(r *Rule) *Window {
	if r.Window == nil {
		r.Window = &Window{}
	}
	return r.Window
}

func setDays(r *Rule, v *yaml.Node) error {
	list, err := stringList(v)
	if err != nil {
		return err
	}
	for i, s := range list {
		if _, err := parseDays([]string{s}); err != nil {
			return badNode(resolve(v.Content[i]), "%v", err)
		}
	}
	window(r).Days, _ = parseDays(list)
	return nil
}

func setHours(r *Rule, v *yaml.Node) error {
	s, err := scalar(v)
	if err != nil {
		return err
	}
	w := window(r)
	if w.Start, w.End, err = parseHours(s); err != nil {
		return badNode(v, "%v", err)
	}
	return nil
}

func setTimezone(r *Rule, v *yaml.Node) error {
	s, err := scalar(v)
	if err != nil {
		return err
	}
	if window(r).Location, err = loadLocation(s); err != nil {
		return badNode(v, "%v", err)
	}
	return nil
}
