# Shared by scripts/e2e.sh and scripts/e2e-tty.sh (sourced, POSIX sh): a
# relay and three holders (ana: owner, ben: admin, vault: operator) as
# separate processes, each with its own home and file keyring, on loopback.
#
# After e2e_setup: $P is the binary, $dir the work directory,
# PARATRO_RELAY points at the relay, every holder's party runs with a
# policy ($dir/policy.yaml) that approves ben's requests within limits
# (unless E2E_PARTIES=none), ana owns the relay and has admitted
# ben and vault, and ben has enrolled TOTP (secret in $dir/ben.totp).
# otp SECRET [SECONDS] prints a code from Debian's oathtool (an
# implementation independent of paratro's), SECONDS from now.

pids=""
e2e_cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${E2E_DIR:-}" ] || rm -rf "$dir"
}
log() { echo "e2e: $*" >&2; }
# tmux_setup NAME: a private tmux server ($sock) for terminal tests, killed
# with everything else on exit.
tmux_setup() {
	command -v tmux >/dev/null || { log "tmux is missing: run scripts/setup-test-tools.sh"; exit 1; }
	sock="paratro-$1-$$"
	trap tmux_cleanup EXIT INT TERM
}
tmux_cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	e2e_cleanup
}
fp() { sed -n 's/.*"fingerprint": *"\([0-9a-f]*\)".*/\1/p' "$dir/$1.id.json"; }
json_field() { sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$1" | head -n 1; }
otp() { oathtool --totp -b "$1" --now="$(date -u -d "${2:-0} sec" '+%Y-%m-%d %H:%M:%S UTC')"; }
# step_margin: wait out the last 5 s of a 30 s TOTP step, so that a code
# made now for the previous step is still inside the relay's one-step skew
# when the command that carries it reaches the relay.
step_margin() {
	r=$(( $(date +%s) % 30 ))
	if [ "$r" -ge 25 ]; then sleep $(( 31 - r )); fi
}
# wait_for FILE PATTERN [TENTHS]: until FILE has a line matching PATTERN.
wait_for() {
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt "${3:-200}" ] || { log "timed out waiting for '$2' in $1"; cat "$1" >&2 || true; return 1; }
		sleep 0.1
	done
}

e2e_setup() {
	go build -o bin/paratro ./cmd/paratro
	P=$PWD/bin/paratro
	dir=${E2E_DIR:-$(mktemp -d)}
	mkdir -p "$dir"
	command -v oathtool >/dev/null || { log "oathtool is missing: run scripts/setup-test-tools.sh"; exit 1; }
	export PARATRO_KEYRING=file
	# Throwaway passphrases for throwaway homes; a real pipeline takes them from its secret store.
	PARATRO_KEYRING_PASSPHRASE="e2e-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
	export PARATRO_KEYRING_PASSPHRASE

	# 1. the relay, on a free loopback port
	"$P" relay serve --listen 127.0.0.1:0 --data "$dir/relay" --addr-file "$dir/relay.addr" 2>"$dir/relay.log" &
	pids="$pids $!"
	wait_for "$dir/relay.addr" .
	PARATRO_RELAY="http://$(cat "$dir/relay.addr")"
	export PARATRO_RELAY
	log "relay at $PARATRO_RELAY"

	# 2. three identities; each trusts the others after checking fingerprints
	for n in ana ben vault; do
		"$P" init --name "$n" --home "$dir/$n" --output json >"$dir/$n.init.json"
		"$P" identity show --home "$dir/$n" --output json >"$dir/$n.id.json"
	done
	for n in ana ben vault; do
		for o in ana ben vault; do
			[ "$n" = "$o" ] || "$P" identity add "$dir/$o.id.json" --fingerprint "$(fp "$o")" --home "$dir/$n" >/dev/null
		done
	done

	# 3. each holder's party, unattended, approving what its policy allows
	# (E2E_PARTIES=none: the caller starts the parties itself; the holders
	# only make themselves known to the relay here)
	# (docs/policy.md): wallets and rotations when ben asks; signatures only
	# of transactions moving at most 0.5 ETH to the payout address
	cat >"$dir/policy.yaml" <<'YAML'
rules:
  - action: approve
    kinds: [keygen, refresh]
    initiators: [ben]
  - action: approve
    kinds: [sign]
    initiators: [ben]
    max_amount: "0.5 ETH"
    max_fee: "0.01 ETH"
    destinations: ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"]
YAML
	for n in ana ben vault; do
		if [ "${E2E_PARTIES:-policy}" = none ]; then
			"$P" operator register --home "$dir/$n" >&2
			continue
		fi
		"$P" party run --no-tui --policy "$dir/policy.yaml" --home "$dir/$n" 2>"$dir/$n.party.log" &
		pids="$pids $!"
	done
	for n in ana ben vault; do wait_for "$dir/relay.log" "identity registered.*$n"; done

	# 4. the relay host makes ana the owner (her public identity, checked by
	# fingerprint); she admits ben as admin and vault as operator
	"$P" relay bootstrap --data "$dir/relay" --owner "$dir/ana.id.json" --fingerprint "$(fp ana)" >&2
	"$P" operator add ben --role admin --home "$dir/ana" >&2
	"$P" operator add vault --role operator --home "$dir/ana" >&2

	# 5. ben enrols TOTP; the first code (of the previous 30 s step, so that
	# the current one is left for his next command) confirms it
	"$P" mfa enroll --home "$dir/ben" --output json >"$dir/ben.mfa.json"
	json_field "$dir/ben.mfa.json" secret >"$dir/ben.totp"
	step_margin
	PARATRO_OTP=$(otp "$(cat "$dir/ben.totp")" -30) "$P" mfa confirm --home "$dir/ben" >&2
}
