#!/usr/bin/env bash
# run.sh: measure synack, gVisor (at its best and as tun2socks configures
# it) and the kernel side by side, keep the raw output in
# results/<date>-<commit>.txt, print benchstat's tables (-col /stack) and
# rewrite the tables of ../BENCHMARKS.md from the run.
#
# The run is in rounds: in each, every benchmark runs once for every stack,
# one stack right after the other, and a "round: N" line goes before it;
# cmd/report takes synack's ratios within a round and gives their median
# and range, so that the machine's drift between rounds (it is shared)
# does not land in a ratio.
#
#   bench/run.sh            # COUNT=5 rounds of each benchmark, IDLE_COUNT=3 of the idle ones
#   COUNT=6 bench/run.sh
#   ONLY=Bulk COUNT=7 bench/run.sh   # only the families whose name matches (a grep -E pattern)
#
# Bounded: every benchmark has a fixed operation count (-benchtime Nx), each
# go test invocation a timeout, and the idle benchmarks a time budget for
# opening connections (IDLE_BUDGET). The kernel is reached on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")"
COUNT=${COUNT:-5}
IDLE_COUNT=${IDLE_COUNT:-3}
IDLE_BUDGET=${IDLE_BUDGET:-60s}
mkdir -p results
out=results/$(date -u +%Y-%m-%d)-$(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown).txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/bench.test" .
{
	echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "# $(go version); gvisor $(go list -m -f '{{.Version}}' gvisor.dev/gvisor); synack $(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$out"
ONLY=${ONLY:-.}
echo "# load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
bench() { # family rounds flags...
	local family=$1 rounds=$2
	shift 2
	echo "$family" | grep -qE "$ONLY" || return 0
	for r in $(seq "$rounds"); do
		echo "round: $r" >>"$out"
		timeout 1800 "$tmp/bench.test" -test.run '^$' -test.benchmem -test.bench "^Benchmark$family\$" "$@" | tee -a "$out"
	done
}
bench Bulk "$COUNT" -test.benchtime 256x
# The scaling benchmarks run synack with one shard per GOMAXPROCS
# (SHARDS=-1; SHARDS=0 for synack's default of one).
bench BulkConcurrent "$COUNT" -test.benchtime 32x -synack.shards "${SHARDS:--1}"
bench ConnRate "$COUNT" -test.benchtime 5000x
bench ConnRateConcurrent "$COUNT" -test.benchtime 5000x -synack.shards "${SHARDS:--1}"
bench PingPong "$COUNT" -test.benchtime 50000x
bench IdleHeap "$IDLE_COUNT" -test.benchtime 1x -idle.pairs 10000 -idle.budget "$IDLE_BUDGET"
bench IdleMany "$IDLE_COUNT" -test.benchtime 1x -many.pairs 100000 -idle.budget "$IDLE_BUDGET"
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
echo
go tool benchstat -col /stack "$out"
echo
if [ "$ONLY" = . ]; then
	go run ./cmd/report -w ../BENCHMARKS.md "$out"
	go run ./cmd/report "$out"
	echo "raw results: bench/$out; tables written to BENCHMARKS.md"
else
	go run ./cmd/report "$out"
	echo "raw results: bench/$out (ONLY=$ONLY: BENCHMARKS.md left as it was)"
fi
