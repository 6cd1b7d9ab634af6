#!/usr/bin/env bash
# Size budgets (design.md §6), printed as figures beside their budgets:
# - the loader every page view of every site downloads (loader/confab.min.js, as the server
#   compiles it in): ≤ 2048 B gzip;
# - what the first open of the widget downloads (document + boot script + js + wasm + css, as
#   scripts/build-widget.sh precompressed them for the server): ≤ 90 KiB gzip.
#
# `bench/sizes.sh` (make bench) exits non-zero when a figure is over its budget.
# `bench/sizes.sh --gate` (make test) exits non-zero when a figure is over its budget or, for a
# figure not yet within its budget, over its ceiling: the size today, which a change may not
# grow. Lower a ceiling whenever the figure shrinks; it goes when the budget holds.
set -euo pipefail
cd "$(dirname "$0")/.."

gate=0
[ "${1:-}" = --gate ] && gate=1

LOADER_BUDGET=2048
FIRST_OPEN_BUDGET=92160      # 90 KiB
FIRST_OPEN_CEILING=467000    # today: 466,667 B (480.5 KiB before issue 9)

# -n: no file name in the header, as a server sends it (Content-Encoding: gzip).
gz() { gzip -9 -n -c "$1" | wc -c; }
row() { printf '  %-28s %9s B raw %9s B gzip\n' "$1" "$(wc -c < "$2")" "$(gz "$2")"; }
status=0
# verdict NAME FIGURE BUDGET [CEILING]
verdict() {
  local name=$1 figure=$2 budget=$3 ceiling=${4:-}
  if [ "$figure" -le "$budget" ]; then
    printf '  %s: %d B (budget %d B): within budget\n' "$name" "$figure" "$budget"
    return
  fi
  printf '  %s: %d B (budget %d B): OVER BUDGET by %d B' "$name" "$figure" "$budget" $((figure - budget))
  if [ -n "$ceiling" ]; then printf ' (ceiling until it holds: %d B)' "$ceiling"; fi
  printf '\n'
  if [ "$gate" = 0 ] || [ -z "$ceiling" ] || [ "$figure" -gt "$ceiling" ]; then status=1; fi
}

loader=loader/confab.min.js
echo "Loader (every page view):"
row confab.min.js "$loader"
verdict "loader gzip" "$(gz "$loader")" "$LOADER_BUDGET"
echo

widget=dist/widget
[ -f "$widget/confab_widget_bg.wasm" ] || { echo "build the widget first (make widget)"; exit 1; }
echo "Widget first open:"
total=0
for f in index.html boot.js confab_widget.js confab_widget_bg.wasm widget.css; do
  row "$f" "$widget/$f"
  total=$((total + $(gz "$widget/$f")))
done
verdict "first-open payload gzip" "$total" "$FIRST_OPEN_BUDGET" "$FIRST_OPEN_CEILING"

if [ "$status" != 0 ]; then echo "a size is over its budget (see above)" >&2; fi
exit "$status"
