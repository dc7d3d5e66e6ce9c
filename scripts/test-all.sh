#!/usr/bin/env bash
# Runs every part of the test suite — unit, API on SQLite, API on PostgreSQL, browser, fuzz
# smoke — even when an earlier part fails, so one failure never hides another; then lists each
# part's outcome and exits non-zero if any failed. `make test` calls it after the build.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-build}"
cd "$ROOT"

names=()
results=()
run_part() {
  local name="$1"
  shift
  local started=$SECONDS
  echo ""
  echo "==== $name"
  "$@"
  local rc=$?
  names+=("$name")
  if [ $rc -eq 0 ]; then
    results+=("ok ($((SECONDS - started)) s)")
  else
    results+=("FAILED, exit $rc ($((SECONDS - started)) s)")
  fi
}

run_part "unit tests (ctest)" bash -c "cd '$BUILD' && ctest --output-on-failure -j2"
run_part "API tests on SQLite" bash tests/run-api.sh sqlite
run_part "API tests on PostgreSQL" bash tests/run-api.sh postgresql
run_part "browser tests" bash tests/e2e/run.sh
run_part "fuzz smoke" bash fuzz/run-smoke.sh

echo ""
echo "==== make test: every part"
failed=0
for i in "${!names[@]}"; do
  printf '  %-26s %s\n' "${names[$i]}" "${results[$i]}"
  case "${results[$i]}" in FAILED*) failed=$((failed + 1)) ;; esac
done
if [ $failed -ne 0 ]; then
  echo "make test: $failed part(s) failed (see each part's output above)"
  exit 1
fi
echo "make test: every part passed"
