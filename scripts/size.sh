#!/usr/bin/env bash
# scripts/size.sh: build the bookstore binary exactly as the Dockerfile does
# (static, CGO_ENABLED=0, -trimpath -ldflags "-s -w") and print its size, and
# the size of the scratch image that follows from it (binary + CA bundle +
# passwd/group). Target: binary <= 12 MB; budget 15 MB binary, 25 MB image.
#   scripts/size.sh            # size of the binary and the image estimate
#   scripts/size.sh -symbols   # also the 25 largest symbols (unstripped build)
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/bookstore" ./examples/bookstore
bin=$(stat -c %s "$out/bookstore")

ca=/etc/ssl/certs/ca-certificates.crt
cabytes=0
[ -f "$ca" ] && cabytes=$(stat -c %s "$ca")
etc=128 # /etc/passwd and /etc/group, one line each

mb() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
echo "binary: $bin bytes ($(mb "$bin") MB)  [CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\" ./examples/bookstore]"
echo "image:  $((bin + cabytes + etc)) bytes ($(mb $((bin + cabytes + etc))) MB)  [binary + CA bundle $cabytes bytes + passwd/group]"

if [ "$bin" -gt $((12 * 1048576)) ]; then
  echo "warning: the binary is over the 12 MB target" >&2
fi

if [ "${1:-}" = "-symbols" ]; then
  CGO_ENABLED=0 go build -trimpath -o "$out/bookstore.full" ./examples/bookstore
  echo "largest symbols (bytes, unstripped build):"
  go tool nm -size -sort size "$out/bookstore.full" | head -25
  echo "bytes by package (top 20):"
  go tool nm -size "$out/bookstore.full" | awk '{ n = $4; i = match(n, /[^\/]*$/); p = substr(n, 1, i - 1); t = substr(n, i); sub(/\..*/, "", t); s[p t] += $2 } END { for (k in s) print s[k], k }' | sort -rn | head -20
fi
