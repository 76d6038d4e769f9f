#!/bin/sh
# Refits the model in extension/rules/rules.json on tests/corpus/*.jsonl
# (docs/RULES.md, "The decision"): the corpus test fails until the rules
# file holds the model this corpus gives. Run from anywhere after a build.
set -eu
cd "$(dirname "$0")/../.."
cmake --build build --target test_classify_corpus >/dev/null
model=$(mktemp)
trap 'rm -f "$model"' EXIT
build/tests/test_classify_corpus --print-model tests/corpus/*.jsonl > "$model"
python3 - "$model" <<'PY'
import re, sys
path = 'extension/rules/rules.json'
text = open(path, encoding='utf-8').read()
line = '  "model": ' + open(sys.argv[1], encoding='utf-8').read().strip()
text, n = re.subn(r'^  "model": .*$', lambda m: line, text, flags=re.M)
if n != 1:
    sys.exit('rules.json needs one line starting with \'  "model": \' (its last member)')
open(path, 'w', encoding='utf-8').write(text)
PY
cmake --build build >/dev/null
echo "model refitted: $(wc -c < "$model") bytes, $(grep -oE '": ?-?[0-9]' "$model" | wc -l) weights"
