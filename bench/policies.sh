#!/bin/sh
# bench/policies.sh — throughput of the policy engine with 0, 50 and 1,000 policies.
#
# Builds the core library (RelWithDebInfo, the default) in $TESSERA_BENCH_BUILD (default /tmp/tessera-bench-build),
# compiles bench/policy_bench.c against it and runs it: each case evaluates the 21 policy
# lookups of one /validate/check ("checks/s") for SECONDS (default 3) on one thread.
# The engine only — no HTTP, no database; /validate/check itself is measured by bench/run once
# it enforces policies.  Results are printed and written to bench/results/policies_<time>.txt.
#
# usage: bench/policies.sh [SECONDS]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${TESSERA_BENCH_BUILD:-/tmp/tessera-bench-build}
SECS=${1:-3}
DEPS="libmicrohttpd jansson libcrypto libssl sqlite3 libpq libcrypt libargon2 libpcre2-8 libcurl ldap lber
      libqrencode libpng yaml-0.1 libxml-2.0"

cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target tessera_core -j"$(nproc)" >/dev/null
# shellcheck disable=SC2046,SC2086
cc -std=c17 -O2 -D_GNU_SOURCE -I"$REPO/src" $(pkg-config --cflags $DEPS) "$HERE/policy_bench.c" \
	"$BUILD/libtessera_core.a" $(pkg-config --libs $DEPS) -lpthread -lm -o "$BUILD/policy_bench"

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
