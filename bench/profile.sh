#!/usr/bin/env bash
# profile.sh: CPU and allocation profiles of synack on bulk (MTU 1500 and
# 65535), ping-pong and connection rate; writes them to results/prof/ and
# prints the top entries (flat and cumulative), and for bulk who calls
# runtime.memmove (each caller is one copy of every byte) and the checksum. The CPU and allocation profiles
# come from separate runs, so that sampling allocations does not show up
# in the CPU profile.
set -euo pipefail
cd "$(dirname "$0")"
dir=results/prof
mkdir -p "$dir"
go test -c -o "$dir/bench.test" .
prof() { # name bench-regexp benchtime
	timeout 600 "$dir/bench.test" -test.run '^$' -test.bench "$2" -test.benchtime "$3" -test.cpuprofile "$dir/$1.cpu" >/dev/null
	timeout 600 "$dir/bench.test" -test.run '^$' -test.bench "$2" -test.benchtime "$3" -test.memprofile "$dir/$1.mem" -test.memprofilerate 4096 >/dev/null
	echo "== $1: CPU, flat"
	go tool pprof -top -nodecount 15 "$dir/bench.test" "$dir/$1.cpu" 2>/dev/null | sed -n '/flat%/,$p'
	echo "== $1: CPU, the callers of memmove (one per copy of the data) and of the checksum"
	go tool pprof -peek 'runtime.memmove$|wire.sum64$' "$dir/bench.test" "$dir/$1.cpu" 2>/dev/null | sed -n '/flat%/,$p' | grep -E '\||flat%'
	echo "== $1: CPU, cumulative (synack only)"
	go tool pprof -top -cum -nodecount 60 "$dir/bench.test" "$dir/$1.cpu" 2>/dev/null | sed -n '/flat%/,$p' | grep -E 'flat%|synack' | head -20
	echo "== $1: allocated objects"
	go tool pprof -sample_index=alloc_objects -top -nodecount 10 "$dir/bench.test" "$dir/$1.mem" 2>/dev/null | sed -n '/flat%/,$p'
	echo "== $1: allocated bytes"
	go tool pprof -sample_index=alloc_space -top -nodecount 10 "$dir/bench.test" "$dir/$1.mem" 2>/dev/null | sed -n '/flat%/,$p'
}
prof bulk1500 '^BenchmarkBulk$/^mtu=1500$/^stack=synack$' 3072x
prof bulk65535 '^BenchmarkBulk$/^mtu=65535$/^stack=synack$' 3072x
prof pingpong '^BenchmarkPingPong$/^stack=synack$' 100000x
prof connrate '^BenchmarkConnRate$/^workers=1$/^stack=synack$' 3000x
