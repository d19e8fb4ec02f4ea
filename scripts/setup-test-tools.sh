#!/bin/sh
# Installs what the test suite needs besides Go, so that `make test` works
# on a fresh machine:
#   - gnome-keyring, libsecret-tools: a real Secret Service for the OS-keyring
#     test (scripts/test-real-keyring.sh); apt, needs root
#   - oathtool: TOTP codes from an independent generator for the
#     internal/mfa tests (which fail when CI=true and it is missing) and the
#     end-to-end scripts; apt
#   - tmux: a real terminal for scripts/e2e-tty.sh (the TOTP prompts); apt
#   - Node.js and the demo verifier's npm packages (ethers, @noble/curves):
#     signatures checked by code that shares nothing with paratro
# It installs only what is missing and is quiet when nothing is.
set -eu
cd "$(dirname "$0")/.."

need_apt=""
command -v gnome-keyring-daemon >/dev/null 2>&1 || need_apt="$need_apt gnome-keyring"
command -v secret-tool >/dev/null 2>&1 || need_apt="$need_apt libsecret-tools"
command -v dbus-run-session >/dev/null 2>&1 || need_apt="$need_apt dbus-daemon dbus-user-session"
command -v oathtool >/dev/null 2>&1 || need_apt="$need_apt oathtool"
command -v tmux >/dev/null 2>&1 || need_apt="$need_apt tmux"
command -v node >/dev/null 2>&1 || need_apt="$need_apt nodejs"
command -v npm >/dev/null 2>&1 || need_apt="$need_apt npm"
if [ -n "$need_apt" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup-test-tools: please install:$need_apt (needs root)" >&2
		exit 1
	fi
	echo "setup-test-tools: installing$need_apt" >&2
	apt-get update -qq
	# Never dbus-x11: it makes clients autolaunch stray session buses.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi

if [ ! -d scripts/verify-demo/node_modules ]; then
	echo "setup-test-tools: installing the demo verifier's npm packages" >&2
	(cd scripts/verify-demo && npm ci --no-audit --no-fund --loglevel=error)
fi
