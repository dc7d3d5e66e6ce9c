#!/usr/bin/env bash
# The SMS channel benchmark against the test SMSC (node-smpp's server, tests/api/smsc.mjs):
#   bench/sms.sh 100000 /tmp/bs.db 10                        (SQLite, window 10)
#   bench/with-postgres.sh bench/sms.sh 100000 '$PG' 100     (PostgreSQL, window 100)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
CONTROL=$(free_port)
case "$2" in postgres*) ;; *) rm -f "$2" "$2-wal" "$2-shm" ;; esac
node "$ROOT/tests/api/smsc.mjs" --port "$PORT" --control "$CONTROL" --system-id kefu --password 'Sms@2026' >/dev/null &
SMSC=$!
trap 'kill $SMSC 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$CONTROL") 2>/dev/null && break; sleep 0.1; done
"$ROOT/build/bench/kefu_bench_sms" "$1" "$2" "$PORT" "${3:-10}"
