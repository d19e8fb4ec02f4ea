package ethereum

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustKey(t *testing.T, hexKey string) (*ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := crypto.HexToECDSA(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, crypto.PubkeyToAddress(key.PublicKey).Hex()
}

// unsignedFromFile runs a spec file through ParseTxSpec, Unsigned,
// EncodeUnsigned and DecodeUnsigned.
func unsignedFromFile(t *testing.T, name string) (*types.Transaction, []byte, *Tx) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ParseTxSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := spec.Unsigned()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := EncodeUnsigned(tx)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := DecodeUnsigned(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tx, raw, dec
}

// TestEIP155Example is the worked example of EIP-155: its signing data,
// signing hash and signed transaction, the signature made with the EIP's
// key by go-ethereum's crypto.Sign (RFC 6979, so the same as the EIP's).
func TestEIP155Example(t *testing.T) {
	_, raw, tx := unsignedFromFile(t, "eip155.json")
	if want := "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080"; hex.EncodeToString(raw) != want {
		t.Errorf("unsigned encoding = %x, want the EIP's signing data %s", raw, want)
	}
	if want := "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53"; hex.EncodeToString(tx.Digest) != want {
		t.Fatalf("signing hash = %x, want %s", tx.Digest, want)
	}
	if tx.Type != "legacy" || tx.ChainID.Cmp(big.NewInt(1)) != 0 || tx.Nonce != 9 || tx.Gas != 21000 ||
		tx.To != "0x3535353535353535353535353535353535353535" || FormatEther(tx.Value) != "1" ||
		tx.MaxFeePerGas.Cmp(big.NewInt(20e9)) != 0 || tx.MaxPriorityFeePerGas != nil ||
		FormatEther(tx.MaxFee) != "0.00042" || tx.DataSize != 0 {
		t.Errorf("decoded %+v", tx)
	}
	key, from := mustKey(t, strings.Repeat("46", 32))
	sig, err := crypto.Sign(tx.Digest, key)
	if err != nil {
		t.Fatal(err)
	}
	signed, hash, err := tx.Assemble(sig, from)
	if err != nil {
		t.Fatal(err)
	}
	want := "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
	if hex.EncodeToString(signed) != want {
		t.Errorf("signed tx =\n%x\nwant the EIP's\n%s", signed, want)
	}
	if hash != crypto.Keccak256Hash(mustHex(t, want)) {
		t.Errorf("tx hash %s is not keccak256 of the signed tx", hash)
	}
	wantSummary := "send 1 ETH to 0x3535353535353535353535353535353535353535 on chain 1 (Ethereum mainnet), nonce 9, fee at most 0.00042 ETH (legacy: gas 21000 at 20 gwei), no data"
	if got := tx.Summary(); got != wantSummary {
		t.Errorf("summary\n%s\nwant\n%s", got, wantSummary)
	}
}

func TestEIP1559RoundTrip(t *testing.T) {
	unsigned, raw, tx := unsignedFromFile(t, "eip1559.json")
	if raw[0] != types.DynamicFeeTxType {
		t.Fatalf("encoding starts %#x, want type 2", raw[0])
	}
	data := mustHex(t, "a9059cbb000000000000000000000000fb6916095ca1df60bb79ce92ce3ea74c37c5d3590000000000000000000000000000000000000000000000000de0b6b3a7640000")
	if tx.Type != "eip1559" || tx.ChainID.Cmp(big.NewInt(11155111)) != 0 || tx.Nonce != 7 || tx.Gas != 60000 ||
		tx.To != "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" || tx.Value.String() != "1500000000000000000" ||
		tx.MaxFeePerGas.String() != "30000000000" || tx.MaxPriorityFeePerGas.String() != "1500000000" ||
		tx.MaxFee.String() != "1800000000000000" || tx.DataSize != len(data) || !bytes.Equal(tx.Data, data) {
		t.Errorf("decoded %+v", tx)
	}
	// The same fields as the transaction Unsigned built, and the same digest.
	signer := types.LatestSignerForChainID(big.NewInt(11155111))
	if unsigned.ChainId().Cmp(tx.ChainID) != 0 || unsigned.Nonce() != tx.Nonce || unsigned.To().Hex() != tx.To ||
		unsigned.Value().Cmp(tx.Value) != 0 || unsigned.Gas() != tx.Gas || unsigned.GasFeeCap().Cmp(tx.MaxFeePerGas) != 0 ||
		unsigned.GasTipCap().Cmp(tx.MaxPriorityFeePerGas) != 0 || !bytes.Equal(unsigned.Data(), tx.Data) ||
		signer.Hash(unsigned) != common.BytesToHash(tx.Digest) {
		t.Errorf("decoded fields differ from the built transaction")
	}
	wantSummary := "send 1.5 ETH to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed on chain 11155111 (Sepolia testnet), nonce 7, fee at most 0.0018 ETH (EIP-1559: gas 60000 at up to 30 gwei, tip up to 1.5 gwei), 68 bytes of data (a contract call, selector 0xa9059cbb, not decoded here)"
	if got := tx.Summary(); got != wantSummary {
		t.Errorf("summary\n%s\nwant\n%s", got, wantSummary)
	}

	key, from := mustKey(t, strings.Repeat("0", 63)+"1")
	sig, err := crypto.Sign(tx.Digest, key)
	if err != nil {
		t.Fatal(err)
	}
	signedRaw, hash, err := tx.Assemble(sig, strings.ToLower(from))
	if err != nil {
		t.Fatal(err)
	}
	signed := new(types.Transaction)
	if err := signed.UnmarshalBinary(signedRaw); err != nil {
		t.Fatal(err)
	}
	sender, err := types.Sender(signer, signed)
	if err != nil {
		t.Fatal(err)
	}
	if sender.Hex() != from {
		t.Errorf("sender %s, want %s", sender.Hex(), from)
	}
	if signed.Hash() != hash || signed.Type() != types.DynamicFeeTxType || signed.Nonce() != 7 || signed.Value().Cmp(tx.Value) != 0 {
		t.Errorf("signed tx %+v, hash %s", signed, hash)
	}
	// What Assemble wrote is what go-ethereum's own signing writes.
	ref, err := types.SignTx(unsigned, signer, key)
	if err != nil {
		t.Fatal(err)
	}
	refRaw, _ := ref.MarshalBinary()
	if !bytes.Equal(refRaw, signedRaw) {
		t.Errorf("signed tx differs from types.SignTx's:\n%x\n%x", signedRaw, refRaw)
	}
	// A signed transaction is not an unsigned one.
	if _, err := DecodeUnsigned(signedRaw); err == nil || !strings.Contains(err.Error(), "already carries a signature") {
		t.Errorf("DecodeUnsigned(signed 1559 tx) = %v", err)
	}
}

func TestValueUnits(t *testing.T) {
	for _, c := range []struct{ json, wei string }{
		{`"1.5 ether"`, "1500000000000000000"},
		{`"1.5 ETH"`, "1500000000000000000"},
		{`"1.5ether"`, "1500000000000000000"},
		{`"30 gwei"`, "30000000000"},
		{`"30 Gwei"`, "30000000000"},
		{`"0.000000001 ether"`, "1000000000"},
		{`"1000 wei"`, "1000"},
		{`"21000"`, "21000"},
		{`21000`, "21000"},
		{`"0"`, "0"},
		{`"1.000 wei"`, "1"},
		{`"115792089237316195423570985008687907853269984665640564039457584007913129639935"`, maxUint256.String()},
	} {
		spec := `{"chain_id":1,"nonce":0,"to":"0x3535353535353535353535353535353535353535","gas":21000,"gas_price":"1 gwei","value":` + c.json + `}`
		s, err := ParseTxSpec([]byte(spec))
		if err != nil {
			t.Errorf("%s: %v", c.json, err)
			continue
		}
		wei, err := s.Value.Wei()
		if err != nil {
			t.Errorf("%s: %v", c.json, err)
			continue
		}
		if wei.String() != c.wei {
			t.Errorf("%s = %s wei, want %s", c.json, wei, c.wei)
		}
	}
}

func TestFormatEther(t *testing.T) {
	for _, c := range []struct{ wei, want string }{
		{"0", "0"},
		{"1", "0.000000000000000001"},
		{"1000000000", "0.000000001"},
		{"1500000000000000000", "1.5"},
		{"1000000000000000000", "1"},
		{"123000000000000000000000", "123000"},
		{"-2500000000000000000", "-2.5"},
	} {
		wei, _ := new(big.Int).SetString(c.wei, 10)
		if got := FormatEther(wei); got != c.want {
			t.Errorf("FormatEther(%s) = %q, want %q", c.wei, got, c.want)
		}
	}
}

func TestChainNames(t *testing.T) {
	for id, want := range map[int64]string{
		1: "chain 1 (Ethereum mainnet)", 11155111: "chain 11155111 (Sepolia testnet)", 17000: "chain 17000 (Holesky testnet)",
		31337: "chain 31337 (local dev chain)", 1337: "chain 1337 (local dev chain)", 5: "chain 5", 137: "chain 137",
	} {
		if got := ChainName(big.NewInt(id)); got != want {
			t.Errorf("ChainName(%d) = %q, want %q", id, got, want)
		}
	}
}

const goodSpec = `{"chain_id":1,"nonce":0,"to":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","value":"1 ether","gas":21000,"max_fee_per_gas":"30 gwei","max_priority_fee_per_gas":"1 gwei"}`

func TestSpecErrors(t *testing.T) {
	if _, err := ParseTxSpec([]byte(goodSpec)); err != nil {
		t.Fatal(err)
	}
	with := func(old, new string) string {
		if !strings.Contains(goodSpec, old) {
			t.Fatalf("%q not in the spec", old)
		}
		return strings.Replace(goodSpec, old, new, 1)
	}
	for _, c := range []struct{ name, spec, want string }{
		{"malformed JSON", `{"chain_id":1,`, "malformed JSON"},
		{"not JSON", `chain_id=1`, "malformed JSON"},
		{"not an object", `[1]`, "want a JSON object"},
		{"unknown field", with(`"gas":21000`, `"gas":21000,"gasLimit":21000`), `unknown field "gasLimit"`},
		{"repeated field", with(`"nonce":0`, `"nonce":0,"nonce":1`), `"nonce" appears twice`},
		{"trailing data", goodSpec + `{}`, "data after the JSON object"},
		{"missing nonce", with(`"nonce":0,`, ``), "nonce is missing"},
		{"missing to", with(`"to":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",`, ``), "to is missing"},
		{"nonce as string", with(`"nonce":0`, `"nonce":"0"`), "nonce"},
		{"negative nonce", with(`"nonce":0`, `"nonce":-1`), "nonce"},
		{"null value", with(`"1 ether"`, `null`), "value"},
		{"bad chain id", with(`"chain_id":1`, `"chain_id":"mainnet"`), "chain_id"},
		{"zero chain id", with(`"chain_id":1`, `"chain_id":0`), "chain_id: 0 is out of range"},
		{"fractional chain id", with(`"chain_id":1`, `"chain_id":1.5`), "chain_id"},
		{"negative value", with(`"1 ether"`, `"-1 ether"`), "value: \"-1 ether\" is negative"},
		{"negative value number", with(`"1 ether"`, `-5`), "value: \"-5\" is negative"},
		{"too many decimals", with(`"1 ether"`, `"1.0000000000000000001 ether"`), "more decimals than ether allows"},
		{"decimals without unit", with(`"1 ether"`, `"1.5"`), "a bare number is wei"},
		{"gwei decimals", with(`"30 gwei"`, `"0.0000000001 gwei"`), "max_fee_per_gas"},
		{"exponent", with(`"1 ether"`, `1e18`), "exponents are not accepted"},
		{"hex value", with(`"1 ether"`, `"0xde0b6b3a7640000"`), "hex amounts are not accepted"},
		{"unknown unit", with(`"1 ether"`, `"1 btc"`), `unknown unit "btc"`},
		{"empty value", with(`"1 ether"`, `""`), "value: empty"},
		{"value overflow", with(`"1 ether"`, `"115792089237316195423570985008687907853269984665640564039457584007913129639936"`), "too large"},
		{"fee overflow", with(`"30 gwei"`, `"115792089237316195423570985008687907853269984665640564039457584007913129639935"`), "overflows 256 bits"},
		{"both fee kinds", with(`"gas":21000`, `"gas":21000,"gas_price":"20 gwei"`), "not both"},
		{"no fee", `{"chain_id":1,"nonce":0,"to":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","value":"1 ether","gas":21000}`, "give max_fee_per_gas and max_priority_fee_per_gas (EIP-1559) or gas_price"},
		{"half 1559 fee", with(`,"max_priority_fee_per_gas":"1 gwei"`, ``), "needs both"},
		{"tip above cap", with(`"1 gwei"`, `"31 gwei"`), "max_priority_fee_per_gas (31 gwei) is above max_fee_per_gas (30 gwei)"},
		{"bad checksum", with(`0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed`, `0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD`), "to: 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD fails its EIP-55 checksum"},
		{"short address", with(`0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed`, `0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA`), "to: \"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA\" is not an address"},
		{"address without 0x", with(`0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed`, `5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00`), "is not an address"},
		{"contract creation", with(`0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed`, ``), "contract creation is not supported"},
		{"low gas", with(`"gas":21000`, `"gas":20999`), "gas: 20999 is below the 21000"},
		{"non-hex data", with(`"gas":21000`, `"gas":21000,"data":"0xzz"`), "data: not hex"},
		{"odd-length data", with(`"gas":21000`, `"gas":21000,"data":"0xabc"`), "data: not hex"},
		{"data without 0x", with(`"gas":21000`, `"gas":21000,"data":"abcd"`), "data: want 0x-prefixed hex"},
	} {
		s, err := ParseTxSpec([]byte(c.spec))
		if err == nil {
			_, err = s.Unsigned()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		t.Logf("%s: %v", c.name, err)
	}
}

func TestLowerAndUpperCaseAddressesNeedNoChecksum(t *testing.T) {
	for _, to := range []string{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"} {
		s, err := ParseTxSpec([]byte(strings.Replace(goodSpec, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", to, 1)))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := s.Unsigned()
		if err != nil {
			t.Errorf("%s: %v", to, err)
			continue
		}
		if tx.To().Hex() != "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" {
			t.Errorf("%s read as %s", to, tx.To().Hex())
		}
	}
}

func TestDecodeUnsignedRefuses(t *testing.T) {
	signedEIP155 := mustHex(t, "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83")
	to := common.HexToAddress("0x3535353535353535353535353535353535353535")
	enc := func(tx *types.Transaction) []byte {
		b, err := tx.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"signed legacy tx", signedEIP155, "already carries a signature"},
		{"empty", nil, "unsigned tx"},
		{"garbage", []byte{0x02, 0xff}, "unsigned tx"},
		{"trailing bytes", append(enc(types.NewTx(&types.LegacyTx{Gas: 21000, To: &to, V: big.NewInt(1), GasPrice: big.NewInt(1), Value: big.NewInt(0)})), 0), "unsigned tx"},
		{"no chain id", enc(types.NewTx(&types.LegacyTx{Gas: 21000, To: &to, GasPrice: big.NewInt(1), Value: big.NewInt(0)})), "without a chain ID"},
		{"contract creation", enc(types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), Gas: 60000})), "contract creation is not supported"},
		{"access list type", enc(types.NewTx(&types.AccessListTx{ChainID: big.NewInt(1), Gas: 21000, To: &to})), "type 1 is not supported"},
		{"access list", enc(types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), Gas: 21000, To: &to, AccessList: types.AccessList{{Address: to}}})), "access lists are not supported"},
		{"low gas", enc(types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), Gas: 100, To: &to})), "below the 21000"},
		{"tip above cap", enc(types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), Gas: 21000, To: &to, GasTipCap: big.NewInt(2), GasFeeCap: big.NewInt(1)})), "above max fee"},
	} {
		_, err := DecodeUnsigned(c.raw)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		t.Logf("%s: %v", c.name, err)
	}
}

func TestAssembleRefuses(t *testing.T) {
	_, _, tx := unsignedFromFile(t, "eip1559.json")
	key, from := mustKey(t, strings.Repeat("46", 32))
	_, other := mustKey(t, strings.Repeat("0", 63)+"1")
	sig, err := crypto.Sign(tx.Digest, key)
	if err != nil {
		t.Fatal(err)
	}
	// The same signature with s replaced by n - s and v flipped: valid
	// ECDSA, but high s.
	n := crypto.S256().Params().N
	high := append([]byte(nil), sig...)
	new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:64])).FillBytes(high[32:64])
	high[64] ^= 1
	v27 := append([]byte(nil), sig...)
	v27[64] += 27
	otherDigest, _ := crypto.Sign(crypto.Keccak256([]byte("something else")), key)

	for _, c := range []struct {
		name string
		sig  []byte
		from string
		want string
	}{
		{"short signature", sig[:64], from, "want 65 bytes r || s || v, got 64"},
		{"long signature", append(append([]byte(nil), sig...), 0), from, "got 66"},
		{"another key", sig, other, "signed by " + from + ", not the sender " + other},
		{"another digest", otherDigest, from, "not the sender"},
		{"high s", high, from, "high s"},
		{"v 27/28", v27, from, "v must be the recovery id 0 or 1"},
		{"zero r", make([]byte, 65), from, "out of range"},
		{"bad from", sig, "0x9D8A62F656A8D1615C1294FD71E9CFB3E4855a4f", "from: 0x9D8A62F656A8D1615C1294FD71E9CFB3E4855a4f fails its EIP-55 checksum"},
		{"empty from", sig, "", "from is empty"},
	} {
		_, _, err := tx.Assemble(c.sig, c.from)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		t.Logf("%s: %v", c.name, err)
		if c.name != "bad from" && c.name != "empty from" && !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v is not ErrBadSignature", c.name, err)
		}
	}
	// The genuine signature still goes through.
	if _, _, err := tx.Assemble(sig, from); err != nil {
		t.Fatal(err)
	}
	var zero Tx
	if _, _, err := zero.Assemble(sig, from); err == nil {
		t.Error("Assemble on a Tx not from DecodeUnsigned succeeded")
	}
}
