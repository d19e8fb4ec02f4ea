#!/bin/sh
# The approvals screen in real terminals: three holders (ana, ben, vault)
# each run "paratro party run" in their own tmux terminal against a local
# relay, with no policy: every decision is a key press. This script reads
# their screens (capture-pane) and presses the keys a holder would:
#   1. ben asks for a 2-of-3 Ethereum wallet; each holder opens the request,
#      checks that the SAS on screen is the one ben's command printed (and
#      the same on every screen), approves with a then y, and watches the
#      key generation's progress until it is done;
#   2. ben asks to sign an Ethereum transaction; ana and ben see what it
#      sends (decoded by their own party) and approve; vault's request is
#      withdrawn once enough others signed; ethers (scripts/verify-demo),
#      which shares no code with paratro, parses the signed transaction and
#      recovers its sender;
#   3. ben asks to sign again; ana and vault reject it with a reason typed on
#      their screens; ben's command fails naming them, and the reason is in
#      ana's audit log;
#   4. vault quits with q.
#
#   sh scripts/e2e-tui.sh        # needs tmux, oathtool and node (scripts/setup-test-tools.sh)
set -eu
cd "$(dirname "$0")/.."
. scripts/e2e-lib.sh
tmux_setup tui
E2E_PARTIES=none e2e_setup
secret=$(cat "$dir/ben.totp")

# Each holder's terminal: 120x40, running its party with the full screen.
for n in ana ben vault; do
	tmux -L "$sock" -f /dev/null new-session -d -s "$n" -x 120 -y 40 \
		-e "PARATRO_RELAY=$PARATRO_RELAY" -e PARATRO_KEYRING=file -e TERM=xterm-256color \
		-e "PARATRO_KEYRING_PASSPHRASE=$PARATRO_KEYRING_PASSPHRASE" \
		"$P party run --home $dir/$n; echo PARTY-EXIT=\$?; sleep 600"
done
screen() { tmux -L "$sock" capture-pane -p -t "$1"; }
keys() { who=$1; shift; tmux -L "$sock" send-keys -t "$who" "$@"; }
# await WHO TEXT [SECONDS]: until TEXT is on WHO's screen.
await() {
	i=0
	until screen "$1" | grep -q -- "$2"; do
		i=$((i + 1))
		if [ $i -ge $((${3:-60} * 10)) ]; then
			log "timed out waiting for '$2' on $1's screen; it shows:"
			screen "$1" >&2
			exit 1
		fi
		sleep 0.1
	done
}
fail() {
	log "$*"
	for w in ana ben vault; do log "$w's screen:"; screen "$w" >&2 || true; done
	exit 1
}
for n in ana ben vault; do await "$n" "$n (.*) · connected"; done
log "three approval screens are up and connected"

# 1. a wallet, approved by hand on all three screens
PARATRO_OTP=$(otp "$secret") "$P" wallet create --home "$dir/ben" --name tui-ops --chain ethereum \
	--threshold 2-of-3 --parties ana,ben,vault --output json >"$dir/create.json" 2>"$dir/create.log" &
create=$!
wait_for "$dir/create.log" "^SAS "
sas=$(sed -n 's/^SAS \([0-9]\{5\} [0-9]\{5\} [0-9]\{5\}\):.*/\1/p' "$dir/create.log")
[ -n "$sas" ] || fail "ben's command printed no SAS"
for n in ana ben vault; do
	await "$n" "Inbox (1)"
	screen "$n" | grep -q "keygen .*tui-ops .*ben" || { screen "$n" >&2; fail "$n's inbox does not show ben's keygen"; }
	keys "$n" Enter
	await "$n" "^keygen request"
	screen "$n" | grep -q "SAS  *$sas" || { screen "$n" >&2; fail "$n's screen does not show SAS $sas"; }
	keys "$n" a
	await "$n" "y confirm"
	keys "$n" y
done
log "each holder saw SAS $sas (as ben's command printed it) and approved with a, y"
# Progress: some screen shows the key generation's rounds while it runs.
seen_round=""
i=0
until [ -n "$seen_round" ] || ! kill -0 "$create" 2>/dev/null; do
	for n in ana ben vault; do
		if screen "$n" | grep -q "round [0-9] of [0-9]"; then seen_round=$n; fi
	done
	i=$((i + 1)); [ $i -lt 1200 ] || fail "no progress shown in 2 minutes"
	sleep 0.1
done
wait "$create" || { cat "$dir/create.log" >&2; fail "wallet create failed"; }
[ -n "$seen_round" ] || fail "the key generation finished without any screen showing its rounds"
wallet=$(json_field "$dir/create.json" id)
address=$(json_field "$dir/create.json" address)
for n in ana ben vault; do await "$n" "done: wallet $wallet created" 30; await "$n" "· 1 wallet ·"; done
log "wallet $wallet ($address) created; $seen_round's screen showed the rounds"

# 2. a transaction approved by ana and ben; vault's request is withdrawn
cat >"$dir/payout.json" <<'JSON'
{"chain_id": 11155111, "nonce": 0, "to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "value": "0.25 ether",
 "gas": 21000, "max_fee_per_gas": "30 gwei", "max_priority_fee_per_gas": "1.5 gwei"}
JSON
"$P" wallet sign "$wallet" --home "$dir/ben" --tx "$dir/payout.json" --output json >"$dir/sign.json" 2>"$dir/sign.log" &
sign=$!
for n in ana ben; do
	await "$n" "> sign  *tui-ops"
	keys "$n" Enter
	await "$n" "^sign request"
	screen "$n" | grep -q "signers  *ana, ben, vault  *(2 of 3 required)" || fail "$n's screen does not show the signer set"
	# what is signed, as this party decoded it from the transaction itself
	screen "$n" | tr -s ' \n' ' ' | grep -q "send 0.25 ETH to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed on chain 11155111" ||
		fail "$n's screen does not say what the transaction sends"
	keys "$n" a y
done
wait "$sign" || { cat "$dir/sign.log" >&2; fail "wallet sign failed"; }
await vault "withdrawn: the request was settled without" 30
log "ana and ben approved the transaction they saw decoded; vault's request was withdrawn"
[ -d scripts/verify-demo/node_modules ] || fail "scripts/verify-demo/node_modules is missing: run scripts/setup-test-tools.sh"
# ethers, which shares no code with paratro, parses the signed transaction
# and recovers its sender.
(cd scripts/verify-demo && node --input-type=module -e '
import { readFileSync } from "node:fs";
import { getAddress, Transaction } from "ethers";
const s = JSON.parse(readFileSync(process.argv[1]));
const tx = Transaction.from(s.raw_tx);
const want = getAddress(process.argv[2]);
if (tx.from !== want || tx.hash !== s.tx_hash || tx.to !== "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" || tx.value !== 250000000000000000n || tx.chainId !== 11155111n) {
  console.error("ethers reads", tx.toJSON(), "from", tx.from); process.exit(1);
}
console.error("e2e: ethers parses the signed transaction: from " + tx.from + ", hash " + tx.hash);' "$dir/sign.json" "$address") ||
	fail "ethers does not accept the signed transaction"

# 3. a signature rejected on two screens, with reasons
set +e
"$P" wallet sign "$wallet" --home "$dir/ben" --message "tui payout 2" --output json >"$dir/reject.json" 2>"$dir/reject.log" &
reject=$!
set -e
for n in ana vault; do
	await "$n" "> sign  *tui-ops"
	keys "$n" Enter
	await "$n" "^sign request"
	keys "$n" r
	await "$n" "reason"
	keys "$n" -l "unknown payee"
	keys "$n" Enter
done
rc=0
wait "$reject" || rc=$?
[ "$rc" -eq 3 ] || { cat "$dir/reject.log" >&2; fail "the rejected signature exited $rc, want 3 (rejected)"; }
grep -q "unknown payee" "$dir/reject.log" || { cat "$dir/reject.log" >&2; fail "ben was not told the reason"; }
"$P" audit log --home "$dir/ana" --output json >"$dir/ana.audit.json"
grep -q "unknown payee" "$dir/ana.audit.json" || fail "ana's audit log lacks her reason"
log "ana and vault rejected with a reason: ben's command exited $rc and the reason is audited"

# 4. vault quits
keys vault q
await vault "PARTY-EXIT=0" 10
log "ok: a DKG and a signature approved by hand on three screens, one rejected, vault quit"
