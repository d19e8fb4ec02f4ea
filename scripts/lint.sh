#!/bin/sh
# Runs staticcheck over the whole module with a pinned release (v0.8.2, the
# newest that builds with Go 1.26.8; installed into ./bin once).
#
# Usage: scripts/lint.sh
set -eu

cd "$(dirname "$0")/.."

version=v0.8.2
if [ ! -x ./bin/staticcheck ] || ! ./bin/staticcheck -version 2>/dev/null | grep -qF "(${version#v})"; then
	echo "lint: installing staticcheck $version into ./bin" >&2
	GOBIN="$PWD/bin" go install "honnef.co/go/tools/cmd/staticcheck@$version"
fi

./bin/staticcheck ./...
