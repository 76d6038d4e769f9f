#!/usr/bin/env bash
# Runs one libFuzzer target for a short while over its seed corpus.
# usage: run-fuzz.sh FUZZER_BINARY SEED_DIR SECONDS
# The fuzzers are built by the companion build (cmake -DBT_FUZZ=ON with clang,
# which .ci/setup makes in build-fuzz/). Longer by hand: pass more seconds.
set -euo pipefail
bin=$1 seeds=$2 secs=$3
if [ ! -x "$bin" ]; then
  echo "missing $bin: build it with: CC=clang cmake -S . -B build-fuzz -DBT_FUZZ=ON && cmake --build build-fuzz" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 "$work" "$seeds" 2>&1 | tail -n 25
