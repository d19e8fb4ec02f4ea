package ceremony

import "github.com/fxamacker/cbor/v2"

// strictCBOR decodes peer-supplied and stored CBOR strictly: duplicate map
// keys, unknown fields, indefinite lengths and invalid UTF-8 are errors, and
// containers are bounded (SECURITY.md B4, #19).
var strictCBOR = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		IndefLength:       cbor.IndefLengthForbidden,
		UTF8:              cbor.UTF8RejectInvalid,
		MaxNestedLevels:   16,
		MaxArrayElements:  4096,
		MaxMapPairs:       4096,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// canonicalCBOR encodes deterministically (sorted map keys), so a share
// serialises to the same bytes every time.
var canonicalCBOR = func() cbor.EncMode {
	em, err := cbor.CanonicalEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()
