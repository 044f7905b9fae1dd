#!/usr/bin/env bash
# scripts/services.sh up: start the local PostgreSQL and Redis the tests use
# when they are not answering, and wait until they do. Installs them from
# Debian's packages when they are missing.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

install_missing() {
  local pkgs=()
  command -v pg_ctlcluster >/dev/null 2>&1 || pkgs+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
  if [ ${#pkgs[@]} -gt 0 ]; then
    echo "installing ${pkgs[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
}

start_pg() {
  pg_up && return 0
  local v
  v=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$v" ]; then echo "no PostgreSQL cluster found in /etc/postgresql" >&2; return 1; fi
  echo "starting PostgreSQL $v"
  pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
  for _ in $(seq 1 60); do pg_up && break; sleep 0.5; done
  pg_up || { echo "PostgreSQL did not start" >&2; return 1; }
  # The tests connect as postgres to database "test" with trust auth on loopback.
  su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\"" | grep -q 1 \
    || su postgres -c "createdb test"
}

start_redis() {
  redis_up && return 0
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 40); do redis_up && break; sleep 0.25; done
  redis_up || { echo "Redis did not start" >&2; return 1; }
}

case "${1:-up}" in
  up)
    install_missing
    start_pg
    start_redis
    ;;
  *) echo "usage: scripts/services.sh up" >&2; exit 2 ;;
esac
