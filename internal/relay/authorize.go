package relay

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/paratro/paratro/internal/audit"
)

// Hooks let a control plane (internal/control) veto and follow ceremonies.
type Hooks interface {
	// AuthorizeCeremony is called before a ceremony is stored, after the
	// relay's own role checks; an error refuses the ceremony.
	AuthorizeCeremony(p *Principal, c *Ceremony, kind, walletID string) error
	// CeremonyCreated is called once a new ceremony is stored.
	CeremonyCreated(p *Principal, c *Ceremony, kind, walletID string)
	// MessagePosted is called after a control message is stored.
	MessagePosted(c *Ceremony, m Message)
}

type noHooks struct{}

func (noHooks) AuthorizeCeremony(*Principal, *Ceremony, string, string) error { return nil }
func (noHooks) CeremonyCreated(*Principal, *Ceremony, string, string)         {}
func (noHooks) MessagePosted(*Ceremony, Message)                              {}

// SetHooks installs h; call it before the server serves.
func (s *Server) SetHooks(h Hooks) { s.hooks = h }

// requestProbe is what the relay reads of a ceremony's request statement
// (internal/coord) to decide whether the initiator may start it: the kind
// and the wallet. The parties check the whole signed statement.
type requestProbe struct {
	Type   string `json:"type"`
	Signer string `json:"signer"`
	Body   struct {
		Kind     string `json:"kind"`
		WalletID string `json:"wallet_id"`
	} `json:"body"`
}

// Ceremony kinds as the relay authorises them, and the role each needs.
// A destroy (erase the shares of a destroyed wallet) is the relay's own:
// the control plane refuses it from anyone else.
var kindRoles = map[string]Role{"keygen": RoleAdmin, "refresh": RoleAdmin, "sign": RoleOperator, "presign": RoleOperator, "destroy": RoleOwner}

// authorizeCeremony checks that the caller may start rec: it must be a
// member whose role allows the kind of the request (refresh also needs a
// TOTP code), and every member of the ceremony must be admitted.
func (s *Server) authorizeCeremony(r *http.Request, c *call, rec *Ceremony) (*Principal, string, string, error) {
	var probe requestProbe
	if err := json.Unmarshal(rec.Request, &probe); err != nil || probe.Type != "request" || probe.Body.Kind == "" {
		return nil, "", "", Error(http.StatusBadRequest, "bad_ceremony", "the ceremony's request is not a paratro request statement")
	}
	if probe.Signer != c.fp() {
		return nil, "", "", Error(http.StatusBadRequest, "bad_ceremony", "the ceremony's request must be signed by its initiator")
	}
	kind, wallet := probe.Body.Kind, probe.Body.WalletID
	need, ok := kindRoles[kind]
	if !ok {
		return nil, "", "", Errorf(http.StatusBadRequest, "bad_ceremony", "unknown ceremony kind %q", kind)
	}
	var p *Principal
	if s.self != nil && c.fp() == s.self.Fingerprint() {
		p = s.selfPrincipal()
	} else {
		m, err := s.operator(c.fp())
		if err != nil {
			return nil, "", "", err
		}
		p = &Principal{Member: m, Via: ViaIdentity}
		if !m.Role.AtLeast(need) {
			s.auditRefusal(p, fmt.Sprintf("start %s of %s: role %s, needs %s", kind, wallet, m.Role, need))
			return nil, "", "", Errorf(http.StatusForbidden, "forbidden", "starting a %s needs the %s role; %s is %s", kind, need, m.Name, m.Role)
		}
		if err := s.ceremonyOTP(r, p, kind, wallet); err != nil {
			return nil, "", "", err
		}
	}
	for _, m := range rec.Members {
		if s.self != nil && m.Fingerprint() == s.self.Fingerprint() {
			continue
		}
		_, admitted, err := s.store.member(m.Fingerprint())
		if err != nil {
			return nil, "", "", err
		}
		_, known, err := s.store.identityByKey(m.SigningKey)
		if err != nil {
			return nil, "", "", err
		}
		if known && !admitted { // an unknown identity is refused by the store, as unknown
			return nil, "", "", Errorf(http.StatusForbidden, "not_admitted",
				"%s is not admitted to this relay: an owner runs paratro operator add %s --role operator", m.Label(), m.Name)
		}
	}
	if err := s.hooks.AuthorizeCeremony(p, rec, kind, wallet); err != nil {
		return nil, "", "", err
	}
	return p, kind, wallet, nil
}

func (s *Server) auditRefusal(p *Principal, detail string) {
	s.audit(audit.Entry{Event: audit.EventAuthRefused, Actor: p.Label(), Outcome: "refused", Detail: detail})
}

// ceremonyOTP asks for a TOTP code where the access table does: every
// refresh (rotate-keys); and a keygen started by an operator who has
// enrolled TOTP, so that a stolen identity key alone cannot create wallets.
func (s *Server) ceremonyOTP(r *http.Request, p *Principal, kind, wallet string) error {
	switch kind {
	case "refresh":
		return s.checkOTP(r, p, "rotate-keys "+wallet)
	case "keygen":
		rec, err := s.store.mfaRecord(p.Member.Fingerprint)
		if err != nil || rec.Sealed == nil {
			return err
		}
		return s.checkOTP(r, p, "wallet create "+wallet)
	}
	return nil
}
