#!/usr/bin/env bash
# API tests against a real kefud: on SQLite, then on a throw-away PostgreSQL 15 cluster
# (initdb + pg_ctl from Debian's postgresql, run as a non-root user). An argument runs one:
#   tests/run-api.sh sqlite | postgresql      (no argument: both, the second even if the first fails)
# Further arguments go to pytest in place of the whole directory: tests/run-api.sh sqlite test_crm.py
set -euo pipefail
WHICH="${1:-both}"
PYTEST_ARGS=("${@:2}")
[ ${#PYTEST_ARGS[@]} -eq 0 ] && PYTEST_ARGS=(.)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY=/usr/bin/python3   # Debian's python, where python3-pytest and python3-openpyxl live
cd "$ROOT/tests/api"

sqlite_rc=0
if [ "$WHICH" = sqlite ] || [ "$WHICH" = both ]; then
  echo "== API tests on SQLite"
  "$PY" -m pytest -q -p no:cacheprovider "${PYTEST_ARGS[@]}" || sqlite_rc=$?
  [ "$WHICH" = sqlite ] && exit $sqlite_rc
fi

PGBIN=/usr/lib/postgresql/15/bin
PGDIR="$(mktemp -d /tmp/kefu-pg-XXXXXX)"
PGPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PGUSER_OS=postgres
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then chown "$PGUSER_OS" "$PGDIR"; else PGUSER_OS="$(id -un)"; fi
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGDIR"; }
trap cleanup EXIT
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U kefu --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/pg.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$PGDIR -c fsync=off" start >/dev/null
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U kefu kefu_test
# The real-time core's tests run their own kefud (short timers, a SIGKILL) on their own databases.
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U kefu kefu_test_cti
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U kefu kefu_test_crash
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U kefu kefu_test_sip
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U kefu kefu_test_cluster

echo "== API tests on PostgreSQL 15 (port $PGPORT)"
KEFU_TEST_DB="postgresql://kefu@127.0.0.1:$PGPORT/kefu_test" \
  KEFU_TEST_DB_CTI="postgresql://kefu@127.0.0.1:$PGPORT/kefu_test_cti" \
  KEFU_TEST_DB_CRASH="postgresql://kefu@127.0.0.1:$PGPORT/kefu_test_crash" \
  KEFU_TEST_DB_SIP="postgresql://kefu@127.0.0.1:$PGPORT/kefu_test_sip" \
  KEFU_TEST_DB_CLUSTER="postgresql://kefu@127.0.0.1:$PGPORT/kefu_test_cluster" "$PY" -m pytest -q -p no:cacheprovider \
  "${PYTEST_ARGS[@]}"
exit $sqlite_rc
