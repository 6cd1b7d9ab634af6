#!/usr/bin/env bash
# Installs what building and testing Confab needs, from package registries only, skipping what is
# already present (idempotent). Versions are pinned:
#   wasm32 target (rustup) · wasm-bindgen-cli = the wasm-bindgen in Cargo.lock (crates.io)
#   chromium + chromium-driver (Debian) · @playwright/test, binaryen (wasm-opt) and terser (the loader's
#   minifier, scripts/build-loader.sh) from e2e/package-lock.json (npm)
#   postgresql (Debian: tests start throwaway clusters with scripts/pg-cluster.sh) · nginx (Debian: the
#   load balancer of `make demo-cluster` and its end-to-end test)
#   with --trunk: trunk 0.21.14 (crates.io; 0.22 needs a newer rustc), only for `trunk serve`.
# Nothing here downloads a browser or a binary at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
step() { printf '== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  step "apt: chromium chromium-driver"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver
fi

# PostgreSQL's server binaries (initdb, pg_ctl, postgres) and nginx. Their services are not used:
# tests and scripts start their own instances, in directories of their own.
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  step "apt: ${need[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# The CLI must equal the library in Cargo.lock, or wasm-bindgen refuses the module.
wb_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wb_version"; then
  step "cargo install wasm-bindgen-cli $wb_version (about 5 minutes on 2 cores)"
  # --locked fails here: the CLI's lockfile pins a crate version the registry does not serve.
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

if [ ! -f e2e/node_modules/.package-lock.json ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
  step "npm ci (e2e: playwright, binaryen, terser; no browser download)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix e2e --no-audit --no-fund
fi

if [ "${1:-}" = --trunk ] && ! trunk --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"; then
  step "cargo install trunk $TRUNK_VERSION (about 10 minutes on 2 cores)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi
