#!/bin/sh
# bench/policies.sh — throughput of the policy engine with 0, 50 and 1,000 policies.
#
# Builds the target policy_bench (bench/policy_bench.c against the core library, RelWithDebInfo as
# the project's default) in $TESSERA_BENCH_BUILD (default /tmp/tessera-bench-build) and runs it:
# each case evaluates the 21 policy lookups of one /validate/check ("checks/s") for SECONDS
# (default 3) on one thread.  The engine only — no HTTP, no database; /validate/check itself is
# measured by `bench/policies.sh e2e` (bench/policies_e2e.sh).  Results are printed and written to
# bench/results/policies_<time>.txt.
#
# usage: bench/policies.sh [SECONDS]
#        bench/policies.sh e2e [OPTIONS]   POST /validate/check end to end with 0, 50 and 1,000 policies
#                                          (runs bench/policies_e2e.sh; its header has the options)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = e2e ]; then
	shift
	exec "$HERE/policies_e2e.sh" "$@"
fi
REPO=$(dirname "$HERE")
BUILD=${TESSERA_BENCH_BUILD:-/tmp/tessera-bench-build}
SECS=${1:-3}

cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target policy_bench -j"$(nproc)" >/dev/null

commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "?")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
head="tessera policy engine benchmark $(date -Iseconds)
commit $commit; machine: $(uname -n), $(nproc) CPUs, $cpu; ${SECS}s per case, one thread
"
result=$("$BUILD/policy_bench" "$SECS")
printf '%s\n%s\n' "$head" "$result"
mkdir -p "$HERE/results"
out="$HERE/results/policies_$(date +%Y-%m-%d_%H%M%S).txt"
printf '%s\n%s\n' "$head" "$result" >"$out"
echo
echo "results written to ${out#"$REPO"/}"
