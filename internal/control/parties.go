package control

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/relay"
)

// directory is the relay's operators and registered identities, read
// through the relay's own API (never inside a store transaction).
type directory struct {
	ops    []relay.OperatorView
	roster []identity.Public
}

func (p *Plane) directory(ctx context.Context) (*directory, error) {
	ops, err := p.local.Operators(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the relay's operators: %w", err)
	}
	roster, err := p.local.Roster(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the relay's identities: %w", err)
	}
	return &directory{ops: ops, roster: roster}, nil
}

// operator finds an operator by name or fingerprint.
func (d *directory) operator(who string) (relay.OperatorView, bool) {
	i := slices.IndexFunc(d.ops, func(o relay.OperatorView) bool { return o.Name == who || o.Fingerprint == who })
	if i < 0 {
		return relay.OperatorView{}, false
	}
	return d.ops[i], true
}

// identity is the registered identity of fingerprint fp.
func (d *directory) identity(fp string) (identity.Public, bool) { return identity.Find(d.roster, fp) }

// owners are the fingerprints of the relay's owners but except.
func (d *directory) owners(except string) []string {
	var out []string
	for _, o := range d.ops {
		if o.Role == relay.RoleOwner && o.Fingerprint != except {
			out = append(out, o.Fingerprint)
		}
	}
	return out
}

// holders are the operators who can hold shares: every role but viewer.
func (d *directory) holders() []relay.OperatorView {
	return slices.DeleteFunc(slices.Clone(d.ops), func(o relay.OperatorView) bool { return o.Role == relay.RoleViewer })
}

// parties resolves a new wallet's parties: the names or fingerprints
// given, or, when none are, every operator who can hold shares if there
// are exactly total of them.
func (d *directory) parties(names []string, total int) ([]identity.Public, error) {
	if len(names) == 0 {
		holders := d.holders()
		if len(holders) != total {
			return nil, d.partiesRequired(holders, total)
		}
		for _, h := range holders {
			names = append(names, h.Fingerprint)
		}
	}
	if len(names) != total {
		return nil, relay.Errorf(http.StatusBadRequest, "bad_parties", "parties lists %d, but threshold.total is %d: list every party of the wallet once", len(names), total)
	}
	var out []identity.Public
	for _, n := range names {
		pub, err := d.party(n)
		if err != nil {
			return nil, err
		}
		if _, dup := identity.Find(out, pub.Fingerprint()); dup {
			return nil, relay.Errorf(http.StatusBadRequest, "bad_parties", "%s is listed twice in parties: a party holds one share", pub.Name)
		}
		out = append(out, pub)
	}
	return out, nil
}

// party resolves one named party: an admitted operator who is not a viewer.
func (d *directory) party(who string) (identity.Public, error) {
	op, ok := d.operator(who)
	if !ok {
		for _, id := range d.roster {
			if id.Name == who || id.Fingerprint() == who {
				return identity.Public{}, relay.Errorf(http.StatusBadRequest, "unknown_party",
					"%s is registered but not an operator of this relay: an owner admits it with paratro operator add %s --role operator", id.Label(), id.Name)
			}
		}
		return identity.Public{}, relay.Errorf(http.StatusBadRequest, "unknown_party",
			"no operator %q on this relay: GET /v1/operators lists them (a holder registers by running paratro party run against this relay)", clip(who))
	}
	if op.Role == relay.RoleViewer {
		return identity.Public{}, relay.Errorf(http.StatusBadRequest, "unknown_party",
			"%s is a viewer, and viewers hold no shares: an owner can make it an operator (paratro operator set-role %s operator)", op.Name, op.Name)
	}
	pub, ok := d.identity(op.Fingerprint)
	if !ok {
		return identity.Public{}, fmt.Errorf("operator %s has no registered identity", op.Label())
	}
	return pub, nil
}

func (d *directory) partiesRequired(holders []relay.OperatorView, total int) error {
	if len(holders) == 0 {
		return relay.Errorf(http.StatusBadRequest, "parties_required",
			"this relay has no operators who can hold shares yet: an owner admits the key holders (paratro operator add NAME --role operator), then name %d of them in \"parties\"", total)
	}
	var names []string
	for _, h := range holders {
		names = append(names, h.Name)
	}
	return relay.Errorf(http.StatusBadRequest, "parties_required",
		"name the wallet's %d parties in \"parties\": this relay has %d operators who can hold shares (%s), so they cannot all be the parties of a %d-party wallet",
		total, len(holders), strings.Join(names, ", "), total)
}

// partiesOf are the wallet's parties as public records.
func partiesOf(ids []identity.Public) []Party {
	out := make([]Party, len(ids))
	for i, id := range ids {
		out[i] = Party{Name: id.Name, Fingerprint: id.Fingerprint()}
	}
	return out
}

// identities looks the wallet's parties up in the roster, for a request.
func (d *directory) identities(w *Wallet) ([]identity.Public, error) {
	var out []identity.Public
	for _, q := range w.Parties {
		id, ok := d.identity(q.Fingerprint)
		if !ok {
			return nil, fmt.Errorf("party %s of wallet %s is not registered on this relay", q.Name, w.ID)
		}
		out = append(out, id)
	}
	return out, nil
}

// findParty finds a wallet's party by name or fingerprint.
func findParty(w *Wallet, who string) (Party, bool) {
	i := slices.IndexFunc(w.Parties, func(q Party) bool { return q.Name == who || q.Fingerprint == who })
	if i < 0 {
		return Party{}, false
	}
	return w.Parties[i], true
}

// partyNames are the names of a wallet's parties.
func partyNames(w *Wallet) string {
	var out []string
	for _, q := range w.Parties {
		out = append(out, q.Name)
	}
	return strings.Join(out, ", ")
}
