#!/usr/bin/env bash
# scripts/size.sh: build the bookstore binary exactly as the Dockerfile does
# (static, CGO_ENABLED=0, the Dockerfile's BUILD_TAGS, -trimpath -ldflags
# "-s -w"), print its size and the size of the scratch image that follows
# from it (binary + CA bundle + passwd/group), and, from the same run, the
# default build (with the embedded SQLite, what `go build` gives) and the
# hand-written chi+pgx server bench/cmd/baseline (the floor). Target: binary
# <= 12 MB; budget 15 MB binary (exit 1 when the image's binary is over),
# 25 MB image.
#   scripts/size.sh            # the builds and the image estimate
#   scripts/size.sh -symbols   # also the largest symbols and the code bytes
#                              # per package of the image's binary
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The one source of the image's build tags.
tags=$(sed -n 's/^ARG BUILD_TAGS="\(.*\)"$/\1/p' Dockerfile)
[ -n "$tags" ] || { echo "size.sh: no ARG BUILD_TAGS=\"...\" line in Dockerfile" >&2; exit 1; }

build() { # build OUT TAGS PKG
  CGO_ENABLED=0 go build -tags "$2" -trimpath -ldflags "-s -w" -o "$out/$1" "$3"
  stat -c %s "$out/$1"
}
mb() { awk -v b="$1" 'BEGIN { printf "%.2f MB", b / 1048576 }'; }
vs() { awk -v b="$1" 'BEGIN { t = 12 * 1048576; u = 15 * 1048576
  printf "%s target 12 MB by %.2f MB, %s budget 15 MB by %.2f MB", (b <= t ? "under" : "over"), (b > t ? b - t : t - b) / 1048576,
    (b <= u ? "under" : "over"), (b > u ? b - u : u - b) / 1048576 }'; }

img=$(build bookstore "$tags" ./examples/bookstore)
def=$(build bookstore.default "" ./examples/bookstore)
base=$(build baseline "$tags" ./bench/cmd/baseline)
basedef=$(build baseline.default "" ./bench/cmd/baseline)

ca=/etc/ssl/certs/ca-certificates.crt
cabytes=0
[ -f "$ca" ] && cabytes=$(stat -c %s "$ca")
etc=96 # /etc/passwd and /etc/group, one line each
image=$((img + cabytes + etc))

echo "image binary:   $img bytes ($(mb "$img")), $(vs "$img")"
echo "                [CGO_ENABLED=0 go build -tags \"$tags\" -trimpath -ldflags \"-s -w\" ./examples/bookstore]"
echo "image:          $image bytes ($(mb "$image"))  [binary + CA bundle $cabytes bytes + passwd/group]"
echo "default binary: $def bytes ($(mb "$def")), $(vs "$def")"
echo "                [CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\" ./examples/bookstore: with SQLite]"
echo "floor:          $base bytes ($(mb "$base")) bench/cmd/baseline (hand-written chi+pgx, same tags);" \
  "$basedef bytes ($(mb "$basedef")) without tags"
echo "cosworth over the floor: $((img - base)) bytes ($(mb $((img - base)))) in the image build"

# What the image must not link: a dependency creeping back is a failure.
unwanted=$(go list -deps -tags "$tags" ./examples/bookstore | grep -E '^(modernc\.org/|github\.com/go-playground/validator|net/http/pprof$|expvar$)' || true)
if [ -n "$unwanted" ]; then
  echo "size.sh: the image build links packages it must not:" $unwanted >&2
  exit 1
fi
if [ "$img" -gt $((15 * 1048576)) ]; then
  echo "size.sh: the image's binary is over the 15 MB budget" >&2
  exit 1
fi

if [ "${1:-}" = "-symbols" ]; then
  CGO_ENABLED=0 go build -tags "$tags" -trimpath -o "$out/bookstore.full" ./examples/bookstore
  go tool nm -size "$out/bookstore.full" > "$out/nm.txt"
  echo "largest symbols (bytes, unstripped build):"
  sort -k2 -rn "$out/nm.txt" | awk '$3 != "B" && $3 != "b"' | head -25
  echo "code and data bytes by package (top 25):"
  awk '$3 ~ /^[TtRrDd]$/ { n = $4; i = match(n, /[^\/]*$/); p = substr(n, 1, i - 1); t = substr(n, i); sub(/\..*/, "", t); s[p t] += $2 }
       END { for (k in s) print s[k], k }' "$out/nm.txt" | sort -rn | head -25
fi
