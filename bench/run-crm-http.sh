#!/usr/bin/env bash
# Screen pop over HTTP (issue 5): kefud on a database of N customers (built by kefu_bench_crm, which
# also prints the in-process figures), wrk asking for random callers' numbers, and in the same run
# wrk on /healthz as the floor of the HTTP stack.
#   bench/run-crm-http.sh [customers] [db] [duration_s] [connections]
#   db: a SQLite path (default: a temporary file) or an empty postgresql:// database
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${KEFU_BUILD:-$ROOT/build}"
N="${1:-10000000}"
W="$(mktemp -d /tmp/kefu-bench-crm-XXXXXX)"
DB="${2:-$W/kefu.db}"
DUR="${3:-10}"
CONN="${4:-8}"
PORT=18310; KPID=""
cleanup() { kill "$KPID" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

# KEFU_BENCH_REUSE=1: the database already holds the N customers of an earlier run (only HTTP).
[ "${KEFU_BENCH_REUSE:-}" = 1 ] || "$BUILD/bench/kefu_bench_crm" "$N" "$DB" --keep
export KEFU_DB="$DB" KEFU_ADMIN_PASSWORD='Bench@2026x' KEFU_ACCESS_LOG=false KEFU_LISTEN="127.0.0.1:$PORT"
"$BUILD/src/kefud" >"$W/kefud.log" 2>&1 &
KPID=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" -d '{"username":"admin","password":"Bench@2026x"}' |
        python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
# A server that has been running has its database in the page cache: read the file once (SQLite),
# and let one untimed run warm kefud itself.
case "$DB" in postgres*) ;; *) cat "$DB" > /dev/null ;; esac
cat > "$W/pop.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", string.format("/api/v1/crm/screen-pop?phone=137%08d", math.random(0, $N - 1)),
                    { ["Authorization"] = "Bearer $TOKEN" })
end
LUA
wrk -t2 -c"$CONN" -d"${DUR}s" -s "$W/pop.lua" "http://127.0.0.1:$PORT" >/dev/null
for c in 2 "$CONN"; do
  echo "== screen pop by phone over HTTP, $N customers, $c connections, ${DUR}s"
  wrk -t2 -c"$c" -d"${DUR}s" --latency -s "$W/pop.lua" "http://127.0.0.1:$PORT" | grep -E "Requests/sec|50%|90%|99%"
  echo "== /healthz (the HTTP stack alone), same load"
  wrk -t2 -c"$c" -d"${DUR}s" --latency "http://127.0.0.1:$PORT/healthz" | grep -E "Requests/sec|50%|90%|99%"
done
case "$DB" in postgres*) ;; *) [ -n "${2:-}" ] || rm -f "$DB" "$DB-wal" "$DB-shm" ;; esac
