#!/usr/bin/env bash
# run.sh: measure synack, gVisor and the kernel side by side, keep the raw
# output in results/<date>-<commit>.txt, print benchstat's tables (-col /stack) and
# rewrite the tables of ../BENCHMARKS.md from the run.
#
#   bench/run.sh            # COUNT=5 runs of each benchmark, IDLE_COUNT=3 of the idle ones
#   COUNT=6 bench/run.sh
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
bench() {
	timeout 1800 "$tmp/bench.test" -test.run '^$' -test.benchmem "$@" | tee -a "$out"
}
bench -test.bench '^BenchmarkBulk$' -test.benchtime 256x -test.count "$COUNT"
bench -test.bench '^BenchmarkConnRate$' -test.benchtime 5000x -test.count "$COUNT"
bench -test.bench '^BenchmarkPingPong$' -test.benchtime 50000x -test.count "$COUNT"
bench -test.bench '^BenchmarkIdleHeap$' -test.benchtime 1x -test.count "$IDLE_COUNT" -idle.pairs 10000 -idle.budget "$IDLE_BUDGET"
bench -test.bench '^BenchmarkIdleMany$' -test.benchtime 1x -test.count "$IDLE_COUNT" -many.pairs 100000 -idle.budget "$IDLE_BUDGET"
echo
go tool benchstat -col /stack "$out"
echo
go run ./cmd/report -w ../BENCHMARKS.md "$out"
go run ./cmd/report "$out"
echo "raw results: bench/$out; tables written to BENCHMARKS.md"
