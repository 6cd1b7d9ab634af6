#!/usr/bin/env bash
# The SDK's browser adapter in headless Chromium against a real server (crates/sdk/tests/web.rs):
# starts a throwaway server (fresh SQLite database) that allows the test page's origin, runs the
# wasm-bindgen tests with the page on that origin, and stops the server, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

API_PORT=18490
PAGE_PORT=18491
ORGANIZATION=5d0c8a3e-1f2b-4c6d-9e8f-0a1b2c3d4e5f

# `make test-wasm` passes the server the native tests built (same features: no rebuild).
if [ -z "${CONFAB_SERVER:-}" ]; then
  cargo build -p confab-server
  CONFAB_SERVER=target/debug/confab-server
fi
data=$(mktemp -d)
log="$data/server.log"
"$CONFAB_SERVER" --listen "127.0.0.1:$API_PORT" --data-dir "$data" \
  --organization-id "$ORGANIZATION" --allowed-origin "http://127.0.0.1:$PAGE_PORT" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT

for _ in $(seq 100); do
  grep -q "confab-server ready" "$log" && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done

# The test page is a customer's site: no cross-origin isolation headers, which ordinary pages lack.
CONFAB_TEST_SERVER="http://127.0.0.1:$API_PORT" CONFAB_TEST_ORGANIZATION="$ORGANIZATION" \
WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:$PAGE_PORT" WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION=1 \
  cargo test -p confab-sdk --features web --target wasm32-unknown-unknown --test web "$@" \
  || { echo "== server log"; cat "$log"; exit 1; }
