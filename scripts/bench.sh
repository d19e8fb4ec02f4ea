#!/bin/sh
# Benchmarks, each printing ratios measured within one run on this machine
# (a benchmark, not a test: it never fails on a ratio).
#
#  relay  : the table of issue 8 (scripts/benchrelay), from one run: 2-of-3
#           ECDSA (CMP) sign, request to signature, full protocol and one
#           round with a presignature (party run --presign), with the relay and every
#           party a separate process on loopback (set up as scripts/e2e.sh
#           does) vs the same signs in one process over the in-memory
#           transport vs the bare threshold library, alternating; p50/p95/
#           p99, CPU seconds, ratios relay/in-memory (target <= 1.05) and
#           in-memory/bare; DKG 2-of-3 and 3-of-5 the same three ways (wall
#           and CPU); `paratro --help` start-up (target <= 20 ms) and idle
#           `party run` RSS (target <= 40 MB); where the relay's time per
#           message goes.
#  engine : the ceremony engine's overhead in more detail (go test -bench
#           in ceremony/: CMP sign and refresh, FROST sign), engine vs bare
#           library interleaved, as engine/library ratios.
#  load   : the relay under load (scripts/benchload): N concurrent 3-member
#           ceremonies shaped like a CMP sign, driven by fake parties in one
#           process that speak the real relay protocol against a real
#           `paratro relay serve`; messages/s, p50/p99 delivery latency, the
#           relay's CPU and RSS, at N = 10, 100, 1000 (target: N = 1000,
#           >= 5,000 messages/s on 2 cores, p99 delivery <= 20 ms).
#
# Usage: scripts/bench.sh                 the relay table, then the load table (about 15 minutes on 2 cores)
#        scripts/bench.sh relay engine    also the engine detail (about 3 minutes more)
#        scripts/bench.sh load            only the relay load table (about 2 minutes)
#        BENCH_QUICK=1 scripts/bench.sh   a smoke run with tiny counts (under a minute; figures meaningless)
#        BENCH_SIGNS=10 BENCH_DKGS=1 BENCH_DKGS5=0 scripts/bench.sh   (a quicker look)
#
# Other work on the machine slows every side alike, but it makes the
# ratios noisy; the load average is printed with the table.
set -eu
cd "$(dirname "$0")/.."

# relay benchmark
if [ -n "${BENCH_QUICK:-}" ]; then
	# smoke run: every row once, nothing measured well
	: "${BENCH_PRESIGS:=2}" "${BENCH_SIGNS:=2}" "${BENCH_DKGS:=0}" "${BENCH_DKGS5:=0}" "${BENCH_CLI_SIGNS:=1}" "${BENCH_HOPS:=5}" "${BENCH_HELP_RUNS:=3}"
	: "${COUNT:=1}" "${SIGN_N:=1}" "${REFRESH_N:=1}" "${FROST_N:=10}"
	: "${LOAD_N:=10}" "${LOAD_DURATION:=4s}" "${LOAD_WARMUP:=1s}"
fi
BENCH_SIGNS=${BENCH_SIGNS:-50}          # 2-of-3 signs on each side (about 1-1.5 s each)
BENCH_PRESIGS=${BENCH_PRESIGS:-50}      # one-round signs with a presignature (the pool fills first: about 1-2 s each)
BENCH_DKGS=${BENCH_DKGS:-3}             # 2-of-3 key generations on each side (about 5-20 s each, high variance)
BENCH_DKGS5=${BENCH_DKGS5:-2}           # 3-of-5 key generations on each side (about 10-40 s each)
BENCH_CLI_SIGNS=${BENCH_CLI_SIGNS:-3}   # `paratro wallet sign` commands timed whole
BENCH_HOPS=${BENCH_HOPS:-50}            # round trips of the per-message relay measurement
BENCH_HELP_RUNS=${BENCH_HELP_RUNS:-20}  # `paratro --help` runs (median)
BENCH_DIR=${BENCH_DIR:-}                # keep the relay's homes and logs there
BENCH_PRESIG_PROFILE=${BENCH_PRESIG_PROFILE:-}  # a directory: CPU profiles and traces of the two signers during the one-round signs
# engine benchmark
COUNT=${COUNT:-3}         # rounds of engine+library pairs
SIGN_N=${SIGN_N:-5}       # CMP signs per round (about 1.6 s each)
REFRESH_N=${REFRESH_N:-2} # CMP refreshes per round (about 6 s each)
FROST_N=${FROST_N:-300}   # FROST signs per round (about 2 ms each)
# load benchmark
LOAD_N=${LOAD_N:-10,100,1000}     # concurrent ceremonies: one fresh relay and one row each
LOAD_DURATION=${LOAD_DURATION:-15s} # per N, warm-up included
LOAD_WARMUP=${LOAD_WARMUP:-3s}      # left out of the figures

what=${*:-relay load}
for w in $what; do
	case $w in
	relay | engine | load) ;;
	*) echo "usage: scripts/bench.sh [relay] [engine] [load]" >&2; exit 2 ;;
	esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

relay_bench() {
	# Binaries of their own, so that a bin/paratro rebuilt meanwhile does not matter.
	go build -o "$tmp/paratro" ./cmd/paratro
	go build -o "$tmp/benchrelay" ./scripts/benchrelay
	"$tmp/benchrelay" -paratro "$tmp/paratro" -signs "$BENCH_SIGNS" -presigs "$BENCH_PRESIGS" -dkgs "$BENCH_DKGS" -dkgs5 "$BENCH_DKGS5" \
		-cli-signs "$BENCH_CLI_SIGNS" -hops "$BENCH_HOPS" -help-runs "$BENCH_HELP_RUNS" ${BENCH_DIR:+-dir "$BENCH_DIR"} \
		${BENCH_PRESIG_PROFILE:+-presig-profile "$BENCH_PRESIG_PROFILE"}
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

load_bench() {
	go build -o "$tmp/paratro-load" ./cmd/paratro
	go build -o "$tmp/benchload" ./scripts/benchload
	"$tmp/benchload" -paratro "$tmp/paratro-load" -n "$LOAD_N" -duration "$LOAD_DURATION" -warmup "$LOAD_WARMUP" \
		${BENCH_DIR:+-dir "$BENCH_DIR/load"}
}

for w in $what; do
	case $w in
	relay) relay_bench ;;
	engine) engine_bench ;;
	load) load_bench ;;
	esac
done
