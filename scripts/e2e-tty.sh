#!/bin/sh
# The MFA prompts in a real terminal: tmux runs paratro's commands in a
# pseudo-terminal while the relay and three parties run as in
# scripts/e2e.sh. This script reads the screen (capture-pane) and types
# what a person would:
#   - ana enrols TOTP interactively: the QR code and otpauth URI are on
#     screen; the code typed to confirm comes from oathtool;
#   - ben runs "wallet create": at "TOTP code for ben:" he first types a
#     wrong code (rejected, "4 of 5 attempts left", exit 5), then runs it
#     again and types a good one: the wallet is created;
#   - ben runs "rotate-keys" and answers its prompt: epoch 1 -> 2.
#
#   sh scripts/e2e-tty.sh              # needs tmux and oathtool (scripts/setup-test-tools.sh)
set -eu
cd "$(dirname "$0")/.."
. scripts/e2e-lib.sh
tmux_setup e2e
e2e_setup
secret=$(cat "$dir/ben.totp")

# A shell in a 160x50 terminal, with the relay and keyring settings.
tmux -L "$sock" -f /dev/null new-session -d -s tty -x 160 -y 50 \
	-e "PARATRO_RELAY=$PARATRO_RELAY" -e PARATRO_KEYRING=file \
	-e "PARATRO_KEYRING_PASSPHRASE=$PARATRO_KEYRING_PASSPHRASE" -e "PS1=$ " sh
screen() { tmux -L "$sock" capture-pane -p -t tty -S -200; }
type_line() { tmux -L "$sock" send-keys -t tty -l "$1"; tmux -L "$sock" send-keys -t tty Enter; }
# await TEXT [SECONDS]: until TEXT is on the screen.
await() {
	i=0
	until screen | grep -q -- "$1"; do
		i=$((i + 1))
		if [ $i -ge $((${2:-60} * 10)) ]; then
			log "timed out waiting for '$1' on the terminal; it shows:"
			screen >&2
			exit 1
		fi
		sleep 0.1
	done
}
clear_screen() { type_line clear; sleep 0.2; tmux -L "$sock" clear-history -t tty; }

# 1. ana enrols TOTP at her terminal
type_line "$P mfa enroll --home $dir/ana; echo ENROLL-EXIT=\$?"
await "TOTP code to confirm"
screen | grep -q "otpauth://totp/" || { log "no otpauth URI on screen"; screen >&2; exit 1; }
# The QR code is drawn with block characters or ANSI background colours.
[ "$(screen | grep -c "█\|▀\|▄")" -gt 10 ] || { log "no QR code on screen"; screen >&2; exit 1; }
ana_secret=$(screen | tr -d '\n' | sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' | head -n 1)
[ -n "$ana_secret" ] || { log "cannot read ana's secret from the screen"; exit 1; }
type_line "$(otp "$ana_secret")"
await "ENROLL-EXIT=[0-9]"
screen | grep -q "ENROLL-EXIT=0" || { log "mfa enroll failed"; screen >&2; exit 1; }
screen | grep -q "TOTP enrolled for ana" || { log "enrolment not confirmed"; screen >&2; exit 1; }
log "ana enrolled TOTP at the terminal (QR code and URI shown, first code confirmed)"
clear_screen

# 2. ben creates a wallet: a wrong code first, then a good one
create="$P wallet create --home $dir/ben --name tty-wallet --chain bitcoin --scheme schnorr --threshold 2-of-3 --parties ana,ben,vault"
type_line "$create; echo CREATE-EXIT=\$?"
await "TOTP code for ben"
good=$(otp "$secret")
bad=$(printf '%06d' $(( (1$good - 1000000 + 1) % 1000000 )))
type_line "$bad"
await "CREATE-EXIT=[0-9]"
screen | grep -q "CREATE-EXIT=5" || { log "a wrong code did not exit 5"; screen >&2; exit 1; }
screen | grep -q "code rejected (4 of 5 attempts left)" || { log "no attempts-left message"; screen >&2; exit 1; }
screen | grep -q "$bad" && { log "the code was echoed on the terminal"; exit 1; }
log "a wrong code was refused: exit 5, 4 attempts left, nothing echoed"
clear_screen
type_line "$create; echo CREATE-EXIT=\$?"
await "TOTP code for ben"
type_line "$good"
await "CREATE-EXIT=[0-9]" 120
screen | grep -q "CREATE-EXIT=0" || { log "wallet create failed"; screen >&2; exit 1; }
wallet=$(screen | sed -n 's/.*\(wal_[a-z2-7]\{16\}\).*/\1/p' | head -n 1)
log "wallet $wallet created after the TOTP prompt"
clear_screen

# 3. ben rotates its keys, with a code of the next 30-second step
type_line "$P rotate-keys $wallet --home $dir/ben; echo ROTATE-EXIT=\$?"
await "TOTP code for ben"
type_line "$(otp "$secret" 30)"
await "ROTATE-EXIT=[0-9]" 120
screen | grep -q "ROTATE-EXIT=0" || { log "rotate-keys failed"; screen >&2; exit 1; }
"$P" wallet show "$wallet" --home "$dir/ben" --output json >"$dir/rotated.json"
grep -q '"epoch": 2' "$dir/rotated.json" || { log "the wallet is not at epoch 2"; cat "$dir/rotated.json" >&2; exit 1; }
log "ok: TOTP prompts answered in a real terminal; wallet $wallet created and rotated to epoch 2"
