#!/bin/sh
# Runs the whole demo as a user would and checks every signature in its
# JSON with ethers and @noble/curves (scripts/verify-demo/verify.mjs), code
# that shares nothing with paratro or the threshold library.
# Needs: scripts/setup-test-tools.sh.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/paratro" ./cmd/paratro
"$tmp/paratro" demo --quiet --output json >"$tmp/demo.json"
node scripts/verify-demo/verify.mjs <"$tmp/demo.json"
