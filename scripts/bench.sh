#!/usr/bin/env bash
# scripts/bench.sh: load-test the Cosworth books API against the hand-written
# baseline (bench/baseline: chi + pgxpool, no framework) over loopback, each
# server on its own freshly seeded PostgreSQL schema, and print every Cosworth
# figure as a ratio to the baseline's from the same run.
#
#   scripts/bench.sh            # throughput (wrk) of list, retrieve, create, update;
#                               # latency percentiles (vegeta) at a constant 50% of
#                               # the baseline's max rate for list and retrieve (~8 min in all)
#   scripts/bench.sh -soak      # also: a 10-minute constant-rate soak of both servers
#                               # (mixed list/retrieve/update), p99 and RSS per minute
#   scripts/bench.sh -quick     # shorter runs, for trying the script out
#
# Environment: COSWORTH_PG (PostgreSQL URL), BENCH_DURATION (seconds of one wrk
# round, default 5), BENCH_ROUNDS (wrk and vegeta rounds per server and
# endpoint, default 5: one round's p99.9 moves by 2x on a shared machine, and
# the median of five moves less than that of three), BENCH_LATENCY_DURATION
# (seconds of one vegeta round, default 10), BENCH_CONNS (wrk connections,
# default 32), BENCH_PORT (first of two loopback ports, default 18081),
# BENCH_SOAK_MINUTES (default 10), BENCH_COSWORTH_DSN_EXTRA (appended to the
# Cosworth server's PostgreSQL URL only, to try a pgx setting without a code
# change, e.g. '&default_query_exec_mode=exec'), BENCH_PIN=1 (the servers on
# the last CPU, wrk, vegeta and the local PostgreSQL on the others, put back at
# the end: the servers then do not share a CPU with the load or the database;
# needs root). Needs wrk and vegeta: installs wrk
# with apt-get when root, and vegeta with go install into GOBIN (never into
# go.mod) when missing. Everything listens on 127.0.0.1 and stops at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

soak=0
dur=${BENCH_DURATION:-5}
rounds=${BENCH_ROUNDS:-5}
latdur=${BENCH_LATENCY_DURATION:-10}
for a in "$@"; do
  case "$a" in
    -soak) soak=1 ;;
    -quick) dur=2; rounds=1; latdur=2 ;;
    *) echo "usage: scripts/bench.sh [-soak] [-quick]" >&2; exit 2 ;;
  esac
done
conns=${BENCH_CONNS:-32}
[ "$rounds" -ge 1 ] && [ "$rounds" -le 9 ] || { echo "BENCH_ROUNDS must be 1..9" >&2; exit 2; }
port=${BENCH_PORT:-18081}
soakmin=${BENCH_SOAK_MINUTES:-10}

# --- tools -------------------------------------------------------------------
. scripts/benchlib.sh
bench_tools
scripts/services.sh up >/dev/null

# --- build and start ---------------------------------------------------------
bench_init
CGO_ENABLED=0 go build -trimpath -o "$tmp/" ./bench/cmd/baseline ./bench/cmd/cosworth ./bench/cmd/benchdb
[ "${BENCH_PIN:-0}" = 0 ] || bench_pin
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

declare -A addr pid
bench_start baseline "$tmp/baseline" "$port"
bench_start cosworth "$tmp/cosworth" "$((port + 1))" "${BENCH_COSWORTH_DSN_EXTRA:-}"

# The same seeded row must come back as the same bytes from both.
for id in 1 7 10 17; do
  if ! cmp -s <(curl -s "${addr[baseline]}/api/books/$id/") <(curl -s "${addr[cosworth]}/api/books/$id/"); then
    echo "warning: GET /api/books/$id/ differs between the servers:" >&2
    curl -s "${addr[baseline]}/api/books/$id/" >&2; echo >&2
    curl -s "${addr[cosworth]}/api/books/$id/" >&2; echo >&2
  fi
done

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

echo
echo "machine: $(nproc --all) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u '+%Y-%m-%d %H:%M UTC'), $(go version | cut -d' ' -f3)"
echo "rows: $books books, 50 authors; pool 16 connections each; wrk -t2 -c$conns, $rounds x ${dur}s; vegeta $rounds x ${latdur}s"
load() { cut -d' ' -f1 /proc/loadavg; }
[ -z "${BENCH_COSWORTH_DSN_EXTRA:-}" ] || echo "cosworth DSN extra: ${BENCH_COSWORTH_DSN_EXTRA}"
[ -z "$pinned" ] || echo "pinned (BENCH_PIN): $pinned"
echo "load average at start: $(load) (on $(nproc --all) CPUs; other work on the machine skews every figure)"

# --- throughput --------------------------------------------------------------
# Each endpoint: $rounds rounds of wrk per server, alternating which goes
# first; the median round counts, so one disturbed round (this machine may be
# shared) does not decide the ratio.
declare -A rps
wrkonce() { # name endpoint -> req/s on stdout
  local name=$1 ep=$2 base=${addr[$1]} out
  case "$ep" in
    list) out=$(wrk -t2 -c"$conns" -d"${dur}s" "$base/api/books/?limit=10&offset=100") ;;
    retrieve) out=$(wrk -t2 -c"$conns" -d"${dur}s" -s bench/wrk/retrieve.lua "$base" -- $books) ;;
    create) out=$(wrk -t2 -c"$conns" -d"${dur}s" -s bench/wrk/create.lua "$base" -- "$token" "$round") ;; # ISBNs unique per round
    update) out=$(wrk -t2 -c"$conns" -d"${dur}s" -s bench/wrk/update.lua "$base" -- "$token" $books) ;;
  esac
  if grep -q "Non-2xx" <<<"$out"; then
    echo "warning: $name $ep: $(grep 'Non-2xx' <<<"$out" | sed 's/^ *//')" >&2
  fi
  awk '/^Requests\/sec/ {print $2}' <<<"$out"
}
# Warm both up (connections, statement caches, heap sizes).
for n in baseline cosworth; do
  wrk -t2 -c"$conns" -d2s "${addr[$n]}/api/books/?limit=10&offset=100" >/dev/null
  wrk -t2 -c"$conns" -d2s -s bench/wrk/retrieve.lua "${addr[$n]}" -- $books >/dev/null
done
echo
throughput() { # endpoint...
  local ep b c round
  for ep in "$@"; do
    b="" c=""
    for round in $(seq 1 "$rounds"); do
      if [ $((round % 2)) = 1 ]; then
        b="$b $(wrkonce baseline "$ep")"; c="$c $(wrkonce cosworth "$ep")"
      else
        c="$c $(wrkonce cosworth "$ep")"; b="$b $(wrkonce baseline "$ep")"
      fi
    done
    rps[baseline.$ep]=$(median <<<"$b")
    rps[cosworth.$ep]=$(median <<<"$c")
    printf "%-10s %-22s %12.0f %12.0f %8s   (rounds: baseline%s; cosworth%s)\n" "$ep" "req/s (wrk, max)" "${rps[baseline.$ep]}" "${rps[cosworth.$ep]}" \
      "$(ratio "${rps[cosworth.$ep]}" "${rps[baseline.$ep]}")" "$(printf ' %.0f' $b)" "$(printf ' %.0f' $c)"
  done
}
printf "%-10s %-22s %12s %12s %8s\n" endpoint metric baseline cosworth ratio
# Reads first: the write phases grow the tables (by different amounts, since the
# servers differ in speed) and leave dead rows, which would skew list's count(*)
# and every later figure.
throughput list retrieve

# --- latency at a constant rate ----------------------------------------------
# On a small machine the load generator shares the CPUs with the server and
# PostgreSQL, and vegeta (a Go HTTP client) costs far more per request than
# wrk, so "max rate" here is the baseline's max under vegeta itself: a
# closed loop of $vworkers workers. Each server is then attacked at half of
# it, open loop, in $rounds rounds alternating which goes first, as the
# throughput rounds are, so drift of the machine hits both alike. Each
# figure is the median over the rounds of that round's percentile: a
# disturbance of the machine during one round (it may be shared) lands on
# one server only and would decide a tail pooled over all rounds. The
# p99.9 of every round is printed too.
vworkers=16
# Bodies are read in full (vegeta's default): a -max-body smaller than a response
# leaves it unread and the connection is not reused, which measures TCP setup.
vflags=(-workers=32 -max-workers=64 -timeout=10s)
targets() { # name endpoint -> vegeta targets on stdout
  local base=${addr[$1]}
  case "$2" in
    list) echo "GET $base/api/books/?limit=10&offset=100" ;;
    retrieve) retrieve_targets "$1" ;;
  esac
}
declare -A lat vmax
half=$latdur
for ep in list retrieve; do
  for n in baseline cosworth; do targets "$n" "$ep" >"$tmp/$n.$ep.targets"; done
  vmax[$ep]=$("$vegeta" attack -rate=0 -workers=$vworkers -max-workers=$vworkers -duration=5s \
    -targets="$tmp/baseline.$ep.targets" | "$vegeta" report -type=json | grep -o '"throughput":[0-9.]*' | cut -d: -f2)
  rate=$(awk -v r="${vmax[$ep]}" 'BEGIN { printf "%d", r / 2 }')
  for round in $(seq 1 "$rounds"); do
    order="baseline cosworth"; [ $((round % 2)) = 1 ] || order="cosworth baseline"
    for n in $order; do
      "$vegeta" attack -rate="$rate/s" -duration="${half}s" "${vflags[@]}" -targets="$tmp/$n.$ep.targets" >"$tmp/$n.$ep.$round.bin"
    done
  done
  declare -A per=()
  for n in baseline cosworth; do
    : >"$tmp/$n.$ep.pct"
    for round in $(seq 1 "$rounds"); do
      percentiles "$tmp/$n.$ep.$round.bin" >>"$tmp/$n.$ep.pct"
      bad=$(cat "$tmp/bad")
      [ "$bad" = 0 ] || echo "warning: $n $ep round $round: $bad responses were not 2xx" >&2
    done
    # Median of each column over the rounds.
    lat[$n.$ep]=$(for c in 1 2 3 4; do cut -d' ' -f$c "$tmp/$n.$ep.pct" | median; done | tr '\n' ' ')
    per[$n]=$(cut -d' ' -f3 "$tmp/$n.$ep.pct" | tr '\n' ' ' | sed 's/ $//')
  done
  read -r b50 b99 b999 bmax <<<"${lat[baseline.$ep]}"
  read -r c50 c99 c999 cmax <<<"${lat[cosworth.$ep]}"
  printf "%-10s %-22s %12.0f %12s %8s\n" "$ep" "req/s (vegeta, max)" "${vmax[$ep]}" "" ""
  printf "%-10s %-22s %12s %12s %8s\n" "$ep" "p50 ms @ $rate/s" "$b50" "$c50" "$(ratio "$c50" "$b50")"
  printf "%-10s %-22s %12s %12s %8s\n" "$ep" "p99 ms @ $rate/s" "$b99" "$c99" "$(ratio "$c99" "$b99")"
  printf "%-10s %-22s %12s %12s %8s   (rounds: baseline %s; cosworth %s)\n" "$ep" "p99.9 ms @ $rate/s" "$b999" "$c999" "$(ratio "$c999" "$b999")" "${per[baseline]}" "${per[cosworth]}"
  printf "%-10s %-22s %12s %12s %8s\n" "$ep" "max ms @ $rate/s" "$bmax" "$cmax" "$(ratio "$cmax" "$bmax")"
done
throughput create update
# Put both schemas back to the seeded rows (and vacuum) so the soak compares
# equal tables.
for d in "${dsns[@]}"; do "$tmp/benchdb" reset -db "$d" -books $books; done
brss=$(hwm_kb "${pid[baseline]}"); crss=$(hwm_kb "${pid[cosworth]}")
printf "%-10s %-22s %12s %12s %8s\n" process "peak RSS MiB" "$((brss / 1024))" "$((crss / 1024))" "$(ratio "$crss" "$brss")"
echo "load average at end: $(load)"

[ "$soak" = 1 ] || exit 0

# --- soak ----------------------------------------------------------------------
# Both servers at once, each at a quarter of the baseline's max retrieve rate
# under vegeta (so together they load the machine as one server at half its
# max), for
# BENCH_SOAK_MINUTES one-minute rounds of mixed traffic: 45% list pages, 45%
# retrieves, 10% updates of the bench user's books.
rate=$(awk -v r="${vmax[retrieve]}" 'BEGIN { printf "%d", r / 4 }')
mixed() { # name -> JSON targets
  local base=${addr[$1]} i id body auth
  auth="Token $token"
  for i in $(seq 1 200); do
    case $((i % 20)) in
      0 | 10) id=$((2 * (RANDOM % (books / 2)) + 1))
        body=$(printf '{"title":"Soak %d","isbn":"978%010d","author":%d,"price_cents":%d,"published_on":null}' "$i" "$id" $((1 + i % 50)) "$i" | base64 -w0)
        printf '{"method":"PUT","url":"%s/api/books/%d/","body":"%s","header":{"Content-Type":["application/json"],"Authorization":["%s"]}}\n' "$base" "$id" "$body" "$auth" ;;
      *) if [ $((i % 2)) = 0 ]; then
           printf '{"method":"GET","url":"%s/api/books/?limit=10&offset=%d"}\n' "$base" $(((RANDOM % 99) * 10))
         else
           printf '{"method":"GET","url":"%s/api/books/%d/"}\n' "$base" $((RANDOM % books + 1))
         fi ;;
    esac
  done
}
mixed baseline >"$tmp/soak.baseline.targets"
mixed cosworth >"$tmp/soak.cosworth.targets"
echo
echo "soak: ${soakmin} x 1 min, both servers at once, $rate req/s each (mixed 45% list, 45% retrieve, 10% update)"
printf "%-6s %14s %14s %8s %14s %14s\n" minute "baseline p99" "cosworth p99" ratio "baseline RSS" "cosworth RSS"
for m in $(seq 1 "$soakmin"); do
  vpids=()
  for n in baseline cosworth; do
    "$vegeta" attack -format=json -rate="$rate/s" -duration=60s "${vflags[@]}" \
      -targets="$tmp/soak.$n.targets" >"$tmp/soak.$n.bin" &
    vpids+=("$!")
  done
  wait "${vpids[@]}"
  read -r _ b99 _ _ <<<"$(percentiles "$tmp/soak.baseline.bin")"
  bad=$(cat "$tmp/bad"); [ "$bad" = 0 ] || echo "warning: soak minute $m baseline: $bad responses were not 2xx" >&2
  read -r _ c99 _ _ <<<"$(percentiles "$tmp/soak.cosworth.bin")"
  bad=$(cat "$tmp/bad"); [ "$bad" = 0 ] || echo "warning: soak minute $m cosworth: $bad responses were not 2xx" >&2
  printf "%-6s %11s ms %11s ms %8s %10s MiB %10s MiB\n" "$m" "$b99" "$c99" "$(ratio "$c99" "$b99")" \
    "$(($(rss_kb "${pid[baseline]}") / 1024))" "$(($(rss_kb "${pid[cosworth]}") / 1024))"
done
