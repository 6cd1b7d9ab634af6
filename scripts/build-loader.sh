#!/usr/bin/env bash
# Minifies the loader: loader/confab.js (the readable source) → loader/confab.min.js (committed;
# the server compiles it in, so rebuild the server after running this). terser is pinned in
# e2e/package.json, so every machine makes the same file: scripts/check-loader.sh relies on it.
# Usage: scripts/build-loader.sh [output file]
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-loader/confab.min.js}
terser=e2e/node_modules/.bin/terser
[ -x "$terser" ] || { echo "terser is missing: run scripts/install-tools.sh" >&2; exit 1; }
# ES2020 output: the loader needs a browser with shadow DOM, ?. and dvh anyway.
"$terser" loader/confab.js --ecma 2020 --compress passes=3 --mangle --comments false --output "$out"
