#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a short smoke run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
B="$ROOT/build-fuzz"
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$B" -G Ninja -DKEFU_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$B" > "$B/ninja.log" || { tail -40 "$B/ninja.log"; exit 1; }
for t in fuzz_http_request fuzz_entity_json fuzz_ivr_flow fuzz_sdp_rtp fuzz_sip fuzz_crm fuzz_smpp; do
  mkdir -p "$B/corpus-$t"
  cp "$ROOT/fuzz/seeds/$t/"* "$B/corpus-$t/" 2>/dev/null || true
  "$B/fuzz/$t" -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -print_final_stats=0 "$B/corpus-$t" 2>&1 | tail -2
  echo "fuzz smoke: $t ok"
done
