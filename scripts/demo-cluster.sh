#!/usr/bin/env bash
# Runs Confab as a cluster on this machine: a PostgreSQL database, two server nodes sharing it,
# and nginx (Debian's package) balancing the Confab origin across them; plus the demo website.
# Everything lives in $CLUSTER_DIR and is stopped (and the database removed) on exit.
#
#   browser ──▶ nginx :8080 ──┬─▶ node A :8181 ──┐
#                             └─▶ node B :8182 ──┴─▶ PostgreSQL :8183   (pushes cross nodes by LISTEN/NOTIFY)
#   demo website :8081 (served by node A) embeds the widget from http://127.0.0.1:8080
#
# Ports and paths come from the environment (the end-to-end test uses its own):
#   CLUSTER_DIR (default .data/cluster), CLUSTER_PORT (nginx, 8080), CLUSTER_SITE_PORT (8081),
#   CLUSTER_NODE_A_PORT (8181), CLUSTER_NODE_B_PORT (8182), CLUSTER_PG_PORT (8183),
#   CLUSTER_AGENT_TOKEN (default: .data/agent-token), CONFAB_SERVER (the binary).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${CLUSTER_DIR:-.data/cluster}
port=${CLUSTER_PORT:-8080}
site_port=${CLUSTER_SITE_PORT:-8081}
a_port=${CLUSTER_NODE_A_PORT:-8181}
b_port=${CLUSTER_NODE_B_PORT:-8182}
pg_port=${CLUSTER_PG_PORT:-8183}
bin=${CONFAB_SERVER:-target/release/confab-server}
public=http://127.0.0.1:$port

if [ -z "${CLUSTER_AGENT_TOKEN:-}" ]; then
  mkdir -p .data
  [ -s .data/agent-token ] || head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > .data/agent-token
  CLUSTER_AGENT_TOKEN=$(cat .data/agent-token)
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/pg-cluster.sh stop "$dir/pg"
}
trap cleanup EXIT INT TERM

# The database: a throwaway cluster of Debian's PostgreSQL, durable settings.
scripts/pg-cluster.sh stop "$dir/pg"
base=$(scripts/pg-cluster.sh start "$dir/pg" "$pg_port")
database=${base%/postgres}/confab
psql -q "$base" -c "CREATE DATABASE confab"

# Two nodes on it. Both trust nginx's X-Forwarded-For; browsers know them only as $public.
node() {
  local name=$1 node_port=$2; shift 2
  "$bin" --listen "127.0.0.1:$node_port" --public-url "$public" --database "$database" \
    --agent-token "$CLUSTER_AGENT_TOKEN" --widget-dir dist/widget --trusted-proxy 127.0.0.1 \
    --allowed-origin "http://127.0.0.1:$site_port" "$@" >"$dir/node-$name.log" 2>&1 &
  pids+=($!)
}
node a "$a_port" --site-listen "127.0.0.1:$site_port"
# B starts after A has migrated the database (A creates the schema; B then finds it).
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$a_port/healthz" >/dev/null && break; sleep 0.1; done
node b "$b_port"

# nginx in front: round robin, WebSocket upgrades passed through, the client address forwarded.
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $dir/nginx-body;
  proxy_temp_path $dir/nginx-proxy;
  fastcgi_temp_path $dir/nginx-fastcgi;
  uwsgi_temp_path $dir/nginx-uwsgi;
  scgi_temp_path $dir/nginx-scgi;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  upstream confab {
    server 127.0.0.1:$a_port max_fails=0;
    server 127.0.0.1:$b_port max_fails=0;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://confab;
      proxy_http_version 1.1;
      proxy_set_header Host \$host:$port;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout;
    }
  }
}
CONF
/usr/sbin/nginx -c "$dir/nginx.conf" -p "$dir" -g 'daemon off;' &
pids+=($!)

for url in "http://127.0.0.1:$b_port/healthz" "$public/healthz"; do
  for _ in $(seq 100); do curl -sf "$url" >/dev/null && break; sleep 0.1; done
  curl -sf "$url" >/dev/null || { echo "demo-cluster: $url did not come up; see $dir/*.log" >&2; exit 1; }
done

cat <<TEXT

  Confab cluster
  --------------
  Demo website:            http://127.0.0.1:$site_port/
  Confab origin (nginx):   $public   → node A 127.0.0.1:$a_port, node B 127.0.0.1:$b_port
  Database:                $database
  Agent access token:      $CLUSTER_AGENT_TOKEN
  Logs:                    $dir/*.log

  Answer as the agent through either node, e.g. node B:
    curl -s -X POST http://127.0.0.1:$b_port/v3.6/agent/action/list_chats -H "Authorization: Bearer $CLUSTER_AGENT_TOKEN" -H "Content-Type: application/json" -d '{}'

  Stop with Ctrl-C (the database is removed).

TEXT
wait -n "${pids[@]}"
echo "demo-cluster: a process ended; stopping the cluster" >&2
