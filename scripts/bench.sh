#!/usr/bin/env bash
# `make bench`: measures the functions, the local stack and ZooKeeper 3.8,
# and regenerates docs/BENCHMARKS.md, docs/COST.md, docs/cost.svg and the
# cost model's profile (crates/cli/data/profile.json).
#
#   scripts/bench.sh            the full run (1,000 ops per latency series)
#   FK_BENCH_OPS=100 FK_BENCH_SECONDS=2 scripts/bench.sh    a quick one
#   FK_BENCH_MODEL_ONLY=1 scripts/bench.sh    only the in-process model of the
#                               design (`make bench-model`): no emulator, rewrites
#                               its part of docs/BENCHMARKS.md and nothing else
#
# Steps: release build; criterion benches of the functions' CPU time
# (crates/core/benches); zips of the release binaries; then, with moto and
# redis-server started by scripts/backends.sh, the measurements
# (fk-bench, tests/conformance/src/bin/fk-bench); last, the cost grid from
# the new profile.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
FUNCTIONS=(fk-writer fk-distributor fk-watch fk-heartbeat)
started=$SECONDS
say() { printf '\n[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

export FK_BENCH_DATE
FK_BENCH_DATE=$(date -u +%Y-%m-%dT%H:%MZ)
export FK_BENCH_COMMIT
FK_BENCH_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD 2>/dev/null; then
    FK_BENCH_COMMIT="$FK_BENCH_COMMIT (with uncommitted changes in the tree)"
fi
export FK_BENCH_CPU
FK_BENCH_CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
export FK_BENCH_CORES
FK_BENCH_CORES=$(nproc)
export FK_BENCH_LOAD
FK_BENCH_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average at start: $FK_BENCH_LOAD ($FK_BENCH_CORES cores)"

if [ "${FK_BENCH_MODEL_ONLY:-0}" = 1 ]; then
    # fk-bench alone: its own feature set, so a tree of its own in target/.
    say "the model only: release build of fk-bench"
    $CARGO build --release -p fk-conformance --bin fk-bench
    FK_BENCH_OUT=${FK_BENCH_OUT:-docs/BENCHMARKS.md} target/release/fk-bench --model-only
    say "done in $((SECONDS - started)) s: the model's part of docs/BENCHMARKS.md"
    exit 0
fi

# One invocation for every binary: one feature set, the one `make package`
# ships, so the dependency tree compiles once. (Selecting packages one by one
# or building examples changes the features of shared crates, and cargo then
# compiles the tree again for each set.)
say "1/5 release build of the functions, fk, fk-local and fk-bench (2 cores: 18.6 min from a cold target/, every binary optimised whole)"
$CARGO build --release --workspace --bins

say "2/5 CPU time per operation inside the functions (criterion, in-memory stores)"
$CARGO bench -p fk-core --bench functions

say "3/5 zips of the release binaries (target/lambda-bench)"
rm -rf target/lambda-bench
scripts/package-local.py target/release target/lambda-bench "${FUNCTIONS[@]}"

export FK_BENCH_BUILD_S=$((SECONDS - started))
export FK_BENCH_ZIPS=target/lambda-bench
export FK_BENCH_CRITERION=target/criterion
export FK_BENCH_OUT=docs/BENCHMARKS.md
export FK_BENCH_PROFILE=crates/cli/data/profile.json
say "4/5 measurements on the local stack and ZooKeeper (moto and redis-server started for the run)"
state=.fk/bench-$$
scripts/backends.sh run "$state" -- target/release/fk-bench
rm -rf "$state"

say "5/5 the cost grid from the new profile (docs/COST.md, docs/cost.svg)"
grid=$(target/release/fk cost --grid --svg docs/cost.svg --profile "$FK_BENCH_PROFILE")
{
    sed -n '1,/<!-- grid -->/p' docs/COST.md
    echo
    echo "$grid"
    echo
    sed -n '/<!-- end grid -->/,$p' docs/COST.md
} >docs/COST.md.new
mv docs/COST.md.new docs/COST.md
say "done in $((SECONDS - started)) s: docs/BENCHMARKS.md, docs/COST.md, docs/cost.svg, $FK_BENCH_PROFILE"
