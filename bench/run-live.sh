#!/usr/bin/env bash
# Wallboard load (issue 4): GET /api/v1/cti/live with 16 connections (wrk, 8 s) on the demo data,
# for two kefud builds one after the other on the same machine: `bench/run-live.sh NEW [OLD]`.
# NEW defaults to build/src/kefud; OLD is the build to compare with (e.g. a clone at an earlier
# commit). Three rounds each.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NEW="${1:-$ROOT/build/src/kefud}"
OLD="${2:-}"
TMP="$(mktemp -d /tmp/kefu-live-XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
start() {  # binary port
  mkdir -p "$TMP/$2"
  KEFU_DB="$TMP/$2/k.db" KEFU_LISTEN="127.0.0.1:$2" KEFU_ADMIN_PASSWORD=Bench@2026x \
    KEFU_WEB_ROOT="$TMP/web" KEFU_ACCESS_LOG=false "$1" --demo > "$TMP/$2/log" 2>&1 &
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return; sleep 0.1; done
  echo "kefud on $2 did not start" >&2; exit 1
}
measure() {  # port label
  local t
  t=$(curl -sf -XPOST "http://127.0.0.1:$1/api/v1/auth/login" -d '{"username":"admin","password":"Bench@2026x"}' |
      python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
  wrk -t2 -c16 -d8s --latency -H "Authorization: Bearer $t" "http://127.0.0.1:$1/api/v1/cti/live" |
    awk -v l="$2" '/Requests\/sec/ {r=$2} / 99%/ {p=$2} END {printf "%-10s %10s req/s  p99 %s\n", l, r, p}'
}
start "$NEW" 18192
[ -n "$OLD" ] && start "$OLD" 18191
for _ in 1 2 3; do
  [ -n "$OLD" ] && measure 18191 "old"
  measure 18192 "new"
done
