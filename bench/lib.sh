# Shared by the bench scripts (sourced): the release server they run, and a throwaway directory
# for its data that goes away on exit (with the node in it stopped).

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

# Builds the release server unless CONFAB_SERVER names another binary, and exports its path.
# (Built on its own: together with other packages, cargo would unify their features and
# rebuild the server's dependencies differently from `cargo build -p confab-server`.)
release_server() {
  if [ -z "${CONFAB_SERVER:-}" ]; then
    cargo build --release -p confab-server
    export CONFAB_SERVER=$CARGO_TARGET_DIR/release/confab-server
  fi
}

# Makes the directory $work (named after $1) and, on exit, stops the node in $work/node and
# removes it; exports a fresh random agent token for that node.
throwaway_node_dir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/confab-$1.XXXXXX")
  trap 'bench/node.sh stop "$work/node" || true; rm -rf "$work"' EXIT
  CONFAB_AGENT_TOKEN=bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  export CONFAB_AGENT_TOKEN
}
