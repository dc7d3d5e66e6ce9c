#!/usr/bin/env bash
# Runs a benchmark against a throw-away PostgreSQL 15 cluster (fsync off, as in the API tests):
#   bench/with-postgres.sh build/bench/kefu_bench_tickets 100000 '$PG'
# '$PG' in the arguments becomes the URL of an empty database on it.
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
DIR="$(mktemp -d /tmp/kefu-bench-pg-XXXXXX)"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
OSUSER=postgres
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$OSUSER" -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then chown "$OSUSER" "$DIR"; else OSUSER="$(id -un)"; fi
trap 'as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
as_pg "$PGBIN/initdb" -D "$DIR/data" -U kefu --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/pg.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=off" start >/dev/null
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U kefu kefu_bench
URL="postgresql://kefu@127.0.0.1:$PORT/kefu_bench"
"${@//\$PG/$URL}"
