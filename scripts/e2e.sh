#!/bin/sh
# End to end, as a CI pipeline would run it: a relay and three parties
# (ana, ben, vault) as separate processes, each with its own home and file
# keyring; ben creates a 2-of-3 Ethereum wallet, signs, rotates keys and
# signs again. Prints each command's JSON result on stdout; everything for
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
digest=$(printf 'e2e payout 1' | sha256sum | cut -c1-64)
"$P" wallet sign "$wallet" --home "$dir/ben" --digest "$digest" --output json | tee "$dir/sign1.json"
PARATRO_OTP=$(otp "$secret" 30) "$P" rotate-keys "$wallet" --home "$dir/ben" --output json | tee "$dir/rotate.json"
grep -q "\"address\": \"$address\"" "$dir/rotate.json" || { log "address changed after rotation"; exit 1; }
digest=$(printf 'e2e payout 2' | sha256sum | cut -c1-64)
"$P" wallet sign "$wallet" --home "$dir/ben" --digest "$digest" --signers ana,vault --output json | tee "$dir/sign2.json"

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
else
	log "signatures not re-checked with ethers: run scripts/setup-test-tools.sh first"
fi
log "ok: wallet $wallet created, signed, rotated (address kept), signed again"
