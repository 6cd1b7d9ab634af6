#!/usr/bin/env bash
# A throwaway PostgreSQL cluster, from Debian's packages (scripts/install-tools.sh installs
# them), run as an unprivileged user in a directory of its own. Used by the tests, the
# benchmarks and `make demo-cluster`.
#
#   scripts/pg-cluster.sh start DIR PORT [fast]   prints the cluster's URL once it accepts connections
#   scripts/pg-cluster.sh stop DIR                stops it and removes DIR
#
# `fast` turns off fsync (for tests: a crash loses the cluster, which is thrown away anyway);
# without it the cluster is as durable as PostgreSQL's defaults (benchmarks, kill -9 tests).
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg-cluster: PostgreSQL is not installed; run scripts/install-tools.sh" >&2
  exit 1
fi

# PostgreSQL refuses to run as root: run it as the `postgres` user Debian's package creates.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    dir=$2 port=$3 mode=${4:-durable}
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      chown postgres: "$dir"
      runuser -u postgres -- test -w "$dir" \
        || { echo "pg-cluster: the postgres user cannot reach $dir (is a parent directory private?)" >&2; exit 1; }
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300"
    if [ "$mode" = fast ]; then
      options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$options" -w -t 60 start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir=$2
    if [ -d "$dir/data" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start DIR PORT [fast] | stop DIR" >&2
    exit 2
    ;;
esac
