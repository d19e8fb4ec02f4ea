#!/bin/sh
# End to end, as a CI pipeline would run it: a relay and three parties
# (ana, ben, vault) as separate processes, each with its own home and file
# keyring, and the policy of scripts/e2e-lib.sh; ben creates a 2-of-3
# Ethereum wallet, signs a transaction, has a larger one refused by the
# parties' policy, rotates keys and signs again. Prints each command's JSON result on stdout; everything for
# people goes to stderr. Every signature is checked here by go-ethereum's
# ecrecover (inside paratro) and afterwards by ethers (scripts/verify-demo).
#
#   sh scripts/e2e.sh            # builds ./bin/paratro first
#   E2E_DIR=/tmp/x sh scripts/e2e.sh   # keep the homes and logs there
set -eu
cd "$(dirname "$0")/.."
. scripts/e2e-lib.sh
trap e2e_cleanup EXIT INT TERM
e2e_setup
secret=$(cat "$dir/ben.totp")

# 6. create, sign, rotate, sign; ben gives a TOTP code (from oathtool)
# for create and rotate-keys, each from its own 30-second step
log "wallet create (2-of-3 ECDSA: a few seconds of Paillier key generation)"
PARATRO_OTP=$(otp "$secret") "$P" wallet create --home "$dir/ben" --name ops --chain ethereum --threshold 2-of-3 --parties ana,ben,vault --output json | tee "$dir/create.json"
wallet=$(sed -n 's/.*"id": *"\(wal_[a-z2-7]*\)".*/\1/p' "$dir/create.json")
address=$(sed -n 's/.*"address": *"\(0x[0-9a-fA-F]*\)".*/\1/p' "$dir/create.json")
log "wallet $wallet at $address"
# Signing goes through every party's policy, which looks at what each
# party decoded from the transaction itself: 0.1 ETH to the payout address
# passes, 5 ETH does not (rejected, exit 3, in each party's audit log).
tx() { printf '{"chain_id": 11155111, "nonce": %s, "to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "value": "%s", "gas": 21000, "max_fee_per_gas": "30 gwei", "max_priority_fee_per_gas": "1 gwei"}' "$1" "$2" >"$dir/tx$1.json"; }
tx 0 "0.1 ether"
"$P" wallet sign "$wallet" --home "$dir/ben" --tx "$dir/tx0.json" --output json | tee "$dir/sign1.json"
grep -q '"raw_tx": "0x02' "$dir/sign1.json" || { log "no signed EIP-1559 transaction"; exit 1; }
tx 1 "5 ether"
rc=0
"$P" wallet sign "$wallet" --home "$dir/ben" --tx "$dir/tx1.json" --output json 2>"$dir/over.log" || rc=$?
[ "$rc" -eq 3 ] && grep -q "no policy rule allows it" "$dir/over.log" || { cat "$dir/over.log" >&2; log "5 ETH was not refused by policy (exit $rc)"; exit 1; }
"$P" audit log --home "$dir/vault" --output json | grep -q '"event": "ceremony.rejected"' || { log "vault's audit log lacks the policy rejection"; exit 1; }
log "the parties' policy signed 0.1 ETH and refused 5 ETH (exit 3, audited)"
PARATRO_OTP=$(otp "$secret" 30) "$P" rotate-keys "$wallet" --home "$dir/ben" --output json | tee "$dir/rotate.json"
grep -q "\"address\": \"$address\"" "$dir/rotate.json" || { log "address changed after rotation"; exit 1; }
tx 2 "0.5 ether"
"$P" wallet sign "$wallet" --home "$dir/ben" --tx "$dir/tx2.json" --signers ana,vault --output json | tee "$dir/sign2.json"

# 7. both signatures again, with code that shares nothing with paratro
if [ -d scripts/verify-demo/node_modules ]; then
	node --input-type=module -e '
import { readFileSync } from "node:fs";
const d = process.argv[1], r = (f) => JSON.parse(readFileSync(d + "/" + f));
const c = r("create.json"), rot = r("rotate.json");
const report = { wallets: [{ id: c.id, scheme: c.scheme,
  rotation: { public_key_before: c.public_key, public_key_after: rot.public_key, unchanged: rot.address === c.address },
  signatures: [r("sign1.json"), r("sign2.json")] }] };
process.stdout.write(JSON.stringify(report));' "$dir" | node scripts/verify-demo/verify.mjs >&2
	# ethers parses both signed transactions and recovers their sender.
	(cd scripts/verify-demo && node --input-type=module -e '
import { readFileSync } from "node:fs";
import { getAddress, Transaction } from "ethers";
const [dir, address] = process.argv.slice(1);
for (const f of ["sign1.json", "sign2.json"]) {
  const s = JSON.parse(readFileSync(dir + "/" + f));
  const tx = Transaction.from(s.raw_tx);
  if (tx.from !== getAddress(address) || tx.hash !== s.tx_hash || tx.type !== 2) {
    console.error("verify: FAIL: " + f + ": ethers reads a type " + tx.type + " transaction from " + tx.from); process.exit(1);
  }
}
console.error("verify: ok: ethers parses both signed EIP-1559 transactions and recovers " + address);' "$dir" "$address")
else
	log "signatures not re-checked with ethers: run scripts/setup-test-tools.sh first"
fi
log "ok: wallet $wallet created, signed, rotated (address kept), signed again"
