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
go build -o bin/paratro ./cmd/paratro
P=$PWD/bin/paratro
dir=${E2E_DIR:-$(mktemp -d)}
mkdir -p "$dir"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${E2E_DIR:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT INT TERM
log() { echo "e2e: $*" >&2; }

export PARATRO_KEYRING=file
# Throwaway passphrases for throwaway homes; a real pipeline takes them from its secret store.
export PARATRO_KEYRING_PASSPHRASE="e2e-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

# 1. the relay, on a free loopback port
"$P" relay serve --listen 127.0.0.1:0 --data "$dir/relay" --addr-file "$dir/relay.addr" 2>"$dir/relay.log" &
pids="$pids $!"
i=0
while [ ! -s "$dir/relay.addr" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$dir/relay.log" >&2; exit 1; }
	sleep 0.1
done
export PARATRO_RELAY="http://$(cat "$dir/relay.addr")"
log "relay at $PARATRO_RELAY"

# 2. three identities; each trusts the others after checking fingerprints
for n in ana ben vault; do
	"$P" init --name "$n" --home "$dir/$n" --output json >"$dir/$n.init.json"
	"$P" identity show --home "$dir/$n" --output json >"$dir/$n.id.json"
done
fp() { sed -n 's/.*"fingerprint": *"\([0-9a-f]*\)".*/\1/p' "$dir/$1.id.json"; }
for n in ana ben vault; do
	for o in ana ben vault; do
		[ "$n" = "$o" ] || "$P" identity add "$dir/$o.id.json" --fingerprint "$(fp "$o")" --home "$dir/$n" >/dev/null
	done
done

# 3. each holder's party, unattended, approving what its policy allows
cat >"$dir/policy.yaml" <<'YAML'
rules:
  - action: approve
    kinds: [keygen, sign, refresh]
    initiators: [ben]
YAML
for n in ana ben vault; do
	"$P" party run --no-tui --policy "$dir/policy.yaml" --home "$dir/$n" 2>"$dir/$n.party.log" &
	pids="$pids $!"
done
# wait until the three parties have registered
i=0
until [ "$(grep -l "connecting" "$dir"/*.party.log 2>/dev/null | wc -l)" -eq 3 ]; do
	i=$((i + 1)); [ $i -lt 100 ] || exit 1
	sleep 0.1
done

# 4. create, sign, rotate, sign
log "wallet create (2-of-3 ECDSA: a few seconds of Paillier key generation)"
"$P" wallet create --home "$dir/ben" --name ops --chain ethereum --threshold 2-of-3 --parties ana,ben,vault --output json | tee "$dir/create.json"
wallet=$(sed -n 's/.*"id": *"\(wal_[a-z2-7]*\)".*/\1/p' "$dir/create.json")
address=$(sed -n 's/.*"address": *"\(0x[0-9a-fA-F]*\)".*/\1/p' "$dir/create.json")
log "wallet $wallet at $address"
digest=$(printf 'e2e payout 1' | sha256sum | cut -c1-64)
"$P" wallet sign "$wallet" --home "$dir/ben" --digest "$digest" --output json | tee "$dir/sign1.json"
"$P" rotate-keys "$wallet" --home "$dir/ben" --output json | tee "$dir/rotate.json"
grep -q "\"address\": \"$address\"" "$dir/rotate.json" || { log "address changed after rotation"; exit 1; }
digest=$(printf 'e2e payout 2' | sha256sum | cut -c1-64)
"$P" wallet sign "$wallet" --home "$dir/ben" --digest "$digest" --signers ana,vault --output json | tee "$dir/sign2.json"

# 5. both signatures again, with code that shares nothing with paratro
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
