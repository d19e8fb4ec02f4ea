package ethereum

// Transactions: a spec as users write it (JSON), the unsigned transaction
// that is put to the signers, what approvers are shown of it, and the signed
// raw transaction once the threshold signature is in. Encoding, hashing and
// signature handling are go-ethereum's (core/types, rlp); this file only
// checks input and describes.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Amount is a quantity of ether as users write it: a JSON string or number,
// in wei when it has no unit ("21000", 21000), or with one of the units wei,
// gwei, ether or eth, case-insensitively ("1000 wei", "30 gwei", "1.5 ether",
// "1.5 ETH"). Decimals are exact: a value with more decimals than its unit
// allows (below one wei) is an error, as are negative values, exponents and
// values of 2^256 wei or more.
type Amount string

// UnmarshalJSON accepts a JSON string or a JSON number; other JSON values
// (null included) are errors.
func (a *Amount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Amount(s)
		return nil
	}
	if len(b) == 0 || !(b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		return fmt.Errorf("want a string or a number such as \"1.5 ether\", \"30 gwei\" or 21000, not %s", b)
	}
	*a = Amount(b)
	return nil
}

// Wei returns the amount in wei.
func (a Amount) Wei() (*big.Int, error) { return parseAmount(string(a)) }

// TxSpec is a transaction as users write it (JSON). chain_id, nonce, to,
// value and gas are required; the fee is either max_fee_per_gas and
// max_priority_fee_per_gas (EIP-1559, type 2) or gas_price (legacy,
// EIP-155 replay-protected), never both.
type TxSpec struct {
	ChainID              json.Number `json:"chain_id"` // a JSON number or a decimal string
	Nonce                uint64      `json:"nonce"`
	To                   string      `json:"to"` // EIP-55 checked when mixed case; contract creation is not supported
	Value                Amount      `json:"value"`
	Gas                  uint64      `json:"gas"`
	MaxFeePerGas         Amount      `json:"max_fee_per_gas,omitempty"`
	MaxPriorityFeePerGas Amount      `json:"max_priority_fee_per_gas,omitempty"`
	GasPrice             Amount      `json:"gas_price,omitempty"`
	Data                 string      `json:"data,omitempty"` // 0x-prefixed hex
}

// specFields lists the fields of TxSpec for error messages; ParseTxSpec
// maps each to its struct field.
const specFields = "chain_id, nonce, to, value, gas, max_fee_per_gas, max_priority_fee_per_gas, gas_price, data"

// ParseTxSpec reads a TxSpec strictly: one JSON object, no unknown or
// repeated fields, nothing after it, and chain_id, nonce, to, value and gas
// present. Errors name the field. The values themselves are checked by
// Unsigned.
func ParseTxSpec(b []byte) (*TxSpec, error) {
	fields, err := topLevelFields(b)
	if err != nil {
		return nil, fmt.Errorf("tx spec: %w", err)
	}
	var s TxSpec
	dest := map[string]any{
		"chain_id": &s.ChainID, "nonce": &s.Nonce, "to": &s.To, "value": &s.Value, "gas": &s.Gas,
		"max_fee_per_gas": &s.MaxFeePerGas, "max_priority_fee_per_gas": &s.MaxPriorityFeePerGas,
		"gas_price": &s.GasPrice, "data": &s.Data,
	}
	seen := map[string]bool{}
	for _, f := range fields {
		p, ok := dest[f.name]
		if !ok {
			return nil, fmt.Errorf("tx spec: unknown field %q (fields: %s)", f.name, specFields)
		}
		if bytes.Equal(f.raw, []byte("null")) {
			return nil, fmt.Errorf("tx spec: %s is null (leave it out or give a value)", f.name)
		}
		if err := json.Unmarshal(f.raw, p); err != nil {
			return nil, fmt.Errorf("tx spec: %s: %s", f.name, explainValue(err, f.raw))
		}
		seen[f.name] = true
	}
	for _, k := range []string{"chain_id", "nonce", "to", "value", "gas"} {
		if !seen[k] {
			return nil, fmt.Errorf("tx spec: %s is missing (required: chain_id, nonce, to, value, gas)", k)
		}
	}
	return &s, nil
}

type rawField struct {
	name string
	raw  json.RawMessage
}

// topLevelFields returns the fields of the JSON object b in order, refusing
// anything but a single object and repeated keys (which decoders resolve
// differently, so that what an approver reads could differ from what is
// signed).
func topLevelFields(b []byte) ([]rawField, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New(explainSyntax(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("want a JSON object")
	}
	var fields []rawField
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New(explainSyntax(err))
		}
		k, _ := tok.(string)
		if seen[k] {
			return nil, fmt.Errorf("field %q appears twice", k)
		}
		seen[k] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errors.New(explainSyntax(err))
		}
		fields = append(fields, rawField{k, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New(explainSyntax(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	return fields, nil
}

func explainSyntax(err error) string {
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON: %v (at byte %d)", strings.TrimPrefix(err.Error(), "json: "), syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "malformed JSON: it ends too early"
	}
	return "malformed JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}

// explainValue words the error of decoding one field's value.
func explainValue(err error, raw []byte) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		want := "a string"
		switch typeErr.Type.Kind() {
		case reflect.Uint64:
			want = "a whole number from 0 to 2^64-1"
		}
		return fmt.Sprintf("want %s, not %s", want, raw)
	}
	if strings.Contains(err.Error(), "into Number") {
		return fmt.Sprintf("want a whole number, not %s", raw)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// intrinsicGas is the gas every transaction pays before any execution; a
// transaction with less can never be included.
const intrinsicGas = 21000

// maxUint256 bounds every amount: the EVM's words are 256 bits.
var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// Unsigned checks the spec and builds the unsigned transaction: EIP-1559
// (type 2) when max_fee_per_gas and max_priority_fee_per_gas are given,
// legacy EIP-155 when gas_price is.
//
// An unsigned legacy transaction carries its chain ID where the signature's
// V goes, with R and S zero: the EIP-155 signing form [nonce, gasPrice, gas,
// to, value, data, chainID, 0, 0]. That keeps the chain ID in what
// EncodeUnsigned writes. Its ChainId() method is meaningless until signed;
// use DecodeUnsigned to read it.
func (s *TxSpec) Unsigned() (*types.Transaction, error) {
	chainID, err := parseChainID(s.ChainID.String())
	if err != nil {
		return nil, err
	}
	if s.Nonce == math.MaxUint64 {
		return nil, errors.New("nonce: 2^64-1 is not a valid nonce (EIP-2681)")
	}
	to, err := parseAddress("to", s.To)
	if err != nil {
		return nil, err
	}
	value, err := amountField("value", s.Value)
	if err != nil {
		return nil, err
	}
	if s.Gas < intrinsicGas {
		return nil, fmt.Errorf("gas: %d is below the %d every transaction needs", s.Gas, intrinsicGas)
	}
	data, err := parseData(s.Data)
	if err != nil {
		return nil, err
	}
	eip1559 := s.MaxFeePerGas != "" || s.MaxPriorityFeePerGas != ""
	legacy := s.GasPrice != ""
	switch {
	case eip1559 && legacy:
		return nil, errors.New("fees: give either max_fee_per_gas and max_priority_fee_per_gas (EIP-1559) or gas_price (legacy), not both")
	case legacy:
		price, err := amountField("gas_price", s.GasPrice)
		if err != nil {
			return nil, err
		}
		if err := feeFits(s.Gas, price, value); err != nil {
			return nil, err
		}
		return types.NewTx(&types.LegacyTx{
			Nonce: s.Nonce, GasPrice: price, Gas: s.Gas, To: &to, Value: value, Data: data,
			V: chainID, R: new(big.Int), S: new(big.Int),
		}), nil
	case eip1559:
		if s.MaxFeePerGas == "" || s.MaxPriorityFeePerGas == "" {
			return nil, errors.New("fees: an EIP-1559 transaction needs both max_fee_per_gas and max_priority_fee_per_gas")
		}
		feeCap, err := amountField("max_fee_per_gas", s.MaxFeePerGas)
		if err != nil {
			return nil, err
		}
		tip, err := amountField("max_priority_fee_per_gas", s.MaxPriorityFeePerGas)
		if err != nil {
			return nil, err
		}
		if tip.Cmp(feeCap) > 0 {
			return nil, fmt.Errorf("fees: max_priority_fee_per_gas (%s gwei) is above max_fee_per_gas (%s gwei)", formatUnits(tip, 9), formatUnits(feeCap, 9))
		}
		if err := feeFits(s.Gas, feeCap, value); err != nil {
			return nil, err
		}
		return types.NewTx(&types.DynamicFeeTx{
			ChainID: chainID, Nonce: s.Nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: s.Gas,
			To: &to, Value: value, Data: data,
		}), nil
	}
	return nil, errors.New("fees: give max_fee_per_gas and max_priority_fee_per_gas (EIP-1559) or gas_price (legacy)")
}

// feeFits refuses a transaction whose greatest cost, gas × fee per gas +
// value, does not fit 256 bits: nodes reject it and no account can pay it.
func feeFits(gas uint64, feePerGas, value *big.Int) error {
	cost := new(big.Int).Mul(new(big.Int).SetUint64(gas), feePerGas)
	if cost.Add(cost, value).Cmp(maxUint256) > 0 {
		return errors.New("fees: gas × fee per gas + value overflows 256 bits")
	}
	return nil
}

func amountField(name string, a Amount) (*big.Int, error) {
	wei, err := a.Wei()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return wei, nil
}

// parseChainID reads a chain ID: a whole number from 1 to 2^64-1.
func parseChainID(s string) (*big.Int, error) {
	if s == "" {
		return nil, errors.New("chain_id is missing")
	}
	if !isDigits(s) {
		return nil, fmt.Errorf("chain_id: %q is not a whole decimal number", s)
	}
	id, _ := new(big.Int).SetString(s, 10)
	if id.Sign() == 0 || !id.IsUint64() {
		return nil, fmt.Errorf("chain_id: %s is out of range (1 to 2^64-1)", s)
	}
	return id, nil
}

// parseAddress reads a 0x-prefixed 20-byte hex address. All lower or all
// upper case is taken as is; mixed case must pass its EIP-55 checksum, which
// exists to catch typos, so the correct checksum is not suggested.
func parseAddress(field, s string) (common.Address, error) {
	if s == "" {
		if field == "to" {
			return common.Address{}, errors.New("to is empty: contract creation is not supported")
		}
		return common.Address{}, fmt.Errorf("%s is empty", field)
	}
	if !strings.HasPrefix(s, "0x") || len(s) != 42 {
		return common.Address{}, fmt.Errorf("%s: %q is not an address (want 0x and 40 hex digits)", field, s)
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return common.Address{}, fmt.Errorf("%s: %q is not an address (want 0x and 40 hex digits)", field, s)
	}
	a := common.BytesToAddress(b)
	hexPart := s[2:]
	if hexPart != strings.ToLower(hexPart) && hexPart != strings.ToUpper(hexPart) && a.Hex() != s {
		return common.Address{}, fmt.Errorf("%s: %s fails its EIP-55 checksum (mixed case that does not match: a typo?)", field, s)
	}
	return a, nil
}

// parseData reads 0x-prefixed hex; empty means no data.
func parseData(s string) ([]byte, error) {
	if s == "" || s == "0x" {
		return nil, nil
	}
	if !strings.HasPrefix(s, "0x") {
		return nil, errors.New("data: want 0x-prefixed hex")
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return nil, fmt.Errorf("data: not hex: %v", err)
	}
	return b, nil
}

var units = map[string]int{"wei": 0, "gwei": 9, "ether": 18, "eth": 18}

// parseAmount reads "<decimal> [unit]" into wei.
func parseAmount(s string) (*big.Int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty (write 0 for none)")
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return nil, fmt.Errorf("%q: hex amounts are not accepted; write a decimal number", s)
	}
	num, unit := s, ""
	if i := strings.IndexFunc(s, func(r rune) bool { return r == ' ' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }); i >= 0 {
		num, unit = s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	}
	decimals := 0
	if unit != "" {
		d, ok := units[unit]
		if !ok && len(unit) > 1 && (unit[0] == 'e') && strings.TrimLeft(unit[1:], "+-0123456789") == "" {
			return nil, fmt.Errorf("%q: exponents are not accepted; write the digits out or use a unit (\"1 ether\")", s)
		}
		if !ok {
			return nil, fmt.Errorf("%q: unknown unit %q (use wei, gwei, ether or eth)", s, unit)
		}
		decimals = d
	}
	if strings.HasPrefix(num, "-") {
		return nil, fmt.Errorf("%q is negative", s)
	}
	whole, frac, hasPoint := strings.Cut(num, ".")
	if !isDigits(whole) || (hasPoint && !isDigits(frac)) {
		return nil, fmt.Errorf("%q is not a decimal number with an optional unit (such as 21000, \"30 gwei\", \"1.5 ether\")", s)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > decimals {
		if unit == "" {
			return nil, fmt.Errorf("%q has decimals but no unit: a bare number is wei, which has none", s)
		}
		return nil, fmt.Errorf("%q has more decimals than %s allows (%d): that is less than one wei", s, unit, decimals)
	}
	digits := whole + frac + strings.Repeat("0", decimals-len(frac))
	wei, _ := new(big.Int).SetString(digits, 10)
	if wei.Cmp(maxUint256) > 0 {
		return nil, fmt.Errorf("%q is too large (2^256 wei or more)", s)
	}
	return wei, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// EncodeUnsigned returns tx.MarshalBinary of the unsigned transaction: for
// EIP-1559, 0x02 || RLP of its fields with zero signature values; for
// legacy, the RLP of the EIP-155 signing form (see Unsigned).
func EncodeUnsigned(tx *types.Transaction) ([]byte, error) {
	if tx == nil {
		return nil, errors.New("no transaction")
	}
	return tx.MarshalBinary()
}

// Tx is an unsigned transaction as DecodeUnsigned read it, with what
// approvers need to know of it.
type Tx struct {
	ChainID *big.Int
	Type    string // "eip1559" or "legacy"
	Nonce   uint64
	To      string   // EIP-55
	Value   *big.Int // wei
	Gas     uint64
	// MaxFeePerGas is max_fee_per_gas (EIP-1559) or gas_price (legacy), in
	// wei; MaxPriorityFeePerGas is nil for legacy transactions.
	MaxFeePerGas         *big.Int
	MaxPriorityFeePerGas *big.Int
	// MaxFee is Gas × MaxFeePerGas in wei: the most the transaction can
	// pay in fees.
	MaxFee   *big.Int
	Data     []byte
	DataSize int
	// Digest is the 32-byte hash the signers sign:
	// types.LatestSignerForChainID(ChainID).Hash(tx).
	Digest []byte

	tx *types.Transaction
}

// DecodeUnsigned reads what EncodeUnsigned wrote and describes it. It
// refuses a transaction that already carries a signature, types other than
// legacy and EIP-1559, contract creation, a legacy transaction without a
// chain ID, EIP-1559 access lists, and any encoding other than the one
// EncodeUnsigned would write for the same transaction.
func DecodeUnsigned(raw []byte) (*Tx, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("unsigned tx: %w", err)
	}
	v, r, s := tx.RawSignatureValues()
	if r.Sign() != 0 || s.Sign() != 0 {
		return nil, errors.New("unsigned tx: it already carries a signature (want an unsigned transaction)")
	}
	t := &Tx{
		Nonce: tx.Nonce(), Value: new(big.Int).Set(tx.Value()), Gas: tx.Gas(),
		MaxFeePerGas: new(big.Int).Set(tx.GasFeeCap()),
		Data:         tx.Data(), DataSize: len(tx.Data()), tx: tx,
	}
	switch tx.Type() {
	case types.LegacyTxType:
		t.Type = "legacy"
		if v.Sign() == 0 {
			return nil, errors.New("unsigned tx: legacy transaction without a chain ID (pre-EIP-155, replayable on any chain): not supported")
		}
		t.ChainID = new(big.Int).Set(v)
	case types.DynamicFeeTxType:
		t.Type = "eip1559"
		if v.Sign() != 0 {
			return nil, errors.New("unsigned tx: it already carries a signature (want an unsigned transaction)")
		}
		if len(tx.AccessList()) > 0 {
			return nil, errors.New("unsigned tx: EIP-1559 access lists are not supported")
		}
		t.ChainID = new(big.Int).Set(tx.ChainId())
		t.MaxPriorityFeePerGas = new(big.Int).Set(tx.GasTipCap())
	default:
		return nil, fmt.Errorf("unsigned tx: type %d is not supported (only legacy and EIP-1559)", tx.Type())
	}
	if t.ChainID.Sign() == 0 || !t.ChainID.IsUint64() {
		return nil, fmt.Errorf("unsigned tx: chain ID %s is out of range (1 to 2^64-1)", t.ChainID)
	}
	if tx.To() == nil {
		return nil, errors.New("unsigned tx: contract creation is not supported")
	}
	t.To = tx.To().Hex()
	if t.Nonce == math.MaxUint64 {
		return nil, errors.New("unsigned tx: nonce 2^64-1 is not valid (EIP-2681)")
	}
	if t.Gas < intrinsicGas {
		return nil, fmt.Errorf("unsigned tx: gas %d is below the %d every transaction needs", t.Gas, intrinsicGas)
	}
	if t.Value.Cmp(maxUint256) > 0 || t.MaxFeePerGas.Cmp(maxUint256) > 0 {
		return nil, errors.New("unsigned tx: an amount does not fit 256 bits")
	}
	if t.MaxPriorityFeePerGas != nil && t.MaxPriorityFeePerGas.Cmp(t.MaxFeePerGas) > 0 {
		return nil, errors.New("unsigned tx: max priority fee per gas is above max fee per gas")
	}
	if err := feeFits(t.Gas, t.MaxFeePerGas, t.Value); err != nil {
		return nil, fmt.Errorf("unsigned tx: %w", err)
	}
	again, err := tx.MarshalBinary()
	if err != nil || !bytes.Equal(again, raw) {
		return nil, errors.New("unsigned tx: not in canonical encoding")
	}
	t.MaxFee = new(big.Int).Mul(new(big.Int).SetUint64(t.Gas), t.MaxFeePerGas)
	t.Digest = types.LatestSignerForChainID(t.ChainID).Hash(tx).Bytes()
	return t, nil
}

// chainNames names the chains approvers are likely to meet.
var chainNames = map[uint64]string{
	1:        "Ethereum mainnet",
	11155111: "Sepolia testnet",
	17000:    "Holesky testnet",
	31337:    "local dev chain",
	1337:     "local dev chain",
}

// ChainName describes a chain ID: "chain 1 (Ethereum mainnet)", or
// "chain N" for chains it does not know.
func ChainName(id *big.Int) string {
	if id.IsUint64() {
		if name, ok := chainNames[id.Uint64()]; ok {
			return fmt.Sprintf("chain %s (%s)", id, name)
		}
	}
	return "chain " + id.String()
}

// Summary is one line for approvers, such as
//
//	send 1.5 ETH to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed on chain 1 (Ethereum mainnet), nonce 7, fee at most 0.00063 ETH (EIP-1559: gas 21000 at up to 30 gwei, tip up to 2 gwei), no data
//
// Amounts are exact; data is counted and its 4-byte selector shown, not
// decoded.
func (t *Tx) Summary() string {
	var fee string
	if t.Type == "legacy" {
		fee = fmt.Sprintf("legacy: gas %d at %s gwei", t.Gas, formatUnits(t.MaxFeePerGas, 9))
	} else {
		fee = fmt.Sprintf("EIP-1559: gas %d at up to %s gwei, tip up to %s gwei", t.Gas, formatUnits(t.MaxFeePerGas, 9), formatUnits(t.MaxPriorityFeePerGas, 9))
	}
	data := "no data"
	switch {
	case t.DataSize >= 4:
		data = fmt.Sprintf("%d bytes of data (a contract call, selector 0x%x, not decoded here)", t.DataSize, t.Data[:4])
	case t.DataSize > 0:
		data = fmt.Sprintf("%d bytes of data (0x%x)", t.DataSize, t.Data)
	}
	return fmt.Sprintf("send %s ETH to %s on %s, nonce %d, fee at most %s ETH (%s), %s",
		FormatEther(t.Value), t.To, ChainName(t.ChainID), t.Nonce, FormatEther(t.MaxFee), fee, data)
}

// FormatEther writes wei as an exact decimal number of ether without
// trailing zeros: "1.5", "0.000000001", "0".
func FormatEther(wei *big.Int) string { return formatUnits(wei, 18) }

// formatUnits writes x / 10^decimals exactly, without trailing zeros.
func formatUnits(x *big.Int, decimals int) string {
	if x == nil {
		return "0"
	}
	sign := ""
	if x.Sign() < 0 {
		sign = "-"
	}
	digits := new(big.Int).Abs(x).String()
	if len(digits) <= decimals {
		digits = strings.Repeat("0", decimals-len(digits)+1) + digits
	}
	whole, frac := digits[:len(digits)-decimals], strings.TrimRight(digits[len(digits)-decimals:], "0")
	if frac == "" {
		return sign + whole
	}
	return sign + whole + "." + frac
}

// secp256k1HalfN is n/2; an s above it is "high".
var secp256k1HalfN = new(big.Int).Rsh(crypto.S256().Params().N, 1)

// Assemble attaches a signature over t.Digest to the transaction and
// returns the signed raw transaction (what eth_sendRawTransaction takes)
// and its hash.
//
// sig is 65 bytes r || s || v with v the recovery id 0 or 1, the layout of
// RecoverAddress and of multi-party-sig's ecdsa.Signature.SigEthereum
// (which already lowers a high s to n - s and flips v to match). Assemble
// normalises nothing: a high-s signature (EIP-2) is refused, as is v of 27
// or 28. The sender recovered from the signature must be from (an address,
// EIP-55 checked when mixed case); a signature by any other key is refused.
func (t *Tx) Assemble(sig []byte, from string) (raw []byte, hash common.Hash, err error) {
	if t == nil || t.tx == nil {
		return nil, common.Hash{}, errors.New("assemble: no transaction (use DecodeUnsigned)")
	}
	want, err := parseAddress("from", from)
	if err != nil {
		return nil, common.Hash{}, fmt.Errorf("assemble: %w", err)
	}
	if len(sig) != 65 {
		return nil, common.Hash{}, fmt.Errorf("assemble: %w: want 65 bytes r || s || v, got %d", ErrBadSignature, len(sig))
	}
	if v := sig[64]; v > 1 {
		return nil, common.Hash{}, fmt.Errorf("assemble: %w: v must be the recovery id 0 or 1, got %d", ErrBadSignature, v)
	}
	if new(big.Int).SetBytes(sig[32:64]).Cmp(secp256k1HalfN) > 0 {
		return nil, common.Hash{}, fmt.Errorf("assemble: %w: high s (above n/2) is refused (EIP-2); normalise it to n - s and flip v", ErrBadSignature)
	}
	got, err := RecoverAddress(t.Digest, sig)
	if err != nil {
		return nil, common.Hash{}, fmt.Errorf("assemble: %w", err)
	}
	if got != want.Hex() {
		return nil, common.Hash{}, fmt.Errorf("assemble: %w: signed by %s, not the sender %s", ErrBadSignature, got, want.Hex())
	}
	signer := types.LatestSignerForChainID(t.ChainID)
	signed, err := t.tx.WithSignature(signer, sig)
	if err != nil {
		return nil, common.Hash{}, fmt.Errorf("assemble: %w", err)
	}
	// The same check through go-ethereum's own path, on the signed form.
	sender, err := types.Sender(signer, signed)
	if err != nil {
		return nil, common.Hash{}, fmt.Errorf("assemble: %w: %v", ErrBadSignature, err)
	}
	if sender != want {
		return nil, common.Hash{}, fmt.Errorf("assemble: %w: signed transaction recovers %s, not the sender %s", ErrBadSignature, sender.Hex(), want.Hex())
	}
	raw, err = signed.MarshalBinary()
	if err != nil {
		return nil, common.Hash{}, fmt.Errorf("assemble: %w", err)
	}
	return raw, signed.Hash(), nil
}
