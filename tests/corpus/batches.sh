#!/bin/sh
# Holds each new batch (tests/corpus/freshN.jsonl, N >= FIRST, 20 unless given) out of the fit in
# turn, lets the model fitted on everything else decide it (`--unseen`), and sums what it found:
# the README's "each held out of the fit in turn" row (docs/RULES.md, "The corpus"). Two batches run
# at a time. Run from anywhere after a build.
set -eu
cd "$(dirname "$0")/../.."
first=${1:-20}
cmake --build build --target test_classify_corpus >/dev/null
ls tests/corpus/ | sed -n 's/^fresh\([0-9][0-9]*\)\.jsonl$/\1/p' | sort -n | awk -v f="$first" '$1 >= f' |
  xargs -P 2 -I {} sh -c '
    others=$(ls tests/corpus/*.jsonl | grep -v "/fresh{}\.jsonl$")
    line=$(build/tests/test_classify_corpus --unseen tests/corpus/fresh{}.jsonl $others | head -n 1)
    case $line in UNSEEN*) echo "{} $line" ;; *) echo "{} FAILED" ;; esac' |
  sort -n |
  awk '$2 == "FAILED" { printf "fresh%s: the corpus test gave no figures\n", $1; failed++; next }
  {
    # "N UNSEEN (A notices, B counter-examples; ...): recall R   false positives F   kind right K"
    n = substr($3, 2) + 0; b = $5 + 0; r = $(NF - 6); f = $(NF - 3)
    found = int(r * n + 0.5); taken = int(f * b + 0.5)
    printf "fresh%s: %d of %d notices found, %d of %d look-alikes taken\n", $1, found, n, taken, b
    N += n; B += b; F += found; T += taken; k++
  }
  END {
    if (failed || k == 0) { print failed ? "not summed: a batch gave no figures" : "no batches"; exit 1 }
    printf "%d batches, each held out of the fit in turn: recall %.3f (%d of %d), false positives %.3f (%d of %d)\n",
      k, F / N, F, N, T / B, T, B
  }'
