#!/usr/bin/env bash
# HTTP benchmark: kefud on SQLite with 1,000,000 staff records vs nginx serving a static
# JSON file of the same size, both measured by wrk on loopback in the same run.
#   bench/run-http.sh [duration_s] [connections]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${KEFU_BUILD:-$ROOT/build}"
DUR="${1:-10}"
CONN="${2:-64}"
ROWS="${BENCH_ROWS:-1000000}"
W="$(mktemp -d /tmp/kefu-bench-XXXXXX)"
PORT=18300; NGPORT=18301; KPID=""
cleanup() { kill "$KPID" 2>/dev/null || true; nginx -c "$W/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

export KEFU_DB="$W/kefu.db" KEFU_ADMIN_PASSWORD='Bench@2026x' KEFU_ACCESS_LOG=false KEFU_LISTEN="127.0.0.1:$PORT"
"$BUILD/src/kefuctl" demo >/dev/null
# One million staff-like rows spread over the demo organisation units.
sqlite3 "$W/kefu.db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
CREATE TEMP TABLE orgs AS SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS k, id FROM org_unit;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO staff (version, archived, created_at, created_by, updated_at, updated_by, username, name, org_id,
                   level, points, phone, status, extension)
SELECT 1, 0, 0, 0, 0, 0, 'bench' || i, '压测员工' || i, (SELECT id FROM orgs WHERE k = i % (SELECT COUNT(*) FROM orgs)),
       'L' || (1 + i % 5), i % 1000, '1380000' || (i % 10000), 'active', '' || (i % 100000)
FROM n;
ANALYZE;
SQL
"$BUILD/src/kefud" >"$W/kefud.log" 2>&1 &
KPID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
RSS_IDLE=$(ps -o rss= -p "$KPID")
TOKEN=$(curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" -d '{"username":"admin","password":"Bench@2026x"}' |
        python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
ID=$(sqlite3 "$W/kefu.db" "SELECT id FROM staff WHERE username = 'bench500000'")
ORG=$(sqlite3 "$W/kefu.db" "SELECT id FROM org_unit WHERE code = 'SH-T1'")
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/staff/$ID" > "$W/record.json"

mkdir -p "$W/www"
chmod 755 "$W" "$W/www"  # nginx workers run as www-data
cp "$W/record.json" "$W/www/record.json"
chmod 644 "$W/www/record.json"
cat > "$W/nginx.conf" <<NG
worker_processes 2; pid $W/nginx.pid; error_log $W/nginx.err;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$NGPORT; root $W/www;
  location / { default_type application/json; } } }
NG
nginx -c "$W/nginx.conf"

run() {  # name url [header]
  local out
  out=$(wrk -t2 -c"$CONN" -d"${DUR}s" --latency ${3:+-H "$3"} "$2")
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  local non2xx
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-34s %10s req/s   p99 %8s   non-2xx %s\n' "$1" "$rps" "$p99" "${non2xx:-0}"
  echo "$rps"  > "$W/last.rps"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); rows: $ROWS; wrk -t2 -c$CONN -d${DUR}s"
echo "kefud idle RSS: $((RSS_IDLE / 1024)) MiB"
run "nginx static JSON ($(stat -c %s "$W/record.json") B)" "http://127.0.0.1:$NGPORT/record.json"; NG=$(cat "$W/last.rps")
run "kefud GET /api/v1/staff/{id}" "http://127.0.0.1:$PORT/api/v1/staff/$ID" "Authorization: Bearer $TOKEN"; GET=$(cat "$W/last.rps")
run "kefud list org_id filter, 20 rows" "http://127.0.0.1:$PORT/api/v1/staff?org_id=$ORG&page_size=20&page=50" "Authorization: Bearer $TOKEN"
python3 -c "print(f'record GET / nginx = {float(\"$GET\")/float(\"$NG\"):.2f}')"

# A burst of sign-ins (argon2id, slow by design) must not starve other requests.
cat > "$W/login.lua" <<LUA
wrk.method = "POST"; wrk.body = '{"username":"admin","password":"Bench@2026x"}'
wrk.headers["Content-Type"] = "application/json"
LUA
wrk -t1 -c16 -d"$((DUR + 2))s" --latency -s "$W/login.lua" "http://127.0.0.1:$PORT/api/v1/auth/login" > "$W/login.out" &
LPID=$!
sleep 1
run "kefud GET during login burst" "http://127.0.0.1:$PORT/api/v1/staff/$ID" "Authorization: Bearer $TOKEN"
wait "$LPID"
printf '%-34s %10s req/s   p50 %8s\n' "login (argon2id, 16 conns)" "$(awk '/Requests\/sec/ {print $2}' "$W/login.out")" \
  "$(awk '$1 == "50%" {print $2}' "$W/login.out")"
echo "kefud RSS after load: $(( $(ps -o rss= -p "$KPID") / 1024 )) MiB"
