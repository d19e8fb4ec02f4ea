#!/bin/sh
# Validates goreleaser.yaml with the one goreleaser release that builds on
# this toolchain (v2.16.0; later releases need a newer Go or a module host the
# proxy refuses, see ECOSYSTEM.md §6). The binary is installed into ./bin once.
#
# Usage: scripts/goreleaser-check.sh
set -eu

cd "$(dirname "$0")/.."

version=v2.16.0
if [ ! -x ./bin/goreleaser ]; then
	echo "goreleaser-check: installing goreleaser $version into ./bin (a cold install takes about 4 minutes)" >&2
	GOBIN="$PWD/bin" go install "github.com/goreleaser/goreleaser/v2@$version"
fi

./bin/goreleaser check --config goreleaser.yaml
