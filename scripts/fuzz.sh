#!/usr/bin/env bash
# Runs every FuzzXxx target in the module for a bounded time each (default 10s).
# Go's fuzzing coordinator sometimes fails a clean run with "context deadline
# exceeded" while stopping its workers at the end of -fuzztime (no input
# failed, nothing is written to testdata/fuzz): such a run is tried once more.
# A real finding (a "Failing input written to" line) fails at once.
set -euo pipefail
t="${1:-10s}"
log="$(mktemp)"; trap 'rm -f "$log"' EXIT
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u); do
  for f in $(grep -h '^func Fuzz' "$dir"/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/'); do
    for try in 1 2; do
      echo "fuzz $dir $f ($t)"
      if go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$dir" 2>&1 | tee "$log"; then break; fi
      if [ "$try" = 1 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written to' "$log"; then
        echo "fuzz $dir $f: the coordinator timed out stopping its workers (no failing input); once more"
        continue
      fi
      exit 1
    done
  done
done
