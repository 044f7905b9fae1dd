#!/usr/bin/env bash
# The test command (README.md, .ci/run): starts PostgreSQL and Redis when they
# are down, checks formatting and vet, then runs every test with the race
# detector, with the services required (a missing service fails, never skips),
# after a bounded run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

export COSWORTH_REQUIRE_SERVICES=1
export COSWORTH_PG="${COSWORTH_PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export COSWORTH_REDIS="${COSWORTH_REDIS:-redis://127.0.0.1:6379/0}"

scripts/services.sh up

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
STATICCHECK_VERSION=v0.8.2
sc="$(go env GOPATH)/bin/staticcheck"
if ! "$sc" -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})"; then
  go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
fi
"$sc" ./...

echo "== fuzz (each target for a bounded time; FUZZTIME to change it)"
scripts/fuzz.sh

echo "== without SQLite (-tags cosworth_nosqlite, the Docker image's build)"
go vet -tags cosworth_nosqlite ./... && go test -count=1 -tags cosworth_nosqlite -run 'TestNoSQLite' ./models/ ./examples/bookstore/

echo "== go test -race"
go test -race -count=1 -timeout 20m "$@" ./...
