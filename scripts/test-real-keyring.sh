#!/bin/sh
# Runs TestRealOSKeyring (package shares) against a real Secret Service:
# gnome-keyring on a private D-Bus session, with a throwaway keyring under a
# temporary XDG_DATA_HOME. Installs gnome-keyring and libsecret-tools first
# if they are missing (needs root, Debian/Ubuntu).
#
# Then it checks from outside Go, with secret-tool in a second session on
# the same keyring file, that the test really wrote to the Secret Service:
# the probe entry it left must hold the random value this script gave it,
# and nothing else the test wrote may remain.
set -eu
cd "$(dirname "$0")/.."

if ! command -v gnome-keyring-daemon >/dev/null 2>&1 || ! command -v secret-tool >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-real-keyring: install gnome-keyring and libsecret-tools first (needs root)" >&2
    exit 1
  fi
  apt-get update
  # Never dbus-x11: it makes clients autolaunch stray session buses.
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gnome-keyring libsecret-tools
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data"
mkdir -m 700 "$tmp/run"
probe=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run"

PARATRO_REAL_KEYRING=1 PARATRO_REAL_KEYRING_PROBE="$probe" \
  dbus-run-session -- sh scripts/with-keyring.sh go test -count=1 -run 'TestRealOSKeyring' ./shares/

# go-keyring stores values as given; package shares gives it base64.
want=$(printf '%s' "$probe" | base64 | tr -d '\n')
dbus-run-session -- sh scripts/with-keyring.sh sh -eu -c '
  found=$(secret-tool search --all service paratro-test 2>&1)
  printf "%s\n" "$found" | grep "^attribute.username" | sort >"$1/users"
  got=$(secret-tool lookup service paratro-test username paratro-real-keyring-probe || true)
  secret-tool clear service paratro-test username paratro-real-keyring-probe || true
  left=$(secret-tool search --all service paratro-test 2>&1 | grep -c "^attribute.username" || true)
  if [ "$got" != "$2" ]; then
    echo "test-real-keyring: the probe entry is missing or wrong in the Secret Service (got \"$got\")" >&2
    exit 1
  fi
  if [ "$(cat "$1/users")" != "attribute.username = paratro-real-keyring-probe" ]; then
    echo "test-real-keyring: unexpected paratro-test entries in the Secret Service:" >&2
    cat "$1/users" >&2
    exit 1
  fi
  if [ "$left" != 0 ]; then
    echo "test-real-keyring: $left paratro-test entries remain after cleanup" >&2
    exit 1
  fi
' check "$tmp" "$want"
echo "test-real-keyring: ok (the test wrote to the Secret Service, secret-tool read it back, nothing is left)"
