#!/usr/bin/env bash
# The widget's figures in headless Chromium, printed as one table with their budgets: a chat of
# 10,000 messages (JS heap ≤ 30 MB once loaded, 60 fps while scrolling through it) and a burst
# of 100 agent messages in one second (no frame over 16.7 ms). How each is measured is written
# at the top of bench/widget.js. Exits non-zero when a figure is over its budget.
#
# Starts a throwaway server (bench/node.sh) on 127.0.0.1:${BENCH_WIDGET_PORT:-18380} with a fresh
# SQLite database, serving dist/widget (build it first: `make widget`), and stops it.
# Environment: CONFAB_SERVER (a server binary instead of building the release one),
# CARGO_TARGET_DIR, BENCH_WIDGET_PORT, CHROMIUM (default /usr/bin/chromium), BENCH_WIDGET_DIR
# (another build of the widget, e.g. one without wasm-opt for BENCH_WIDGET_PROFILE).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
release_server
widget_dir=${BENCH_WIDGET_DIR:-dist/widget}
[ -f "$widget_dir/confab_widget_bg.wasm" ] || { echo "widget.sh: build the widget first (make widget)" >&2; exit 1; }

throwaway_node_dir widget-bench
export CONFAB_BENCH_ORG=0b6e5c1a-9d1f-4c3b-8e2a-7f4d6c5b3a21
addr=127.0.0.1:${BENCH_WIDGET_PORT:-18380}
export CONFAB_BENCH_API=http://$addr
bench/node.sh start "$work/node" "$addr" --organization-id "$CONFAB_BENCH_ORG" --widget-dir "$widget_dir"
node bench/widget.js
