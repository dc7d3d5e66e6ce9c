#!/usr/bin/env bash
# Browser tests of the web console: playwright-core (from web/node_modules) drives Debian's
# Chromium against a real kefud. Screenshots land in tests/e2e/screenshots/ (git-ignored).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$ROOT/scripts/build-web.sh"
echo "== browser tests (Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'))"
cd "$ROOT"
node --test --test-concurrency=1 tests/e2e/
