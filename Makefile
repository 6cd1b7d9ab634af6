# Confab: `make demo` runs it, `make test` proves it, `make bench` measures it.
# Every target installs what it needs first (scripts/install-tools.sh; idempotent).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/e2e/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export TRUNK_SKIP_VERSION_CHECK := true
export CHROMEDRIVER := /usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT := 60

# Built together so that cargo resolves features once: `test-e2e`'s server build then reuses
# what `test-native` compiled instead of rebuilding the dependency tree.
NATIVE := -p confab-protocol -p confab-sdk -p confab-server -p confab-widget -p confab-bench

.PHONY: demo demo-cluster test test-native test-wasm test-e2e test-e2e-cluster test-sizes bench bench-load tools widget dev clean

## demo: build everything and run the server with the demo website (see the printed URLs)
demo: tools widget
	cargo build --release -p confab-server
	scripts/demo.sh

## demo-cluster: PostgreSQL, two nodes and nginx in front (see scripts/demo-cluster.sh)
demo-cluster: tools widget
	cargo build --release -p confab-server
	scripts/demo-cluster.sh

## test: every test layer; non-zero exit on any failure
test: tools test-native test-wasm test-sizes test-e2e test-e2e-cluster

## test-native: protocol, SDK core, server over real sockets (SQLite, and PostgreSQL clusters
## the tests start themselves), widget state
test-native:
	cargo test $(NATIVE)

## test-wasm: widget components and hooks, and the SDK's browser adapter against a real server,
## in headless Chromium (wasm-bindgen-test)
test-wasm:
	cargo test -p confab-widget --target wasm32-unknown-unknown --test browser
	cargo build --tests $(NATIVE)
	CONFAB_SERVER=target/debug/confab-server scripts/test-sdk-web.sh

## test-sizes: the loader within its budget, the widget's first open within its budget or at
## least not over its ceiling (bench/sizes.sh --gate)
test-sizes: widget
	scripts/check-loader.sh
	bench/sizes.sh --gate

## test-e2e: the demo website + widget + server in real Chromium (screenshot in e2e/output/)
test-e2e: widget
	cargo build --tests $(NATIVE)
	cd e2e && playwright test

## test-e2e-cluster: the widget through nginx and two nodes on PostgreSQL, in Chromium
test-e2e-cluster: widget
	cargo build --tests $(NATIVE)
	cd e2e && playwright test --config cluster.config.js

## bench: size budgets, click → chat usable (CPU 4× slower), the widget in Chromium (10,000
## messages, a burst) and load figures, printed as tables with their budgets; every set runs,
## and the exit is non-zero when any figure is over its budget
bench: tools widget
	status=0; bench/sizes.sh || status=1; bench/open.sh || status=1; bench/widget.sh || status=1; \
	  bench/load.sh || status=1; exit $$status

## bench-load: load figures only: a throwaway server, every confab-load scenario, one table
bench-load:
	bench/load.sh

tools:
	scripts/install-tools.sh

## widget: the release widget in dist/widget (no trunk needed)
widget:
	scripts/build-widget.sh

## dev: `trunk serve` on http://127.0.0.1:8090 (run `make demo` or a server on :8080 first)
dev:
	scripts/install-tools.sh --trunk
	trunk serve

clean:
	cargo clean
	rm -rf dist e2e/output
