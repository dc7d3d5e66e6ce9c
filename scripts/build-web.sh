#!/usr/bin/env bash
# Builds the web console into web/dist, which kefud serves at "/". Installs the npm packages
# pinned by web/package-lock.json first, and skips the build when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "build-web: node and npm are missing; run scripts/install-deps.sh" >&2
  exit 1
fi
# Vite 7 needs Node.js 20.19 or newer.
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "build-web: Node.js $(node --version) is too old; the console needs 20.19 or newer" >&2
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: the lock file lists only this platform's optional native packages (rollup,
  # esbuild), which `npm ci` rejects as out of sync. `npm install --no-save` installs the locked
  # versions and leaves the lock file untouched.
  echo "build-web: npm install (locked versions)"
  npm install --no-save --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi

if [ -f dist/index.html ] && [ -z "$(find src index.html vite.config.ts tsconfig.json package-lock.json -newer dist/index.html -print -quit)" ]; then
  exit 0
fi
echo "build-web: building the console"
npm run --silent build -- --logLevel warn
# Pre-compressed copies that kefud serves to browsers accepting gzip.
find dist/assets -type f \( -name '*.js' -o -name '*.css' \) -size +1k -exec gzip -9 -k -f {} +
