#!/usr/bin/env bash
# The outbox benchmark against a real SMTP server (aiosmtpd's Sink, which takes and drops):
#   bench/notify.sh 10000 /tmp/bn.db                          (SQLite)
#   bench/with-postgres.sh bench/notify.sh 10000 '$PG'        (PostgreSQL)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
case "$2" in postgres*) ;; *) rm -f "$2" "$2-wal" "$2-shm" ;; esac
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$PORT" -c aiosmtpd.handlers.Sink &
SMTPD=$!
trap 'kill $SMTPD 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
"$ROOT/build/bench/kefu_bench_notify" "$1" "$2" "smtp://127.0.0.1:$PORT"
