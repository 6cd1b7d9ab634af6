#!/usr/bin/env bash
# Click → chat usable with the CPU 4× slower (CDP), for a first visit and a returning visitor
# with 200 messages: how it is measured is written at the top of bench/open.js. Prints the
# figures with their budget (300 ms); exits non-zero when one is over.
#
# Starts a throwaway release server (bench/node.sh) on 127.0.0.1:${BENCH_OPEN_PORT:-18390} with
# the demo site on the next port, serving dist/widget (build it first: `make widget`).
# Environment: CONFAB_SERVER (another server binary), CARGO_TARGET_DIR, BENCH_OPEN_PORT, CHROMIUM.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
release_server
[ -f dist/widget/confab_widget_bg.wasm ] || { echo "open.sh: build the widget first (make widget)" >&2; exit 1; }

throwaway_node_dir open-bench
port=${BENCH_OPEN_PORT:-18390}
export CONFAB_BENCH_API=http://127.0.0.1:$port
export CONFAB_BENCH_SITE=http://127.0.0.1:$((port + 1))
bench/node.sh start "$work/node" "127.0.0.1:$port" --site-listen "127.0.0.1:$((port + 1))" --widget-dir dist/widget
node bench/open.js
