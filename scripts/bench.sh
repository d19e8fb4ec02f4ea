#!/bin/sh
# Measures the ceremony engine's overhead: each benchmark runs the same
# ceremony through the engine (in-memory transport) and through the bare
# threshold library wired the way its own tests do, interleaved in one run,
# and prints engine/library as a ratio (1.00 = no overhead).
#
# Usage: scripts/bench.sh            (about 3 minutes on 2 cores)
#        COUNT=1 SIGN_N=3 REFRESH_N=1 scripts/bench.sh   (quick look)
set -eu
cd "$(dirname "$0")/.."
COUNT=${COUNT:-3}         # rounds of engine+library pairs
SIGN_N=${SIGN_N:-5}       # CMP signs per round (about 1.6 s each)
REFRESH_N=${REFRESH_N:-2} # CMP refreshes per round (about 6 s each)
FROST_N=${FROST_N:-300}   # FROST signs per round (about 2 ms each)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

run() { # name iterations: one engine+library pair
	go test -run '^$' -bench "^$1\$" -benchtime "$2x" -count 1 ./ceremony/ | tee -a "$out" >&2
}
# Rounds alternate engine and library, so drift in the machine's speed
# falls on both sides alike (go test -count would run one side's repeats
# back to back).
i=0
while [ "$i" -lt "$COUNT" ]; do
	run BenchmarkSignECDSA "$SIGN_N"
	run BenchmarkRefreshECDSA "$REFRESH_N"
	run BenchmarkSignSchnorr "$FROST_N"
	i=$((i + 1))
done

echo
awk '
/^Benchmark/ {
	split($1, p, "/"); name = p[1]; side = p[2]; sub(/-[0-9]+$/, "", side)
	ns[name, side] += $3; n[name, side]++; names[name] = 1
}
END {
	printf "%-24s %14s %14s %8s\n", "BENCHMARK", "ENGINE ms/op", "LIBRARY ms/op", "RATIO"
	for (name in names) {
		e = ns[name, "engine"] / n[name, "engine"] / 1e6
		l = ns[name, "library"] / n[name, "library"] / 1e6
		printf "%-24s %14.2f %14.2f %8.3f\n", name, e, l, e / l
	}
}' "$out" | sort
