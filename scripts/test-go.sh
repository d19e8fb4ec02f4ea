#!/bin/sh
# The whole Go suite, as `make test` runs it: every package, with the
# end-to-end package (e2e: a relay and parties as real processes) split in
# two shards that run beside the other packages. Each shard is its own test
# process with its own world (relay, three parties, wallet). The e2e tests
# spend most of their time waiting (ceremony deadlines, a new TOTP time step,
# processes restarting), so the shards overlap that waiting with the CPU-bound
# packages instead of adding it up.
#
# Shard 2 is the tests listed below; shard 1 is every other e2e test, so a
# new test always runs somewhere. A failing shard keeps its log and homes
# (PARATRO_E2E_KEEP) and fails the script.
#
#   sh scripts/test-go.sh          # GO=go, TIMEOUT=30m
set -u
cd "$(dirname "$0")/.."
GO=${GO:-go}
TIMEOUT=${TIMEOUT:-30m}

# Shard 2 takes long crash and restart tests. TestSecretHygiene stays in shard
# 1 with most of the error paths: it scans the transcript and files of the
# world it runs in.
shard2='TestKeygenKilledAtEveryStep|TestKeygenKilledInEachRound|TestPresignKilledAtEveryStep|TestPresignaturePoolAcrossProcesses|TestBackupExportRestoreAndStale|TestPartyKilledMidRefresh|TestDestroy|TestPartyKilledMidSign'

all=$($GO test -list '^Test' ./e2e/ | grep '^Test') || { echo "test-go: cannot list the e2e tests" >&2; exit 1; }
one=$(echo "$all" | grep -v -x -E "$shard2" | paste -sd'|' -)
two=$(echo "$all" | grep -x -E "$shard2" | paste -sd'|' -)

log=$(mktemp -d "${TMPDIR:-/tmp}/paratro-test-go.XXXXXX")
run_shard() { # NAME PATTERN
	start=$(date +%s)
	if [ -z "$2" ]; then
		echo "e2e shard $1: no tests" >"$log/$1.out"
		echo 0 >"$log/$1.rc"
		return
	fi
	$GO test -count=1 -timeout "$TIMEOUT" -run "^($2)\$" ./e2e/ >"$log/$1.out" 2>&1
	echo $? >"$log/$1.rc"
	echo "e2e shard $1: $(( $(date +%s) - start ))s" >>"$log/$1.out"
}
run_shard 1 "$one" &
p1=$!
run_shard 2 "$two" &
p2=$!

rc=0
$GO test -count=1 -timeout "$TIMEOUT" $($GO list ./... | grep -v '/e2e$') || rc=1
wait $p1 $p2
for s in 1 2; do
	cat "$log/$s.out"
	[ "$(cat "$log/$s.rc")" = 0 ] || rc=1
done
rm -rf "$log"
exit $rc
