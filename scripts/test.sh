#!/usr/bin/env bash
# The test command (README.md, .ci/run): starts PostgreSQL and Redis when they
# are down, checks formatting, vet and staticcheck, runs every fuzz target for a
# bounded time, then every test with the race detector, with the services
# required (a missing service fails, never skips). Each step prints its time.
#
#   scripts/test.sh                 everything (about 6 to 8 minutes on 2 cores
#                                   with a cold build cache; see README.md)
#   scripts/test.sh -run TestX      extra flags go to the final go test -race
#   FUZZTIME=0 scripts/test.sh      skip the fuzz step
set -euo pipefail
cd "$(dirname "$0")/.."

export COSWORTH_REQUIRE_SERVICES=1
export COSWORTH_PG="${COSWORTH_PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export COSWORTH_REDIS="${COSWORTH_REDIS:-redis://127.0.0.1:6379/0}"

t0=$SECONDS
step_start=$SECONDS
step() {
  if [ -n "${step_name:-}" ]; then
    echo "   ($step_name: $((SECONDS - step_start))s)"
  fi
  step_name="$1"; step_start=$SECONDS
  echo "== $1"
}
trap 'rc=$?; [ -n "${step_name:-}" ] && echo "   ($step_name: $((SECONDS - step_start))s)"; echo "== total $((SECONDS - t0))s, exit $rc"' EXIT

scripts/services.sh up

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
STATICCHECK_VERSION=v0.8.2
sc="$(go env GOPATH)/bin/staticcheck"
if ! "$sc" -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})"; then
  go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
fi
"$sc" ./...

imagetags=$(sed -n 's/^ARG BUILD_TAGS="\(.*\)"$/\1/p' Dockerfile)
step "the Docker image's build (-tags \"$imagetags\": no SQLite, pgx's default type mapping registered by models.Open)"
go vet -tags "$imagetags" ./... &&
  go test -count=1 -tags "$imagetags" -run 'TestNoSQLite|TestPgDefaultTypes|TestExecModes' ./models/ ./internal/pgread/ ./examples/bookstore/

if [ "${FUZZTIME:-8s}" != "0" ]; then
  step "fuzz (each target for a bounded time, on PostgreSQL: FUZZTIME to change it)"
  # Without the embedded SQLite: instrumenting it for fuzzing is most of a
  # cold build's time on a small machine.
  FUZZTAGS=cosworth_nosqlite scripts/fuzz.sh
fi

step "memory per idle stream (without -race, whose shadow memory would count)"
go test -count=1 -run '^TestIdleSubscriberMemory$' ./realtime/

step "allocation budgets (without -race, which changes allocation counts)"
go test -count=1 -run 'Alloc' . ./authentication/ ./bench/ ./internal/jsonbody/ ./models/ ./permissions/ ./serializers/ ./throttling/ ./views/

step "go test -race"
go test -race -count=1 -timeout 20m "$@" ./...
