#!/usr/bin/env bash
# One throwaway confab-server node for the load bench, kept in a directory of its own:
#
#   bench/node.sh start DIR ADDR [SERVER FLAGS…]   start in the background; return once it is ready
#   bench/node.sh stop DIR                         SIGTERM, wait for it to exit
#   bench/node.sh kill DIR                         SIGKILL, wait for it to be gone
#
# DIR holds the node's SQLite data (DIR/data, unless a flag names a --database), its log
# (DIR/server.log, appended across restarts) and its pid (DIR/pid). The binary is $CONFAB_SERVER
# (default: the release build under $CARGO_TARGET_DIR, else ./target); the agent token is
# $CONFAB_AGENT_TOKEN. confab-load runs `start` again as its --start-cmd after a restart or a
# kill, so a start must work on a directory that has been used before.
set -euo pipefail
cd "$(dirname "$0")/.."

READY_TIMEOUT_S=30 # how long a start may take until the ready line
STOP_TIMEOUT_S=15  # the server's own shutdown grace (5 s) plus margin
POLL_S=0.05

usage() { echo "usage: $0 start DIR ADDR [SERVER FLAGS…] | stop DIR | kill DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
command=$1 dir=$2
shift 2

# Whether process $1 is running (a zombie, exited but not yet reaped, is not).
alive() {
  [ -r "/proc/$1/stat" ] || return 1
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Waits until process $1 is gone, at most $2 seconds.
wait_gone() {
  local deadline=$((SECONDS + $2))
  while alive "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "node.sh: process $1 still running after $2 s" >&2; return 1; }
    sleep "$POLL_S"
  done
}

case "$command" in
  start)
    [ $# -ge 1 ] || usage
    addr=$1
    shift
    server=${CONFAB_SERVER:-${CARGO_TARGET_DIR:-target}/release/confab-server}
    [ -x "$server" ] || { echo "node.sh: no server binary at $server (cargo build --release -p confab-server)" >&2; exit 1; }
    : "${CONFAB_AGENT_TOKEN:?node.sh: set CONFAB_AGENT_TOKEN}"
    mkdir -p "$dir/data"
    log=$dir/server.log
    touch "$log"
    ready_before=$(grep -c 'confab-server ready' "$log" || true)
    # Every socket is a file descriptor: give the server the hard limit, as the tool takes it.
    ulimit -n "$(ulimit -Hn)"
    "$server" --listen "$addr" --data-dir "$dir/data" --agent-token "$CONFAB_AGENT_TOKEN" "$@" </dev/null >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/pid"
    deadline=$((SECONDS + READY_TIMEOUT_S))
    until [ "$(grep -c 'confab-server ready' "$log" || true)" -gt "$ready_before" ]; do
      alive "$pid" || { echo "node.sh: the server exited; the end of $log:" >&2; tail -5 "$log" >&2; exit 1; }
      [ "$SECONDS" -lt "$deadline" ] || { echo "node.sh: not ready after $READY_TIMEOUT_S s (see $log)" >&2; exit 1; }
      sleep "$POLL_S"
    done
    ;;
  stop | kill)
    [ -f "$dir/pid" ] || exit 0
    pid=$(cat "$dir/pid")
    if alive "$pid"; then
      if [ "$command" = stop ]; then kill -TERM "$pid"; else kill -KILL "$pid"; fi
      wait_gone "$pid" "$STOP_TIMEOUT_S"
    fi
    rm -f "$dir/pid"
    ;;
  *) usage ;;
esac
