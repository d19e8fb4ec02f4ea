#!/bin/sh
# Benchmarks, each printing ratios measured within one run on this machine
# (a benchmark, not a test: it never fails on a ratio).
#
#  relay  : 2-of-3 ECDSA (CMP) sign and key generation through the relay,
#           with the relay and the three parties as separate processes over
#           loopback (set up as scripts/e2e.sh does), vs the same ceremonies
#           in one process over the in-memory transport; the two alternate.
#           Prints p50/p95, relay/memory ratios (target for sign: ≤ 1.10),
#           CPU time, the whole `paratro wallet sign` command's wall time, and
#           the relay's cost per message (scripts/benchrelay).
#  engine : the ceremony engine's overhead: each benchmark runs the same
#           ceremony through the engine (in-memory transport) and through the
#           bare threshold library wired the way its own tests do, interleaved
#           in one run, and prints engine/library as a ratio (1.00 = no
#           overhead).
#
# Usage: scripts/bench.sh                 both, relay first (about 5 minutes on 2 cores)
#        scripts/bench.sh relay           only the relay benchmark (about 2 minutes)
#        scripts/bench.sh engine          only the engine benchmark (about 3 minutes)
#        BENCH_SIGNS=5 BENCH_DKGS=1 COUNT=1 SIGN_N=3 REFRESH_N=1 scripts/bench.sh   (quick look)
#
# Other work on the machine slows both sides of each pair alike; the load
# average is printed with the relay figures.
set -eu
cd "$(dirname "$0")/.."

# relay benchmark
BENCH_SIGNS=${BENCH_SIGNS:-20}        # signs on each side (about 1.5 s each)
BENCH_DKGS=${BENCH_DKGS:-3}           # key generations on each side (about 6-10 s each, high variance)
BENCH_CLI_SIGNS=${BENCH_CLI_SIGNS:-3} # `paratro wallet sign` commands timed whole
BENCH_HOPS=${BENCH_HOPS:-50}          # round trips of the per-message relay measurement
BENCH_DIR=${BENCH_DIR:-}              # keep the relay's homes and logs there
# engine benchmark
COUNT=${COUNT:-3}         # rounds of engine+library pairs
SIGN_N=${SIGN_N:-5}       # CMP signs per round (about 1.6 s each)
REFRESH_N=${REFRESH_N:-2} # CMP refreshes per round (about 6 s each)
FROST_N=${FROST_N:-300}   # FROST signs per round (about 2 ms each)

what=${*:-relay engine}
for w in $what; do
	case $w in
	relay | engine) ;;
	*) echo "usage: scripts/bench.sh [relay] [engine]" >&2; exit 2 ;;
	esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

relay_bench() {
	# Binaries of their own, so that a bin/paratro rebuilt meanwhile does not matter.
	go build -o "$tmp/paratro" ./cmd/paratro
	go build -o "$tmp/benchrelay" ./scripts/benchrelay
	"$tmp/benchrelay" -paratro "$tmp/paratro" -signs "$BENCH_SIGNS" -dkgs "$BENCH_DKGS" \
		-cli-signs "$BENCH_CLI_SIGNS" -hops "$BENCH_HOPS" ${BENCH_DIR:+-dir "$BENCH_DIR"}
}

engine_bench() {
	out=$tmp/engine.txt
	: >"$out"
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
	echo "ENGINE vs BARE LIBRARY (in one process, in-memory transport; ms/op averaged over $COUNT rounds)"
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
}

for w in $what; do
	case $w in
	relay) relay_bench ;;
	engine) engine_bench ;;
	esac
done
