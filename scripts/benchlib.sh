# scripts/benchlib.sh: the pieces scripts/bench.sh and scripts/bench-ab.sh
# share. Source it from the repository root and call bench_init, which makes
# the scratch directory $tmp (build the benchdb binary into it) and stops and
# removes everything on exit. Before calling bench_start, set token and
# declare "declare -A addr pid".

books=1000

# bench_init: $tmp, the lists of what to stop on exit (pids: servers, started
# by bench_start; vpids: load generators running in the background; dsns: the
# seeded schemas, dropped), and the traps that do it, undoing bench_pin too.
bench_init() {
  tmp=$(mktemp -d)
  pids=() vpids=() dsns=()
  pinned=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  local p d
  for p in "${vpids[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${dsns[@]}"; do "$tmp/benchdb" drop -db "$d" >/dev/null 2>&1 || true; done
  bench_unpin
  rm -rf "$tmp"
}
export COSWORTH_PG="${COSWORTH_PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

# bench_tools: wrk and vegeta, installed when missing (wrk with apt-get when
# root; vegeta with go install into GOBIN, never into go.mod). Sets vegeta to
# its path.
bench_tools() {
  if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing wrk"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
      echo "wrk is missing: apt-get install wrk" >&2; exit 1
    fi
  fi
  local gobin
  gobin="$(go env GOBIN)"; [ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
  vegeta="$gobin/vegeta"
  if ! [ -x "$vegeta" ]; then
    if command -v vegeta >/dev/null 2>&1; then vegeta=$(command -v vegeta); else
      echo "installing vegeta into $gobin"
      (cd / && GOFLAGS= go install github.com/tsenart/vegeta/v12@latest)
    fi
  fi
}

# bench_start NAME BINARY PORT [DSN_SUFFIX]: seeds a fresh schema and starts
# BINARY on 127.0.0.1:PORT over it (under bench_pin's CPU, when it ran),
# logging to $tmp/NAME.log; waits until it answers, or prints the log and
# exits.
bench_start() {
  local name=$1 binary=$2 p=$3 extra=${4:-} dsn
  dsn=$("$tmp/benchdb" create -db "$COSWORTH_PG" -books $books)
  dsns+=("$dsn")
  "${server_pin[@]}" "$binary" -addr "127.0.0.1:$p" -db "$dsn$extra" -token "$token" 2>"$tmp/$name.log" &
  pid[$name]=$!
  pids+=("$!")
  addr[$name]="http://127.0.0.1:$p"
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "${addr[$name]}/api/books/" && return 0
    sleep 0.1
  done
  echo "$name did not start:" >&2; cat "$tmp/$name.log" >&2; exit 1
}

# bench_pin: gives the servers the machine's last CPU and everything else
# (this shell and what it starts: wrk, vegeta; and every PostgreSQL process)
# the others, so that the servers do not share a CPU with the load or the
# database. bench_unpin puts PostgreSQL back as it was. Needs 2 CPUs or more,
# and the right to set PostgreSQL's CPU affinity (root, or its user), on the
# same machine.
server_pin=()
pg_mask=""
bench_pin() {
  local n last p others pg_pinned
  n=$(nproc --all)
  [ "$n" -ge 2 ] || { echo "BENCH_PIN needs 2 CPUs or more; this machine has $n" >&2; exit 2; }
  last=$((n - 1))
  others=0
  if [ "$last" -gt 1 ]; then others="0-$((last - 1))"; fi
  mapfile -t pg_pinned < <(pgrep -x postgres || true)
  [ "${#pg_pinned[@]}" -gt 0 ] || { echo "BENCH_PIN: no local postgres process to pin" >&2; exit 2; }
  pg_mask=$(taskset -p "${pg_pinned[0]}" | awk '{print $NF}')
  for p in "${pg_pinned[@]}"; do
    taskset -a -p -c "$others" "$p" >/dev/null 2>&1 ||
      { bench_unpin; echo "BENCH_PIN: cannot set the CPU affinity of postgres process $p (run as root)" >&2; exit 2; }
  done
  taskset -p -c "$others" $$ >/dev/null
  server_pin=(taskset -c "$last")
  pinned="servers on CPU $last; wrk, vegeta and PostgreSQL on CPU(s) $others"
}
bench_unpin() {
  local p
  [ -n "$pg_mask" ] || return 0
  # New backends forked meanwhile inherited the pin: put back every one.
  for p in $(pgrep -x postgres || true); do taskset -a -p "$pg_mask" "$p" >/dev/null 2>&1 || true; done
  pg_mask=""
}

# median: the median of the numbers on stdin (one per line or per word).
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# percentiles FILE...: "p50 p99 p99.9 max" in ms over vegeta result files;
# the number of non-2xx results goes to $tmp/bad.
percentiles() {
  "$vegeta" encode --to csv "$@" | awk -F, '{ if ($2 < 200 || $2 > 299) bad++; print $3 } END { print bad + 0 > "/dev/stderr" }' 2>"$tmp/bad" |
    sort -n | awk '{ a[NR] = $1 } END {
      n = NR; if (n == 0) { print "0 0 0 0"; exit }
      split("0.50 0.99 0.999", ps, " ")
      for (i = 1; i <= 3; i++) { k = int(ps[i] * n + 0.999999); if (k < 1) k = 1; if (k > n) k = n; printf "%.3f ", a[k] / 1e6 }
      printf "%.3f\n", a[n] / 1e6 }'
}

# retrieve_targets NAME: vegeta targets GETting every seeded book of server
# NAME once, in a fixed shuffled order.
retrieve_targets() {
  local i
  for i in $(seq 1 $books | shuf --random-source=<(yes)); do echo "GET ${addr[$1]}/api/books/$i/"; done
}
