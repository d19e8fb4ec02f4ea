#!/bin/sh
# Regenerates the TEST-ONLY fixture wallets used by the tests (a real CMP key
# generation through the ceremony engine; takes seconds). The keys are public.
set -eu
cd "$(dirname "$0")/.."
go run ./scripts/genfixtures ceremony/ceremonytest/testdata
