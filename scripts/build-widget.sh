#!/usr/bin/env bash
# Builds the widget into dist/widget without trunk (trunk is only needed for `trunk serve`):
# cargo (wasm-release profile) → wasm-bindgen (--target web) → wasm-opt -Oz (npm binaryen 132)
# → the production document with a strict-CSP-friendly external boot script, each file also
# precompressed (.gz, .br).
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist/widget
profile=${WIDGET_PROFILE:-wasm-release}
cargo build -p confab-widget --bin confab-widget --target wasm32-unknown-unknown --profile "$profile"
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
wasm-bindgen --target web --no-typescript --out-dir "$out.tmp" --out-name confab_widget \
  "target/wasm32-unknown-unknown/$profile/confab-widget.wasm"
if [ "$profile" = wasm-release ]; then
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$out.tmp/confab_widget_bg.wasm" -o "$out.tmp/confab_widget_bg.wasm"
fi
cp style/widget.css "$out.tmp/widget.css"
# No inline script: the widget document's CSP allows only its own files.
cat > "$out.tmp/boot.js" <<'JS'
import init from './confab_widget.js';
init({ module_or_path: new URL('confab_widget_bg.wasm', import.meta.url) });
JS
# The production document is index.html with trunk's directives replaced by what they build.
sed -e '/data-trunk/d' -e '/<!-- trunk/d' \
    -e 's#</head>#  <link rel="stylesheet" href="widget.css" />\
    <link rel="modulepreload" href="confab_widget.js" />\
    <link rel="preload" href="confab_widget_bg.wasm" as="fetch" type="application/wasm" crossorigin />\
    <script type="module" src="boot.js"></script>\
  </head>#' index.html > "$out.tmp/index.html"
# Precompressed beside each file, served by the server as the browser accepts (gzip -9 and
# brotli 11 through Node's zlib: no other tool needed). The size budget counts the gzip files.
for f in "$out.tmp"/*; do
  gzip -9 -n -k "$f"
  node -e 'const fs = require("fs"), zlib = require("zlib"); const [src] = process.argv.slice(1);
    fs.writeFileSync(src + ".br", zlib.brotliCompressSync(fs.readFileSync(src), {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: fs.statSync(src).size } }));' "$f"
done
rm -rf "$out" && mv "$out.tmp" "$out"
ls -l "$out"
