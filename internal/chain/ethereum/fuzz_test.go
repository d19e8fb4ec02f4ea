package ethereum

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/paratro/paratro/internal/fuzzseed"
)

// fuzzSpecs are tx specs as users write them (--tx files).
var fuzzSpecs = []string{
	`{"chain_id": 1, "nonce": 7, "to": "0x52908400098527886E0F7030069857D2E4169EE7", "value": "1.5 ETH", "gas": 21000, "max_fee_per_gas": "30 gwei", "max_priority_fee_per_gas": "2 gwei"}`,
	`{"chain_id": "11155111", "nonce": 0, "to": "0x52908400098527886e0f7030069857d2e4169ee7", "value": "0", "gas": 60000, "gas_price": "20000000000", "data": "0xa9059cbb"}`,
	`{"chain_id": 1, "nonce": 1, "to": "0x52908400098527886E0F7030069857D2E4169EE7", "value": "1 wei", "gas": 21000, "gas_price": "1 gwei", "max_fee_per_gas": "1 gwei"}`,
	`{"chain_id": 1, "chain_id": 5}`,
	`{"chain_id": 1e999, "nonce": -1}`,
}

// FuzzParseTxSpec feeds arbitrary tx specs to ParseTxSpec and, when one is
// read, to Unsigned. A transaction built from a spec encodes to bytes that
// DecodeUnsigned reads back to the same transaction (nonce, gas, value,
// recipient, fee cap, data) and the same signing digest.
func FuzzParseTxSpec(f *testing.F) {
	for _, s := range fuzzSpecs {
		fuzzseed.Add(f, []byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseTxSpec(b)
		if err != nil {
			return
		}
		tx, err := s.Unsigned()
		if err != nil {
			return
		}
		raw, err := EncodeUnsigned(tx)
		if err != nil {
			t.Fatalf("cannot encode a transaction Unsigned built: %v", err)
		}
		got, err := DecodeUnsigned(raw)
		if err != nil {
			t.Fatalf("DecodeUnsigned refuses what Unsigned built from %q: %v", b, err)
		}
		if got.Nonce != tx.Nonce() || got.Gas != tx.Gas() || got.Value.Cmp(tx.Value()) != 0 ||
			got.To != tx.To().Hex() || got.MaxFeePerGas.Cmp(tx.GasFeeCap()) != 0 || !bytes.Equal(got.Data, tx.Data()) {
			t.Fatalf("spec %q: decoded %+v from %+v", b, got, tx)
		}
	})
}

// FuzzDecodeUnsigned feeds arbitrary bytes to DecodeUnsigned, the decoder
// of a sign request's eth-tx payload. An accepted transaction is in
// canonical encoding (it re-encodes to the same bytes), reads the same
// again, has a 32-byte digest, fits 256 bits, and its MaxFee is gas times
// the fee cap.
func FuzzDecodeUnsigned(f *testing.F) {
	for _, s := range fuzzSpecs[:2] {
		spec, err := ParseTxSpec([]byte(s))
		if err != nil {
			f.Fatal(err)
		}
		tx, err := spec.Unsigned()
		if err != nil {
			f.Fatal(err)
		}
		raw, err := EncodeUnsigned(tx)
		if err != nil {
			f.Fatal(err)
		}
		fuzzseed.Add(f, raw)
		fuzzseed.Add(f, raw[:len(raw)-1])
	}
	fuzzseed.Add(f, []byte{0x02, 0xf8})
	fuzzseed.Add(f, []byte{0xc0})
	fuzzseed.Add(f, []byte{0x02, 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := DecodeUnsigned(raw)
		if err != nil {
			return
		}
		again, err := EncodeUnsigned(got.tx)
		if err != nil || !bytes.Equal(again, raw) {
			t.Fatalf("accepted a non-canonical encoding (%v)", err)
		}
		second, err := DecodeUnsigned(again)
		if err != nil || !bytes.Equal(second.Digest, got.Digest) || second.Summary() != got.Summary() {
			t.Fatalf("decoding again differs (%v)", err)
		}
		if len(got.Digest) != 32 || got.DataSize != len(got.Data) || got.ChainID.Sign() <= 0 ||
			got.Value.BitLen() > 256 || got.MaxFeePerGas.BitLen() > 256 ||
			got.MaxFee.Cmp(new(big.Int).Mul(new(big.Int).SetUint64(got.Gas), got.MaxFeePerGas)) != 0 {
			t.Fatalf("accepted an inconsistent transaction: %+v", got)
		}
	})
}
