#!/usr/bin/env bash
# tun.sh: BenchmarkTUN (synack on a TUN device against the kernel's TCP in
# a namespace the benchmark makes and removes, 198.18.0.0/15) at two
# commits of synack, in alternating rounds (old, new, old, new, ...); prints
# per direction the median and range of the per-round ratios new/old of
# MiB/s and cpu-s/GiB, and each side's median TUN-queue drops per MiB.
# Needs root and /dev/net/tun.
#
#   bench/tun.sh OLD [NEW]        # NEW defaults to the work tree
#   ROUNDS=7 MIB=256 bench/tun.sh 086376b
#   bench/tun.sh plain            # old = the work tree without offloads
#                                 # (SYNACK_TUN_PLAIN=1), new = with them
#   SYNACK_TUN_PLAIN=1 bench/tun.sh OLD   # new without offloads
#   bench/tun.sh peers OLD [NEW]  # BenchmarkTUNPeers with synack-old (OLD's
#                                 # build) beside synack: every metric's
#                                 # new/old as x-synack-old, per round
#   PEERS=synack ROUNDS=7 bench/tun.sh peers OLD   # only synack and synack-old
#
# In peers mode the old tree gets this tree's bench/*_linux_test.go (its
# node must answer the same words); the knobs are BenchmarkTUNPeers's
# (MIB, CONNS, RTTS, PAR, PEERS: SYNACK_TUNBENCH_*).
#
# The old tree gets this tree's bench/tun_linux_test.go, go.mod and go.sum
# (the benchmark uses only synack.New, the TUN device and internal/netns,
# which exist there). Bounded: a fixed byte count per run, a timeout each.
set -euo pipefail
cd "$(dirname "$0")"
peers=
if [ "${1:-}" = peers ]; then peers=1; shift; fi
old=${1:?usage: bench/tun.sh [peers] OLD-COMMIT [NEW-COMMIT]}
new=${2:-}
ROUNDS=${ROUNDS:-7}
MIB=${MIB:-$([ -n "$peers" ] && echo 64 || echo 256)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "$peers" ]; then
	build() { # commit name
		mkdir -p "$tmp/src-$2"
		git -C .. archive "$1" | tar -x -C "$tmp/src-$2"
		cp ./*_linux_test.go go.mod go.sum "$tmp/src-$2/bench/"
		(cd "$tmp/src-$2/bench" && go test -c -o "$tmp/$2.test" .)
	}
	if [ -n "$new" ]; then build "$new" new; else go test -c -o "$tmp/new.test" .; fi
	build "$old" old
	SYNACK_TUNBENCH_OLD="$tmp/old.test" SYNACK_TUNBENCH_ROUNDS="$ROUNDS" SYNACK_TUNBENCH_MIB="${MIB}" \
		SYNACK_TUNBENCH_CONNS="${CONNS:-1000}" SYNACK_TUNBENCH_RTTS="${RTTS:-10000}" SYNACK_TUNBENCH_PAR="${PAR:-8}" \
		SYNACK_TUNBENCH_PEERS="${PEERS:-synack}" timeout 900 "$tmp/new.test" -test.run '^$' -test.bench '^BenchmarkTUNPeers$' -test.benchtime 1x -test.v
	exit
fi
build() { # commit name
	mkdir -p "$tmp/src-$2"
	git -C .. archive "$1" | tar -x -C "$tmp/src-$2"
	cp tun_linux_test.go go.mod go.sum "$tmp/src-$2/bench/"
	(cd "$tmp/src-$2/bench" && go test -c -o "$tmp/$2.test" .)
}
if [ -n "$new" ]; then build "$new" new; else go test -c -o "$tmp/new.test" .; fi
if [ "$old" = plain ]; then cp "$tmp/new.test" "$tmp/old.test"; else build "$old" old; fi
out="$tmp/tun.txt"
for r in $(seq "$ROUNDS"); do
	for v in old new; do
		plain=${SYNACK_TUN_PLAIN:-}
		if [ "$old" = plain ] && [ "$v" = old ]; then plain=1; fi
		SYNACK_TUN_PLAIN=$plain timeout 300 "$tmp/$v.test" -test.run '^$' -test.bench '^BenchmarkTUN$' -test.benchtime "${MIB}x" |
			awk -v r="$r" -v v="$v" '/^BenchmarkTUN/ {
				for (i = 1; i <= NF; i++) { if ($i == "MiB/s") m = $(i-1); if ($i == "cpu-s/GiB") c = $(i-1); if ($i == "tun-drops/op") d = $(i-1) }
				print r, v, $1, m, c, d }' | tee -a "$out"
	done
done
awk '
	function med(a, k,   i, j, s) {
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { s = a[i]; a[i] = a[j]; a[j] = s }
		return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	{ m[$3, $1, $2] = $4; c[$3, $1, $2] = $5; d[$3, $1, $2] = $6; names[$3] = 1; rounds[$1] = 1 }
	END {
		for (n in names) {
			k = 0
			for (r in rounds) if ((n, r, "old") in m && (n, r, "new") in m) {
				k++
				x[k] = m[n, r, "new"] / m[n, r, "old"]; y[k] = c[n, r, "new"] / c[n, r, "old"]
				xo[k] = m[n, r, "old"]; xn[k] = m[n, r, "new"]; co[k] = c[n, r, "old"]; cn[k] = c[n, r, "new"]
				dol[k] = d[n, r, "old"]; dn[k] = d[n, r, "new"]
			}
			lo = hi = x[1]; for (i = 1; i <= k; i++) { if (x[i] < lo) lo = x[i]; if (x[i] > hi) hi = x[i] }
			ylo = yhi = y[1]; for (i = 1; i <= k; i++) { if (y[i] < ylo) ylo = y[i]; if (y[i] > yhi) yhi = y[i] }
			printf "%s: MiB/s new/old median %.2f (range %.2f-%.2f); cpu-s/GiB new/old median %.2f (range %.2f-%.2f); medians old %.0f MiB/s %.2f cpu-s/GiB %.2f drops/MiB, new %.0f MiB/s %.2f cpu-s/GiB %.2f drops/MiB; %d rounds\n",
				n, med(x, k), lo, hi, med(y, k), ylo, yhi, med(xo, k), med(co, k), med(dol, k), med(xn, k), med(cn, k), med(dn, k), k
		}
	}' "$out" | sort
