package ceremony

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/taurusgroup/multi-party-sig/pkg/ecdsa"
	"github.com/taurusgroup/multi-party-sig/pkg/math/curve"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
	"github.com/taurusgroup/multi-party-sig/protocols/cmp"
	"github.com/taurusgroup/multi-party-sig/protocols/frost"
)

// Protocol identifiers the library stamps on its messages.
const (
	protoCMPKeygen        = "cmp/keygen-threshold"
	protoCMPRefresh       = "cmp/refresh-threshold"
	protoCMPSign          = "cmp/sign"
	protoCMPPresign       = "cmp/presign-offline"
	protoCMPPresignOnline = "cmp/presign-online"
	protoFROSTKeygen      = "frost/keygen-threshold-taproot"
	protoFROSTSign        = "frost/sign-threshold-taproot"
)

// plan is what the engine needs to run one party's side of a ceremony.
type plan struct {
	start    protocol.StartFunc
	protocol string
	final    int        // the library's final round number
	rounds   int        // rounds as shown to people (final, except presign-online)
	members  []party.ID // sorted ceremony parties
	// poly is the expected coefficient count of the keygen/refresh
	// polynomial commitments (t+1 for keygen, t for refresh).
	poly int
	// signer is the share a sign ceremony signs with: the party's share, or
	// its derived child share when the descriptor names an Index.
	signer *Share
}

// prepare checks this party's inputs against the descriptor and builds the
// library's start function. No pool is ever passed: a nil pool keeps
// panics recoverable and avoids the pool's leak (SECURITY.md B5).
func prepare(d *Descriptor, cfg *Config) (*plan, error) {
	members := d.SortedParties()
	if !slices.Contains(members, cfg.Self) {
		return nil, invalidf("this party (%s) is not a participant", cfg.Self)
	}
	t := d.Required - 1
	p, err := preparePlan(d, cfg, members, t)
	if err != nil {
		return nil, err
	}
	if p.rounds == 0 {
		p.rounds = p.final
	}
	return p, nil
}

func preparePlan(d *Descriptor, cfg *Config, members []party.ID, t int) (*plan, error) {
	if d.Kind == KindKeygen {
		return prepareKeygen(d, cfg, members, t)
	}
	sh := cfg.Share
	if sh == nil {
		return nil, invalidf("%s needs this party's share", d.Kind)
	}
	if err := checkShare(d, cfg, sh); err != nil {
		return nil, err
	}
	// The library mutates the configuration it is given in some protocols
	// (FROST refresh adds into PrivateShare in place), so those only ever
	// see a private copy. CMP sign, presign and presign-online only read it
	// (TestCMPLeavesTheShareAlone), and copying a CMP share costs two
	// Paillier prime checks: they use the caller's share as it is.
	if d.Kind == KindRefresh || sh.scheme == SchemeSchnorr {
		var err error
		if sh, err = sh.clone(); err != nil {
			return nil, &Error{Code: CodeInternal, Reason: "could not copy the share", Err: err}
		}
	}
	switch d.Kind {
	case KindRefresh:
		return prepareRefresh(d, sh, members, t)
	case KindSign:
		return prepareSign(d, cfg, sh, members)
	default: // KindPresign; Validate allows it for ECDSA only
		return &plan{start: cmp.Presign(sh.cmp, members, nil), protocol: protoCMPPresign, final: 7, members: members}, nil
	}
}

func prepareKeygen(d *Descriptor, cfg *Config, members []party.ID, t int) (*plan, error) {
	if cfg.Share != nil {
		return nil, invalidf("keygen takes no share")
	}
	if d.Scheme == SchemeECDSA {
		return &plan{start: cmp.Keygen(curve.Secp256k1{}, cfg.Self, members, t, nil),
			protocol: protoCMPKeygen, final: 5, members: members, poly: t + 1}, nil
	}
	return &plan{start: frost.KeygenTaproot(cfg.Self, members, t),
		protocol: protoFROSTKeygen, final: 3, members: members, poly: t + 1}, nil
}

func prepareRefresh(d *Descriptor, sh *Share, members []party.ID, t int) (*plan, error) {
	// Refresh always runs with every party of the wallet (SECURITY.md B9).
	if !slices.Equal(members, sh.Parties()) {
		return nil, invalidf("refresh needs all %d parties of the wallet (%s)", len(sh.Parties()), names(sh.Parties()))
	}
	if sh.scheme == SchemeECDSA {
		return &plan{start: cmp.Refresh(sh.cmp, nil), protocol: protoCMPRefresh, final: 5, members: members, poly: t}, nil
	}
	return &plan{start: frost.RefreshTaproot(sh.frost, members), protocol: protoFROSTKeygen, final: 3, members: members, poly: t}, nil
}

func prepareSign(d *Descriptor, cfg *Config, sh *Share, members []party.ID) (*plan, error) {
	if sh.scheme == SchemeSchnorr {
		if d.Taproot {
			tweaked, err := sh.TaprootKeyPath()
			if err != nil {
				return nil, invalidf("%v", err)
			}
			sh = tweaked
		}
		return &plan{start: frost.SignTaproot(sh.frost, members, d.Digest), protocol: protoFROSTSign, final: 3, members: members, signer: sh}, nil
	}
	if d.PresignatureID == "" {
		if cfg.Presignature != nil {
			return nil, invalidf("a presignature was given but the descriptor names none")
		}
		if d.Index != nil {
			// Validate refused hardened indexes and Schnorr wallets, on
			// which the library would panic or derive with no chain key.
			child, err := sh.DeriveChild(*d.Index)
			if err != nil {
				return nil, invalidf("derive child %d: %v", *d.Index, err)
			}
			sh = child
		}
		return &plan{start: cmp.Sign(sh.cmp, members, d.Digest, nil), protocol: protoCMPSign, final: 5, members: members, signer: sh}, nil
	}
	if err := checkPresignature(d, cfg, members); err != nil {
		return nil, err
	}
	return &plan{start: cmp.PresignOnline(sh.cmp, cfg.Presignature, d.Digest, nil),
		protocol: protoCMPPresignOnline, final: 8, rounds: 2, members: members, signer: sh}, nil
}

func checkPresignature(d *Descriptor, cfg *Config, members []party.ID) error {
	ps := cfg.Presignature
	if ps == nil || cfg.MarkPresignatureUsed == nil {
		return invalidf("presignature %s: the presignature and a way to mark it used are required", d.PresignatureID)
	}
	if err := ps.Validate(); err != nil {
		return invalidf("presignature %s: %v", d.PresignatureID, err)
	}
	if signers := sortedIDs(ps.SignerIDs()); !slices.Equal(signers, members) {
		return invalidf("presignature %s was made by %s, not by the signers %s", d.PresignatureID, names(signers), names(members))
	}
	return nil
}

// checkShare makes sure the share belongs to this ceremony before any
// handler exists, so a mismatch fails at once instead of as a silent hang
// (SECURITY.md B9, release case 17).
func checkShare(d *Descriptor, cfg *Config, sh *Share) error {
	if sh.scheme != d.Scheme {
		return invalidf("share is %s but the ceremony is %s", sh.scheme, d.Scheme)
	}
	if sh.PartyID() != cfg.Self {
		return invalidf("share belongs to party %s, not %s", sh.PartyID(), cfg.Self)
	}
	if !bytes.Equal(sh.ConfigDigest(), d.ConfigDigest) {
		return invalidf("share epoch mismatch: this party's share is not the configuration the ceremony runs on (epoch %d)", d.Epoch)
	}
	if sh.Required() != d.Required {
		return invalidf("share needs %d signers but the ceremony says %d", sh.Required(), d.Required)
	}
	if id, ok := containsAll(sh.Parties(), d.Parties); !ok {
		return invalidf("party %s is not a party of this wallet", id)
	}
	return nil
}

func sortedIDs(ids []party.ID) []party.ID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// Presignature is an ECDSA presignature (secret: KShare and ChiShare).
type Presignature = ecdsa.PreSignature

func invalidf(format string, args ...any) error {
	return &Error{Code: CodeInvalid, Reason: fmt.Sprintf(format, args...)}
}
