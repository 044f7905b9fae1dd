#!/usr/bin/env bash
# scripts/bench-ab.sh: compare the retrieve latency (GET /api/books/{id}/) of
# several builds of the benchmark servers, to see whether one change moves the
# tail. Each server gets its own freshly seeded schema; all are attacked by
# vegeta at the same constant rate (half the first server's peak under vegeta,
# or AB_RATE), in 10 s rounds whose order rotates, so that drift of a shared
# machine hits every server alike. It prints each round's p99/p99.9 in ms and
# the median over the rounds.
#
#   scripts/bench-ab.sh [-rounds N] NAME=BINARY...
#
#   go build -o /tmp/base ./bench/cmd/baseline
#   go build -o /tmp/before ./bench/cmd/cosworth
#   # ...apply the change to try...
#   go build -o /tmp/after ./bench/cmd/cosworth
#   scripts/bench-ab.sh -rounds 8 baseline=/tmp/base before=/tmp/before after=/tmp/after
#
# A BINARY takes the flags of bench/cmd/baseline and bench/cmd/cosworth
# (-addr, -db, -token). Environment: COSWORTH_PG (PostgreSQL URL), AB_RATE
# (req/s), AB_PORT (first loopback port, default 19200), BENCH_PIN=1 (as in
# scripts/bench.sh: the servers on a CPU of their own). Installs wrk and
# vegeta when missing, as scripts/bench.sh does (scripts/benchlib.sh holds
# what the two share). Everything listens on 127.0.0.1 and stops, and the
# schemas are dropped, at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=6
if [ "${1:-}" = -rounds ]; then
  rounds=${2:-}
  shift 2 || true
fi
usage() { echo "usage: scripts/bench-ab.sh [-rounds N] NAME=BINARY NAME=BINARY..." >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]?$ ]] || { echo "-rounds must be 1..99" >&2; usage; }
[ $# -ge 2 ] || usage
. scripts/benchlib.sh
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

names=()
declare -A bin addr pid
for nb in "$@"; do
  n=${nb%%=*} b=${nb#*=}
  [[ "$n" =~ ^[A-Za-z0-9_-]+$ ]] && [ "$n" != "$nb" ] || { echo "bad argument $nb: want NAME=BINARY" >&2; usage; }
  [ -z "${bin[$n]:-}" ] || { echo "name $n given twice" >&2; exit 2; }
  [ -x "$b" ] || { echo "$b is not an executable" >&2; exit 2; }
  names+=("$n"); bin[$n]=$b
done

bench_tools
scripts/services.sh up >/dev/null
bench_init
CGO_ENABLED=0 go build -trimpath -o "$tmp/" ./bench/cmd/benchdb
[ "${BENCH_PIN:-0}" = 0 ] || bench_pin
[ -z "$pinned" ] || echo "pinned (BENCH_PIN): $pinned"

port=${AB_PORT:-19200}
for n in "${names[@]}"; do
  bench_start "$n" "${bin[$n]}" "$port"
  port=$((port + 1))
  retrieve_targets "$n" >"$tmp/$n.targets"
  wrk -t2 -c32 -d3s -s bench/wrk/retrieve.lua "${addr[$n]}" -- $books >/dev/null # warm up
done

first=${names[0]}
rate=${AB_RATE:-}
if [ -z "$rate" ]; then
  peak=$("$vegeta" attack -rate=0 -workers=16 -max-workers=16 -duration=5s -targets="$tmp/$first.targets" |
    "$vegeta" report -type=json | grep -o '"throughput":[0-9.]*' | cut -d: -f2)
  rate=$(awk -v r="$peak" 'BEGIN { printf "%d", r / 2 }')
  echo "$first's peak under vegeta: $peak req/s"
fi
[[ "$rate" =~ ^[1-9][0-9]*$ ]] || { echo "AB_RATE must be a positive integer" >&2; exit 2; }
echo "rate $rate req/s, $rounds rounds of 10 s, load average $(cut -d' ' -f1 /proc/loadavg); p99/p99.9 in ms"

k=${#names[@]}
for r in $(seq 1 "$rounds"); do
  line="round $r:"
  for j in $(seq 0 $((k - 1))); do
    n=${names[$(((j + r) % k))]}
    "$vegeta" attack -rate="$rate/s" -duration=10s -workers=32 -max-workers=64 -timeout=10s -targets="$tmp/$n.targets" >"$tmp/$n.bin"
    read -r _ p99 p999 _ <<<"$(percentiles "$tmp/$n.bin")"
    [ "$(cat "$tmp/bad")" = 0 ] || echo "warning: $n round $r: $(cat "$tmp/bad") answers were not 2xx" >&2
    echo "$p99 $p999" >>"$tmp/$n.pct"
    line="$line $n $p99/$p999"
  done
  echo "$line"
done
for n in "${names[@]}"; do
  printf "%-12s median p99 %6s ms   p99.9 %6s ms\n" "$n" "$(cut -d' ' -f1 "$tmp/$n.pct" | median)" "$(cut -d' ' -f2 "$tmp/$n.pct" | median)"
done
