#!/usr/bin/env bash
# Fails when the committed loader/confab.min.js is not what scripts/build-loader.sh makes of
# loader/confab.js today (the server embeds the minified file, so a stale one ships old code).
set -euo pipefail
cd "$(dirname "$0")/.."

fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
scripts/build-loader.sh "$fresh"
if ! cmp -s "$fresh" loader/confab.min.js; then
  echo "loader/confab.min.js is stale: run scripts/build-loader.sh" >&2
  exit 1
fi
