package ceremonytest

import (
	"github.com/paratro/paratro/ceremony"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// Every ceremony kind has a descriptor builder: [Keygen] (CMP or FROST),
// [Sign] (CMP or FROST, full protocol), [Presign] (CMP), [SignPresigned]
// (CMP presign-online: one round with a stored presignature) and
// [Refresh] (CMP or FROST).

// Presign describes an ECDSA presign among the given signers of the
// wallet the shares belong to.
func Presign(shares map[party.ID]*ceremony.Share, signers ...party.ID) *ceremony.Descriptor {
	d := Sign(shares, nil, signers...)
	d.Kind, d.Digest = ceremony.KindPresign, nil
	return d
}

// SignPresigned describes a one-round ECDSA sign of digest that consumes
// the presignature named presignatureID (made by a [Presign] among the
// same signers). Each signer's Config needs the presignature and
// MarkPresignatureUsed.
func SignPresigned(shares map[party.ID]*ceremony.Share, digest []byte, presignatureID string, signers ...party.ID) *ceremony.Descriptor {
	d := Sign(shares, digest, signers...)
	d.PresignatureID = presignatureID
	return d
}
