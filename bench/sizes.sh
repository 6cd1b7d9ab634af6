#!/usr/bin/env bash
# Size budgets (design.md §6), printed as figures: the loader a website downloads on every page
# (the minified loader/confab.min.js the server sends, ≤ 2048 B gzip: over it, this script fails),
# and what the first open of the widget downloads (wasm + js + css + document + boot script).
set -euo pipefail
cd "$(dirname "$0")/.."

gz() { gzip -9 -c "$1" | wc -c; }
row() { printf '  %-28s %9s B raw %9s B gzip\n' "$1" "$(wc -c < "$2")" "$(gz "$2")"; }
verdict() { if [ "$1" -le "$2" ]; then echo "within budget"; else echo "OVER BUDGET"; fi; }

loader=loader/confab.min.js
loader_budget=2048
widget=dist/widget

echo "Loader (every page view):"
row confab.min.js "$loader"
loader_gz=$(gz "$loader")
printf '  loader gzip: %d B (budget %d B: %s)\n\n' "$loader_gz" "$loader_budget" "$(verdict "$loader_gz" "$loader_budget")"

[ -f "$widget/confab_widget_bg.wasm" ] || { echo "build the widget first (make widget)"; exit 1; }
echo "Widget first open:"
total=0
for f in index.html boot.js confab_widget.js confab_widget_bg.wasm widget.css; do
  row "$f" "$widget/$f"
  total=$((total + $(gz "$widget/$f")))
done
kib=$(awk -v b="$total" 'BEGIN { printf "%.1f", b / 1024 }')
printf '  first-open payload gzip: %d B = %s KiB (budget 90 KiB: %s)\n' "$total" "$kib" "$(verdict "$total" 92160)"

# The loader's budget is a hard limit: every page of every site pays it.
if [ "$loader_gz" -gt "$loader_budget" ]; then
  echo "loader/confab.min.js is over its budget: $loader_gz B gzip > $loader_budget B" >&2
  exit 1
fi
