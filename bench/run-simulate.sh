#!/usr/bin/env bash
# Simulator benchmark (issue 4): eight hours of traffic for 2,000 agents at 50 calls/s through
# the whole real-time core (CallCenter on the simulator switch), wall time and peak memory by
# GNU time. Target < 30 s, < 500 MB. The third run adds ringing and after-call work, which puts
# every call through the ring-timeout and wrap-up deadlines as well.
set -euo pipefail
BUILD="${KEFU_BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}"
run() {
  /usr/bin/time -f "wall %e s, peak RSS %M KiB" "$BUILD/src/kefuctl" simulate --agents 2000 --rate 50 --hours 8 \
    --patience 60 "$@"
}
run --aht 36
run --aht 39.5
run --aht 23 --ring 3 --wrap-up 10
