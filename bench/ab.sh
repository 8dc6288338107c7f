#!/usr/bin/env bash
# ab.sh: is a change within noise? Builds the bench binary at two commits
# of synack (the old tree gets this tree's bench_test.go, so that both
# report the same metrics), runs synack's benchmarks in alternating rounds
# (old, new, old, new, ...) and prints, per benchmark, the median and
# range of the per-round ratios new speed / old speed, and for bulk of new
# CPU per GiB / old. The machine is shared and noisy: only the ratio within
# a round means anything, and CPU time drifts less than speed does.
#
#   bench/ab.sh OLD [NEW]        # NEW defaults to the work tree
#   ROUNDS=7 bench/ab.sh 3cf287a
#   ONLY=Bulk BULK=256x bench/ab.sh 3cf287a   # only the benchmarks matching ONLY (grep -E), bulk of 256 MiB a run
#   SCALING=1 ONLY=Concurrent OLDFLAGS='-synack.shards 1' NEWFLAGS='-synack.shards -1' bench/ab.sh HEAD HEAD
#       # one commit, two flag sets: the scaling benchmarks at procs=2, one shard against one per procs
#
# Bounded: fixed operation counts, a timeout per run. In-process only.
set -euo pipefail
cd "$(dirname "$0")"
old=${1:?usage: bench/ab.sh OLD-COMMIT [NEW-COMMIT]}
new=${2:-}
ROUNDS=${ROUNDS:-5}
ONLY=${ONLY:-.}
BULK=${BULK:-64x}
OLDFLAGS=${OLDFLAGS:-}
NEWFLAGS=${NEWFLAGS:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build() { # commit -> binary
	mkdir -p "$tmp/src-$2"
	git -C .. archive "$1" | tar -x -C "$tmp/src-$2"
	cp bench_test.go "$tmp/src-$2/bench/"
	(cd "$tmp/src-$2/bench" && go test -c -o "$tmp/$2.test" .)
}
build "$old" old
if [ -n "$new" ]; then build "$new" new; else go test -c -o "$tmp/new.test" .; fi
benches=(
	"BenchmarkBulk/mtu=1500/stack=synack\$:$BULK"
	"BenchmarkBulk/mtu=65535/stack=synack\$:$BULK"
	'BenchmarkConnRate/workers=1/stack=synack$:2000x'
	'BenchmarkConnRate/workers=16/stack=synack$:2000x'
	'BenchmarkPingPong/stack=synack$:20000x'
)
if [ -n "${SCALING:-}" ]; then
	benches+=(
		'BenchmarkBulkConcurrent/conns=64/procs=2/stack=synack$:32x'
		'BenchmarkConnRateConcurrent/workers=16/procs=2/stack=synack$:5000x'
	)
fi
out="$tmp/ab.txt"
for r in $(seq "$ROUNDS"); do
	for v in old new; do
		for b in "${benches[@]}"; do
			echo "${b%:*}" | grep -qE "$ONLY" || continue
			flags=$OLDFLAGS
			[ "$v" = new ] && flags=$NEWFLAGS
			# shellcheck disable=SC2086 # the flags are words
			timeout 300 "$tmp/$v.test" -test.run '^$' -test.bench "^${b%:*}" -test.benchtime "${b##*:}" $flags |
				awk -v r="$r" -v v="$v" '/^Benchmark/ {
					print r, v, $1, $3
					for (i = 4; i < NF; i++) if ($(i+1) == "cpu-s/GiB") print r, v, $1 "(cpu-s/GiB)", $i
				}' >>"$out"
		done
	done
done
awk '
	{ t[$3 SUBSEP $1 SUBSEP $2] = $4; names[$3] = 1; rounds[$1] = 1 }
	END {
		for (n in names) {
			k = 0
			for (r in rounds) if ((n SUBSEP r SUBSEP "old") in t && (n SUBSEP r SUBSEP "new") in t)
				x[++k] = t[n SUBSEP r SUBSEP "old"] / t[n SUBSEP r SUBSEP "new"]
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (x[j] < x[i]) { s = x[i]; x[i] = x[j]; x[j] = s }
			med = (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
			what = "new/old speed"
			if (n ~ /cpu-s\/GiB/) { what = "new/old cpu-s/GiB"; for (i = 1; i <= k; i++) x[i] = 1 / x[i]; for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (x[j] < x[i]) { s = x[i]; x[i] = x[j]; x[j] = s }; med = (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2 }
			printf "%-64s %s: median %.2f, range %.2f-%.2f, %d rounds\n", n, what, med, x[1], x[k], k
		}
	}' "$out" | sort
