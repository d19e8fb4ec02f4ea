#!/bin/sh
# Regenerates the committed man pages (man/*.1) and shell completion scripts
# (completions/paratro.*) from the command tree. Run it after changing any
# command, flag or help text, and commit the result; cmd/gen-docs/main_test.go
# fails until you do.
#
# Usage: scripts/gen-docs.sh
set -eu

cd "$(dirname "$0")/.."

# Remove the old files first, so that pages of removed commands disappear.
mkdir -p man completions
rm -f man/*.1 completions/paratro.bash completions/paratro.zsh completions/paratro.fish completions/paratro.ps1

go run ./cmd/gen-docs --man man --completions completions
echo "gen-docs: wrote $(ls man/*.1 | wc -l | tr -d ' ') man pages and 4 completion scripts" >&2
