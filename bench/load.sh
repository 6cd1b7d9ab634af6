#!/usr/bin/env bash
# Load figures, printed as one table: starts throwaway servers, runs every confab-load
# scenario against each target (`confab-load all`), stops them, and prints the targets' figures
# side by side (`confab-load compare`).
#
#   bench/load.sh                      the default run (a few minutes on two cores)
#   bench/load.sh --idle-sockets 2000  any confab-load flag is passed on to every target
#
# A target is a function `target_NAME DIR [FLAGS…]` that starts its nodes (bench/node.sh),
# runs `confab-load all --label NAME --tsv DIR/NAME.tsv` with its --node URLs and a
# --start-cmd that starts them again (restart and kill9 stop and kill them through the pids on
# their ports), and stops them. BENCH_TARGETS picks the targets, in column order (default:
# "sqlite postgres2": one node on SQLite, and two nodes on a throwaway PostgreSQL cluster from
# scripts/pg-cluster.sh, customers on both, agents on the second).
#
# Environment: CONFAB_SERVER (a server binary to use instead of building one), CARGO_TARGET_DIR,
# BENCH_TARGETS, BENCH_SQLITE_PORT (default 18080), BENCH_OUT (a directory that keeps each
# target's TSV and the printed table; the rest is thrown away). Only loopback addresses are used.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
release_server # (then the bench tool, on its own: see release_server)
cargo build --release -p confab-bench
LOAD=$CARGO_TARGET_DIR/release/confab-load
# Every socket is a file descriptor, in the tool and in the server.
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d "${TMPDIR:-/tmp}/confab-load.XXXXXX")
# PostgreSQL runs as its own user (scripts/pg-cluster.sh), which must reach its directory here.
chmod 755 "$work"
# Stops whatever node is still running (a target that failed half-way), then removes the data.
cleanup() {
  for pidfile in "$work"/*/pid "$work"/*/*/pid; do
    [ -f "$pidfile" ] && bench/node.sh stop "$(dirname "$pidfile")" || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

CONFAB_AGENT_TOKEN=bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export CONFAB_AGENT_TOKEN

# All the load comes from this one machine, so from one client address: the server's
# per-address limits on token grants and new customers (meant for a loop on one visitor's
# machine) would refuse it. Every node of every target starts with them out of the way
# (hidden flags, "for load tests"); the limiter itself still runs.
LOAD_TEST_FLAGS="--token-grants-per-second 1000000 --token-grant-burst 1000000 --new-customers-per-second 1000000 --new-customer-burst 1000000 --max-unauthorized-connections-per-address 1000000"

# One node on SQLite (the default store, a file in the node's data directory).
target_sqlite() {
  local dir=$1
  shift
  local addr=127.0.0.1:${BENCH_SQLITE_PORT:-18080}
  local start="bench/node.sh start $dir/node $addr $LOAD_TEST_FLAGS"
  $start
  local status=0
  "$LOAD" all --label sqlite --tsv "$dir/sqlite.tsv" --node "http://$addr" --start-cmd "$start" "$@" >"$dir/table.txt" || status=$?
  bench/node.sh stop "$dir/node"
  return "$status"
}

# Two nodes on one PostgreSQL database (a throwaway cluster with PostgreSQL's durable
# defaults): customers alternate between the nodes, agents call the last one, so agent pushes
# cross nodes through LISTEN/NOTIFY. restart and kill9 stop and start both nodes.
target_postgres2() {
  local dir=$1
  shift
  local pg_port=${BENCH_PG_PORT:-18090}
  local a=127.0.0.1:${BENCH_PG_NODE_A_PORT:-18091} b=127.0.0.1:${BENCH_PG_NODE_B_PORT:-18092}
  local base
  base=$(scripts/pg-cluster.sh start "$dir/pg" "$pg_port") || return 1
  local url=${base%/postgres}/confab
  psql -q "$base" -c "CREATE DATABASE confab" || { scripts/pg-cluster.sh stop "$dir/pg"; return 1; }
  # A first, alone: it migrates the database.
  local start="bench/node.sh start $dir/node-a $a $LOAD_TEST_FLAGS --database $url"
  start="$start && bench/node.sh start $dir/node-b $b $LOAD_TEST_FLAGS --database $url"
  local status=0
  sh -c "$start" || status=$?
  if [ "$status" = 0 ]; then
    "$LOAD" all --label postgres2 --tsv "$dir/postgres2.tsv" --node "http://$a" --node "http://$b" \
      --agent-node "http://$b" --start-cmd "$start" "$@" >"$dir/table.txt" || status=$?
  fi
  bench/node.sh stop "$dir/node-a" || true
  bench/node.sh stop "$dir/node-b" || true
  scripts/pg-cluster.sh stop "$dir/pg"
  return "$status"
}

columns=()
failed=0
for name in ${BENCH_TARGETS:-sqlite postgres2}; do
  declare -F "target_$name" >/dev/null || { echo "load.sh: no target named $name" >&2; exit 2; }
  echo "load.sh: target $name" >&2
  mkdir -p "$work/$name"
  "target_$name" "$work/$name" "$@" || failed=1
  [ -f "$work/$name/$name.tsv" ] && columns+=("$name=$work/$name/$name.tsv")
done
[ ${#columns[@]} -gt 0 ] || { echo "load.sh: no target produced figures" >&2; exit 1; }
"$LOAD" compare "${columns[@]}" | tee "$work/table.txt"
if [ -n "${BENCH_OUT:-}" ]; then
  mkdir -p "$BENCH_OUT"
  cp "$work/table.txt" "$work"/*/*.tsv "$BENCH_OUT"/
  echo "load.sh: table and TSVs kept in $BENCH_OUT" >&2
fi
exit "$failed"
