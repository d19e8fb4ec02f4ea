#!/bin/sh
# The soak of SECURITY.md release case 30 (issue 9): many signs and key
# generations/refreshes, one after another, through one `paratro relay
# serve` and three `paratro party run` (2-of-3, set up as scripts/bench.sh's
# relay benchmark does: scripts/benchrelay -soak). The keeper of one signer
# set keeps a presignature pool (--presign), refilled in the background.
# Every signature is verified with go-ethereum (ECDSA) or btcd (BIP-340,
# BIP-86 taproot), not with the threshold library.
#
# Goroutines (pprof, PARATRO_PPROF) and VmRSS of the relay and every party
# are sampled at the start (after a warm-up) and after every tenth of the
# work, with the pools full and the processes idle. It fails (exit 1) if a
# ceremony fails or misses its deadline (a hang; the logs' tails are
# printed), if the pool does not refill, or if a process ends with more
# than 10 goroutines over its start or an RSS above max(1.5 x start,
# start + 40 MB) (VmRSS less the relay's memory-mapped store file, which
# grows with every ceremony kept: shown apart). It prints a table of both.
#
# Usage: scripts/soak.sh                 the full soak: 1,000 signs (700 FROST, 200 ECDSA one-round with
#                                        a presignature, 100 ECDSA full protocol) and 20 keygens/refreshes
#                                        (8 FROST keygens, 6 FROST refreshes, 4 CMP refreshes, 2 CMP
#                                        keygens); 27 minutes on 2 shared cores (19 CPU-minutes)
#        SOAK_QUICK=1 scripts/soak.sh    CI size: 100 signs (72/20/8) and 4 keygens/refreshes (2 FROST
#                                        keygens, 1 FROST refresh, 1 CMP refresh); 6 minutes on 2 shared cores at
#                                        load average 15 (2.6 CPU-minutes)
#        SOAK_FROST_SIGNS=1000 SOAK_CMP_KEYGENS=0 scripts/soak.sh   (any count; unset: the mode's default)
#
# Refreshes need a TOTP code (the initiator is enrolled, as in production),
# which the relay takes once per 30 s step: more than about one refresh or
# keygen per 30 s makes the soak wait (the wait is printed).
set -eu
cd "$(dirname "$0")/.."

SOAK_FROST_SIGNS=${SOAK_FROST_SIGNS:--1}         # FROST (Schnorr) signs, bare key and taproot alternately
SOAK_PRESIG_SIGNS=${SOAK_PRESIG_SIGNS:--1}       # ECDSA one-round signs with a presignature
SOAK_FULL_SIGNS=${SOAK_FULL_SIGNS:--1}           # ECDSA full-protocol signs (about 1.5 s each)
SOAK_FROST_KEYGENS=${SOAK_FROST_KEYGENS:--1}     # FROST 2-of-3 keygens
SOAK_FROST_REFRESHES=${SOAK_FROST_REFRESHES:--1} # FROST refreshes
SOAK_CMP_REFRESHES=${SOAK_CMP_REFRESHES:--1}     # CMP refreshes (about 8 s each, and the pool refills)
SOAK_CMP_KEYGENS=${SOAK_CMP_KEYGENS:--1}         # CMP 2-of-3 keygens (about 8 s each; a new pool fills)
SOAK_POOL=${SOAK_POOL:--1}                       # the keeper's --presign N (default 10, quick 4); one-round signs run in bursts of N
SOAK_DIR=${SOAK_DIR:-}                           # keep the homes and logs there
SOAK_OUT=${SOAK_OUT:-}                           # also write the table to this file

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Binaries of their own, so that a bin/paratro rebuilt meanwhile does not matter.
go build -o "$tmp/paratro" ./cmd/paratro
go build -o "$tmp/soak" ./scripts/benchrelay
"$tmp/soak" -paratro "$tmp/paratro" -soak ${SOAK_QUICK:+-soak-quick} \
	-soak-frost-signs "$SOAK_FROST_SIGNS" -soak-presig-signs "$SOAK_PRESIG_SIGNS" -soak-full-signs "$SOAK_FULL_SIGNS" \
	-soak-frost-keygens "$SOAK_FROST_KEYGENS" -soak-frost-refreshes "$SOAK_FROST_REFRESHES" \
	-soak-cmp-refreshes "$SOAK_CMP_REFRESHES" -soak-cmp-keygens "$SOAK_CMP_KEYGENS" -soak-pool "$SOAK_POOL" \
	${SOAK_DIR:+-dir "$SOAK_DIR"} ${SOAK_OUT:+-soak-out "$SOAK_OUT"}
