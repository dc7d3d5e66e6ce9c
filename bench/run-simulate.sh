#!/usr/bin/env bash
# Simulator benchmark (issue 4): eight hours of traffic for 2,000 agents at 50 calls/s through
# the real routing core, wall time and peak memory by GNU time. Target < 30 s, < 500 MB.
set -euo pipefail
BUILD="${KEFU_BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}"
for aht in 36 39.5; do
  /usr/bin/time -f "wall %e s, peak RSS %M KiB" "$BUILD/src/kefuctl" simulate --agents 2000 --rate 50 --aht "$aht" \
    --hours 8 --patience 60
done
