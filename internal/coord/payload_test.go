package coord

import (
	"encoding/hex"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/chain/ethereum"
	"github.com/paratro/paratro/internal/identity"
)

const payee = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

// unsignedTx builds the payload a wallet sign --tx would send for spec,
// and the digest it signs.
func unsignedTx(t *testing.T, spec string) (payloadHex, digestHex string) {
	t.Helper()
	s, err := ethereum.ParseTxSpec([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.Unsigned()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ethereum.EncodeUnsigned(tx)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := ethereum.DecodeUnsigned(raw)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(raw), hex.EncodeToString(dec.Digest)
}

func signReq(format, data, digest string) *Request {
	return &Request{Kind: ceremony.KindSign, Scheme: ceremony.SchemeECDSA, Chain: "ethereum",
		Digest: digest, Payload: &Payload{Format: format, Data: data}}
}

func wei(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad number %q", s)
	}
	return n
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

func TestInspectEIP1559Transaction(t *testing.T) {
	data, digest := unsignedTx(t, `{"chain_id": 1, "nonce": 7, "to": "`+payee+`", "value": "1.5 ether",
		"gas": 21000, "max_fee_per_gas": "30 gwei", "max_priority_fee_per_gas": "2 gwei"}`)
	in, err := Inspect(signReq(PayloadEthTx, data, digest), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"send 1.5 ETH to " + payee, "chain 1 (Ethereum mainnet)", "nonce 7", "fee at most 0.00063 ETH", "EIP-1559"} {
		if !strings.Contains(in.Summary, want) {
			t.Errorf("summary %q does not say %q", in.Summary, want)
		}
	}
	tr := in.Transfer
	if tr == nil {
		t.Fatal("no transfer for a transaction")
	}
	if tr.Asset != "ETH" {
		t.Errorf("asset %q, want ETH", tr.Asset)
	}
	if tr.Amount.Cmp(wei(t, "1500000000000000000")) != 0 {
		t.Errorf("amount %s wei, want 1.5 ether", tr.Amount)
	}
	if tr.Fee.Cmp(wei(t, "630000000000000")) != 0 { // 21000 × 30 gwei
		t.Errorf("fee %s wei, want 21000 × 30 gwei", tr.Fee)
	}
	if len(tr.To) != 1 || tr.To[0] != payee {
		t.Errorf("to %v, want [%s]", tr.To, payee)
	}
	if tr.DataSize != 0 {
		t.Errorf("data size %d, want 0", tr.DataSize)
	}

	// The digest may come in upper case; the payload may carry 0x.
	if _, err := Inspect(signReq(PayloadEthTx, "0x"+data, strings.ToUpper(digest)), nil); err != nil {
		t.Errorf("0x payload, upper-case digest: %v", err)
	}
}

func TestInspectLegacyTransactionWithData(t *testing.T) {
	data, digest := unsignedTx(t, `{"chain_id": 11155111, "nonce": 0, "to": "`+strings.ToLower(payee)+`", "value": 0,
		"gas": 60000, "gas_price": "10 gwei", "data": "0xa9059cbb0000"}`)
	in, err := Inspect(signReq(PayloadEthTx, data, digest), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"send 0 ETH to " + payee, "Sepolia", "legacy: gas 60000 at 10 gwei", "selector 0xa9059cbb"} {
		if !strings.Contains(in.Summary, want) {
			t.Errorf("summary %q does not say %q", in.Summary, want)
		}
	}
	tr := in.Transfer
	if tr == nil || tr.Amount.Sign() != 0 || tr.Fee.Cmp(wei(t, "600000000000000")) != 0 || tr.DataSize != 6 || tr.To[0] != payee {
		t.Errorf("transfer %+v: want 0 wei to %s, fee 60000 × 10 gwei, 6 bytes of data", tr, payee)
	}
}

func TestInspectRefusesADigestThatIsNotThePayloads(t *testing.T) {
	data, _ := unsignedTx(t, `{"chain_id": 1, "nonce": 7, "to": "`+payee+`", "value": "0.01 ether", "gas": 21000, "gas_price": "1 gwei"}`)
	// The digest of another transaction: 100 ETH instead of 0.01.
	_, other := unsignedTx(t, `{"chain_id": 1, "nonce": 7, "to": "`+payee+`", "value": "100 ether", "gas": 21000, "gas_price": "1 gwei"}`)
	in, err := Inspect(signReq(PayloadEthTx, data, other), nil)
	wantErr(t, err, "digest is not the hash of its payload")
	if in != nil {
		t.Errorf("an inspection %+v came with the error", in)
	}
}

func TestInspectMessage(t *testing.T) {
	msg := "log in to example.org at 2025-01-01"
	in, err := Inspect(signReq(PayloadEthMessage, msg, hex.EncodeToString(ethereum.TextHash([]byte(msg)))), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `Ethereum personal message (EIP-191) "` + msg + `"`; in.Summary != want {
		t.Errorf("summary %q, want %q", in.Summary, want)
	}
	if in.Transfer != nil {
		t.Errorf("a message moves nothing, got transfer %+v", in.Transfer)
	}

	// A digest of another message, or of the bare text without the EIP-191 prefix.
	_, err = Inspect(signReq(PayloadEthMessage, msg, hex.EncodeToString(ethereum.TextHash([]byte("log in to evil.example")))), nil)
	wantErr(t, err, "digest is not the hash of its payload")
	_, err = Inspect(signReq(PayloadEthMessage, msg, hex.EncodeToString(crypto.Keccak256([]byte(msg)))), nil)
	wantErr(t, err, "digest is not the hash of its payload")

	_, err = Inspect(signReq(PayloadEthMessage, "\xff\xfe", hex.EncodeToString(ethereum.TextHash([]byte("\xff\xfe")))), nil)
	wantErr(t, err, "not UTF-8")
}

func TestInspectRefusesMalformedPayloads(t *testing.T) {
	data, digest := unsignedTx(t, `{"chain_id": 1, "nonce": 1, "to": "`+payee+`", "value": 1, "gas": 21000, "gas_price": "1 gwei"}`)

	_, err := Inspect(signReq("btc-tx", data, digest), nil)
	wantErr(t, err, `unknown payload format "btc-tx"`)

	_, err = Inspect(signReq(PayloadEthTx, "send 1 ETH to bob", digest), nil)
	wantErr(t, err, "transaction is not hex")

	_, err = Inspect(signReq(PayloadEthTx, data[:len(data)-2], digest), nil)
	wantErr(t, err, "the request's transaction:")

	huge := strings.Repeat("ab", maxPayload/2+1)
	_, err = Inspect(signReq(PayloadEthMessage, huge, hex.EncodeToString(ethereum.TextHash([]byte(huge)))), nil)
	wantErr(t, err, "at most 131072")
}

func TestInspectRefusesASignedTransaction(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	to := crypto.PubkeyToAddress(key.PublicKey)
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), Nonce: 3, GasTipCap: big.NewInt(2e9), GasFeeCap: big.NewInt(30e9),
		Gas: 21000, To: &to, Value: big.NewInt(1e18)})
	signer := types.LatestSignerForChainID(big.NewInt(1))
	signed, err := types.SignTx(tx, signer, key)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// The digest is right: only the signature already on it is wrong.
	digest := hex.EncodeToString(signer.Hash(tx).Bytes())
	_, err = Inspect(signReq(PayloadEthTx, hex.EncodeToString(raw), digest), nil)
	wantErr(t, err, "already carries a signature")
}

func TestInspectRefusesEthereumPayloadsForOtherWallets(t *testing.T) {
	data, digest := unsignedTx(t, `{"chain_id": 1, "nonce": 1, "to": "`+payee+`", "value": 1, "gas": 21000, "gas_price": "1 gwei"}`)
	r := signReq(PayloadEthTx, data, digest)
	r.Chain, r.Scheme = "bitcoin", ceremony.SchemeSchnorr
	_, err := Inspect(r, nil)
	wantErr(t, err, "an Ethereum transaction cannot be signed by a bitcoin schnorr wallet")

	msg := "hello"
	r = signReq(PayloadEthMessage, msg, hex.EncodeToString(ethereum.TextHash([]byte(msg))))
	r.Chain, r.Scheme = "bitcoin", ceremony.SchemeSchnorr
	_, err = Inspect(r, nil)
	wantErr(t, err, "an Ethereum message cannot be signed by a bitcoin schnorr wallet")
}

func TestInspectWithoutPayloadKnowsOnlyTheDigest(t *testing.T) {
	in, err := Inspect(&Request{Kind: ceremony.KindSign, Scheme: ceremony.SchemeECDSA, Chain: "ethereum",
		Digest: strings.Repeat("ab", 32)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in == nil || in.Summary != "" || in.Transfer != nil {
		t.Errorf("inspection %+v, want an empty one", in)
	}
}

func TestValidateRefusesAPayloadOutsideSign(t *testing.T) {
	var parties []identity.Public
	for _, n := range []string{"ana", "ben"} {
		id, err := identity.New(n)
		if err != nil {
			t.Fatal(err)
		}
		parties = append(parties, id.Public)
	}
	r := &Request{Kind: ceremony.KindKeygen, Scheme: ceremony.SchemeECDSA, Chain: "ethereum", WalletID: "wal_test",
		Parties: parties, Required: 2, Initiator: parties[0], Deadline: time.Now().Add(time.Minute)}
	if err := r.Validate(); err != nil {
		t.Fatalf("the keygen request without payload: %v", err)
	}
	r.Payload = &Payload{Format: PayloadEthMessage, Data: "hello"}
	wantErr(t, r.Validate(), "a keygen request carries no payload")

	r.Kind, r.Digest = ceremony.KindSign, hex.EncodeToString(ethereum.TextHash([]byte("hello")))
	if err := r.Validate(); err != nil {
		t.Errorf("a sign request with its payload: %v", err)
	}
}

// Every character of a message is shown: invisible ones and newlines are
// escaped, a long message is not cut.
func TestInspectMessageShowsEveryCharacter(t *testing.T) {
	for _, msg := range []string{"pay\u200b bob", "pay\u202ebob", "line1\nline2", strings.Repeat("a", 250) + " and pay bob"} {
		in, err := Inspect(signReq(PayloadEthMessage, msg, hex.EncodeToString(ethereum.TextHash([]byte(msg)))), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(in.Summary, strconv.Quote(msg)) {
			t.Errorf("message %q shown as %s", msg, in.Summary)
		}
	}
	a, _ := Inspect(signReq(PayloadEthMessage, "pay\u200b bob", hex.EncodeToString(ethereum.TextHash([]byte("pay\u200b bob")))), nil)
	b, _ := Inspect(signReq(PayloadEthMessage, "pay bob", hex.EncodeToString(ethereum.TextHash([]byte("pay bob")))), nil)
	if a.Summary == b.Summary {
		t.Errorf("two different messages look the same: %s", a.Summary)
	}
}
