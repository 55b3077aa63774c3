#!/usr/bin/env bash
# Flamegraphs of the release writer and distributor under load: runs
# `fk-bench cpu STORE` (250 sets, creates and deletes from one session; see
# docs/BENCHMARKS.md, "CPU per write in the functions, SDK included") with
# moto and redis started for it, attaches `perf record` (cpu-clock, DWARF
# call graphs) to the two function processes once they are warm, and folds
# each profile into an SVG with inferno.
#
#   scripts/profile-functions.sh OUT_PREFIX [STORE]
#
# writes OUT_PREFIX-writer.svg and OUT_PREFIX-distributor.svg (and the
# folded stacks beside them). Needs perf and inferno (`cargo install
# inferno`) and a release build (`cargo build --release --workspace --bins`).
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:?usage: scripts/profile-functions.sh OUT_PREFIX [STORE]}
store=${2:-s3}
state=.fk/profile-$$
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

scripts/backends.sh run "$state" -- target/release/fk-bench cpu "$store" >"$work/bench.out" 2>&1 &
bench=$!

# The functions (children of this run's fk-bench, not of another stack on
# the machine) start with the stack; the warm-up takes about 2 s more.
pid_of() {
    local b
    b=$(pgrep -P "$bench" -x fk-bench || true)
    [[ -n $b ]] && pgrep -P "$b" -x "$1" || true
}
for _ in $(seq 300); do
    writer=$(pid_of fk-writer)
    distributor=$(pid_of fk-distributor)
    [[ -n $writer && -n $distributor ]] && break
    sleep 0.1
done
[[ -n $writer && -n $distributor ]] || { echo "functions not found" >&2; cat "$work/bench.out" >&2; exit 1; }
sleep 3
for fn in writer distributor; do
    pid=${!fn}
    perf record -q -e cpu-clock -F 2000 --call-graph dwarf,16384 -p "$pid" -o "$work/$fn.data" &
    echo $! >"$work/$fn.perf"
done
wait "$bench"
for fn in writer distributor; do
    kill -INT "$(cat "$work/$fn.perf")" 2>/dev/null || true
done
sleep 2
cat "$work/bench.out"
rm -rf "$state"
for fn in writer distributor; do
    perf script -i "$work/$fn.data" 2>/dev/null | inferno-collapse-perf >"$out-$fn.folded"
    inferno-flamegraph --title "fk-$fn, $store store: 250 set + 250 create + 250 delete" \
        <"$out-$fn.folded" >"$out-$fn.svg"
    echo "$out-$fn.svg: $(awk '{s+=$NF} END {print s}' "$out-$fn.folded") samples"
done
