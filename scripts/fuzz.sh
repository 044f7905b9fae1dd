#!/usr/bin/env bash
# scripts/fuzz.sh: run every fuzz target for a short, bounded time.
#
#   scripts/fuzz.sh            each target for FUZZTIME (default 8s)
#   FUZZTIME=5m scripts/fuzz.sh   a longer local session
#   FUZZTAGS=cosworth_nosqlite scripts/fuzz.sh
#                              without the embedded SQLite: the targets run on
#                              PostgreSQL (COSWORTH_PG) instead, and the build
#                              skips instrumenting SQLite, which alone takes
#                              minutes on a small machine (scripts/test.sh)
#
# Packages run in parallel (one `go test -fuzz` per target at a time within a
# package, as go test requires); targets need no external service (SQLite
# only). A failing input is written under the package's testdata/fuzz/ by go
# test: commit it with the fix, and it becomes a regression seed that plain
# `go test` runs. Exits non-zero when any target fails.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-8s}"
FUZZTAGS="${FUZZTAGS:-}"
# package:target ...
targets=(
  "./serializers:FuzzDecode ./serializers:FuzzDecodeDepth ./serializers:FuzzDecodeSyntax"
  "./pagination:FuzzPaginationQuery ./pagination:FuzzCursor"
  "./filters:FuzzFilters"
  "./internal/pgread:FuzzAnalyze"
  "./authentication:FuzzAuthorization ./authentication:FuzzJWTParse ./authentication:FuzzVerifyBody"
)

logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT

fuzz_once() {
  go test -tags "$FUZZTAGS" -run '^$' -fuzz "^${2}\$" -fuzztime "$FUZZTIME" "$1" >"$logdir/$2.log" 2>&1
}

run_group() {
  local group="$1" status=0 pkg target
  for pt in $group; do
    pkg="${pt%%:*}"; target="${pt##*:}"
    if fuzz_once "$pkg" "$target" ||
      # Go's fuzzing engine can end a run with a bare "context deadline
      # exceeded" and no failing input when a worker answers late at the
      # end of -fuzztime on a loaded machine: that run
      # found nothing, so it is tried once more; a real failure writes
      # its input under testdata/fuzz/ and is never retried.
      { grep -q 'context deadline exceeded' "$logdir/$target.log" &&
        ! grep -q 'Failing input written' "$logdir/$target.log" &&
        fuzz_once "$pkg" "$target"; }; then
      echo "ok   $pkg $target ($(grep -o 'execs: [0-9]*' "$logdir/$target.log" | tail -1))"
    else
      echo "FAIL $pkg $target"; sed 's/^/    /' "$logdir/$target.log" | tail -30
      status=1
    fi
  done
  return $status
}

pids=()
for group in "${targets[@]}"; do
  run_group "$group" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit $status
