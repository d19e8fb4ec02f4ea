package coord

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/taurusgroup/multi-party-sig/pkg/party"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/identity"
)

// Request is what an initiator asks the parties to do. Parties approve it
// or not; the initiator's start then fixes who takes part.
type Request struct {
	Kind       ceremony.Kind   `json:"kind"`
	Scheme     ceremony.Scheme `json:"scheme"`
	WalletID   string          `json:"wallet_id"`
	WalletName string          `json:"wallet_name,omitempty"`
	Chain      string          `json:"chain,omitempty"`
	// Parties are the wallet's parties: all of them take part in keygen and
	// refresh; for sign they are the candidates, of whom Required sign.
	Parties []identity.Public `json:"parties"`
	// Signers, for sign, names the signers (fingerprints); empty means the
	// first Required parties to approve.
	Signers      []string `json:"signers,omitempty"`
	Required     int      `json:"required"`
	Epoch        uint64   `json:"epoch"`
	ConfigDigest string   `json:"config_digest,omitempty"` // hex
	Digest       string   `json:"digest,omitempty"`        // hex, sign only
	// Index, for sign, is the BIP-32 child of the wallet key to sign with
	// (unhardened, ECDSA wallets only; see ceremony.Descriptor.Index); nil
	// signs with the wallet key itself.
	Index *uint32 `json:"index,omitempty"`
	// Taproot, for a Schnorr sign request, signs under the wallet's BIP-86
	// Taproot output key (a P2TR key-path spend).
	Taproot bool `json:"taproot,omitempty"`
	// NoPresignature, for an ECDSA sign, asks for the full protocol even
	// where the signers hold a presignature.
	NoPresignature bool `json:"no_presignature,omitempty"`
	// Batch, for presign, is the batch of presign ceremonies this one
	// belongs to: a holder approves a batch once (see Batch).
	Batch *Batch `json:"batch,omitempty"`
	// Payload, for sign, is what the digest signs, for every party to
	// decode and check itself (see Inspect).
	Payload *Payload `json:"payload,omitempty"`
	// Summary says in words what is being signed, in the initiator's
	// words: approvers see it marked as such; what they act on is the
	// payload.
	Summary   string          `json:"summary,omitempty"`
	Initiator identity.Public `json:"initiator"`
	// Operator is the operator on whose behalf the relay asks, when the
	// relay's own identity is the initiator (the wallet API).
	Operator  string    `json:"operator,omitempty"`
	Deadline  time.Time `json:"deadline"`
	CreatedAt time.Time `json:"created_at"`
}

// Approval is a party's answer to a request.
type Approval struct {
	Approve bool   `json:"approve"`
	Reason  string `json:"reason,omitempty"`
	// Request is the hash of the request statement answered.
	Request string `json:"request"`
	// Presignatures, in the approval of an ECDSA sign request, are the
	// presignatures this party offers to sign it with; the start may name
	// one of them, and then only that one (SECURITY.md B10).
	Presignatures []Offer `json:"presignatures,omitempty"`
}

// Offer is a presignature a party holds, unused, for a sign request: its
// ID and the signers (fingerprints, sorted) who made it.
type Offer struct {
	ID      string   `json:"id"`
	Signers []string `json:"signers"`
}

// Batch names a batch of presign ceremonies started by one pool keeper
// for one wallet and signer set. A holder who approves one request of the
// batch has approved the batch: its next Size-1 requests are approved
// without asking again.
type Batch struct {
	ID   string `json:"id"`
	Size int    `json:"size"`
}

// maxBatch bounds a batch's size.
const maxBatch = 1000

// Start fixes the participants and lets the ceremony begin.
type Start struct {
	Request string   `json:"request"`
	Signers []string `json:"signers"` // fingerprints, sorted
	// Presignature, for an ECDSA sign, is the presignature the signers
	// use: one every signer offered in its approval. Empty: the full
	// protocol.
	Presignature string `json:"presignature,omitempty"`
}

// Withdraw is the initiator taking a request back before starting it (too
// many parties rejected it, or the initiator gave up), so that the parties
// stop asking their holders and stop waiting for a start.
type Withdraw struct {
	Request string `json:"request"`
	Reason  string `json:"reason"`
}

// Outcome is how a party's side of the ceremony ended.
type Outcome struct {
	OK         bool     `json:"ok"`
	Code       string   `json:"code,omitempty"`
	Error      string   `json:"error,omitempty"`
	Culprits   []string `json:"culprits,omitempty"`
	Waiting    []string `json:"waiting,omitempty"`
	ReportedBy string   `json:"reported_by,omitempty"`
	// Presignature is the presignature a sign used; PresignaturesLeft how
	// many this party still holds for the wallet afterwards.
	Presignature      string `json:"presignature,omitempty"`
	PresignaturesLeft *int   `json:"presignatures_left,omitempty"`
	Pending           bool   `json:"pending,omitempty"`
	PublicKey         string `json:"public_key,omitempty"`
	ConfigDigest      string `json:"config_digest,omitempty"`
	Epoch             uint64 `json:"epoch,omitempty"`
	Signature         string `json:"signature,omitempty"`
	ElapsedMS         int64  `json:"elapsed_ms,omitempty"`
}

// hashStatement is how approvals and starts name the request they answer.
func hashStatement(raw []byte) string {
	d := sha256.Sum256(raw)
	return hex.EncodeToString(d[:])
}

// member finds p's identity among the request's parties and initiator.
func (r *Request) member(fp string) (identity.Public, bool) {
	if r.Initiator.Fingerprint() == fp {
		return r.Initiator, true
	}
	return identity.Find(r.Parties, fp)
}

// Validate checks the request's shape (not whether to approve it).
func (r *Request) Validate() error {
	switch r.Kind {
	case ceremony.KindKeygen, ceremony.KindSign, ceremony.KindRefresh, KindDestroy:
	case ceremony.KindPresign:
		if err := r.validatePresign(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported ceremony kind %q", r.Kind)
	}
	if len(r.Parties) < 2 || len(r.Parties) > ceremony.MaxParties {
		return fmt.Errorf("a ceremony needs 2 to %d parties", ceremony.MaxParties)
	}
	seen := map[string]bool{}
	for _, p := range r.Parties {
		if err := p.Validate(); err != nil {
			return err
		}
		if seen[p.Fingerprint()] || seen[p.Name] {
			return fmt.Errorf("party %s is listed twice", p.Label())
		}
		seen[p.Fingerprint()], seen[p.Name] = true, true
	}
	if err := r.Initiator.Validate(); err != nil {
		return err
	}
	for _, s := range r.Signers {
		if _, ok := r.member(s); !ok || !seen[s] {
			return fmt.Errorf("signer %s is not a party of the wallet", s)
		}
	}
	if r.Required < 2 || r.Required > len(r.Parties) {
		return fmt.Errorf("required %d is not between 2 and the %d parties", r.Required, len(r.Parties))
	}
	if r.Taproot && (r.Kind != ceremony.KindSign || r.Scheme != ceremony.SchemeSchnorr) {
		return fmt.Errorf("a Taproot key-path signature is for a schnorr sign request, not %s %s", r.Scheme, r.Kind)
	}
	if r.Payload != nil && r.Kind != ceremony.KindSign {
		return fmt.Errorf("a %s request carries no payload", r.Kind)
	}
	if r.Index != nil {
		if r.Kind != ceremony.KindSign {
			return fmt.Errorf("a %s request takes no derivation index", r.Kind)
		}
		if err := ceremony.ValidateIndex(r.Scheme, *r.Index); err != nil {
			return err
		}
	}
	if r.Batch != nil && r.Kind != ceremony.KindPresign {
		return fmt.Errorf("a %s request is not part of a presign batch", r.Kind)
	}
	if r.NoPresignature && r.Kind != ceremony.KindSign {
		return fmt.Errorf("no_presignature is for sign requests, not %s", r.Kind)
	}
	if (r.Kind == ceremony.KindSign || r.Kind == ceremony.KindPresign) && len(r.Signers) != 0 && len(r.Signers) != r.Required {
		return fmt.Errorf("name exactly %d signers, not %d", r.Required, len(r.Signers))
	}
	if r.Deadline.IsZero() {
		return errors.New("the request has no deadline")
	}
	return ceremony.ValidateWalletID(r.WalletID)
}

// validatePresign checks what a presign request must name: the ECDSA
// wallet's signers, and nothing to sign.
func (r *Request) validatePresign() error {
	switch {
	case r.Scheme != ceremony.SchemeECDSA:
		return fmt.Errorf("presignatures are for ecdsa wallets, not %s", r.Scheme)
	case len(r.Signers) == 0:
		return errors.New("a presign request names its signers")
	case r.Digest != "" || r.Payload != nil || r.Index != nil || r.Taproot:
		return errors.New("a presign request signs nothing: no digest, payload, index or taproot")
	case r.Batch != nil && (r.Batch.Size < 1 || r.Batch.Size > maxBatch || ceremony.ValidateWalletID(r.Batch.ID) != nil):
		return fmt.Errorf("a batch has an ID of letters, digits, '_' or '-' and 1 to %d requests", maxBatch)
	}
	return nil
}

// startDescriptor is the descriptor of the ceremony the start s began.
func (r *Request) startDescriptor(ceremonyID string, s *Start) (*ceremony.Descriptor, error) {
	d, err := r.descriptor(ceremonyID, s.Signers)
	if err != nil {
		return nil, err
	}
	d.PresignatureID = s.Presignature
	return d, nil
}

// descriptor builds the ceremony descriptor every participant computes for
// itself from the approved request and the start.
func (r *Request) descriptor(ceremonyID string, signers []string) (*ceremony.Descriptor, error) {
	id, err := ceremony.ParseID(ceremonyID)
	if err != nil {
		return nil, err
	}
	d := &ceremony.Descriptor{ID: id, Kind: r.Kind, Scheme: r.Scheme, WalletID: r.WalletID,
		Required: r.Required, Epoch: r.Epoch, Deadline: r.Deadline}
	d.Taproot = r.Taproot
	if r.Index != nil {
		i := *r.Index
		d.Index = &i
	}
	for _, s := range signers {
		d.Parties = append(d.Parties, party.ID(s))
	}
	if r.ConfigDigest != "" {
		if d.ConfigDigest, err = hex.DecodeString(r.ConfigDigest); err != nil {
			return nil, errors.New("config_digest is not hex")
		}
	}
	if r.Digest != "" {
		if d.Digest, err = hex.DecodeString(r.Digest); err != nil {
			return nil, errors.New("digest is not hex")
		}
	}
	return d, nil
}

// fixedSigners reports whether the request names who signs (a sign with
// Signers, and every presign), rather than taking the first to approve.
func (r *Request) fixedSigners() bool {
	return (r.Kind == ceremony.KindSign || r.Kind == ceremony.KindPresign) && len(r.Signers) > 0
}

// participants are the fingerprints that must take part: every party for
// keygen and refresh; for sign, the start decides.
func (r *Request) participants() []string {
	var out []string
	for _, p := range r.Parties {
		out = append(out, p.Fingerprint())
	}
	slices.Sort(out)
	return out
}

// name is how people see fingerprint fp in messages about this request.
func (r *Request) name(fp string) string {
	if p, ok := r.member(fp); ok {
		return p.Name
	}
	return fp
}

// OperatorIdentity splits Operator ("name (fingerprint)", possibly followed
// by " via api key ID") into the operator's name and fingerprint; both are
// empty when the request names no operator.
func (r *Request) OperatorIdentity() (name, fp string) {
	name, rest, ok := strings.Cut(r.Operator, " (")
	if !ok {
		return r.Operator, ""
	}
	fp, _, _ = strings.Cut(rest, ")")
	return name, fp
}

// usesPresignatures reports whether a request may be signed with a
// presignature: an ECDSA sign with the wallet key that does not ask for
// the full protocol.
func (r *Request) usesPresignatures() bool {
	return r.Kind == ceremony.KindSign && r.Scheme == ceremony.SchemeECDSA && r.Index == nil && !r.NoPresignature
}
