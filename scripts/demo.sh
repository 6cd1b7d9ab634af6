#!/usr/bin/env bash
# Runs the demo: the server on its SQLite database in .data/, the demo website on a second
# origin, and a stable agent token (kept in .data/agent-token). Prints how to chat and answer.
set -euo pipefail
cd "$(dirname "$0")/.."

api=${DEMO_API_ADDR:-127.0.0.1:8080}
site=${DEMO_SITE_ADDR:-127.0.0.1:8081}
mkdir -p .data
[ -s .data/agent-token ] || head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > .data/agent-token
token=$(cat .data/agent-token)
bin=${CONFAB_SERVER:-target/release/confab-server}

cat <<TEXT

  Confab demo
  -----------
  Demo website (a shop embedding the widget):  http://$site/
  The widget alone:                            http://$api/widget/
  Agent Chat Web API:                          http://$api/v3.6/agent/action/<action>
  Agent access token:                          $token

  Open the website, click the chat bubble and say hello. Then answer as the agent:

    chat=\$(curl -s -X POST http://$api/v3.6/agent/action/list_chats -H "Authorization: Bearer $token" -H "Content-Type: application/json" -d '{}' | grep -o '"id":"[A-Z0-9]*"' | head -1 | cut -d'"' -f4)
    curl -s -X POST http://$api/v3.6/agent/action/send_event -H "Authorization: Bearer $token" -H "Content-Type: application/json" -d "{\"chat_id\":\"\$chat\",\"event\":{\"type\":\"message\",\"text\":\"Hi! How can I help?\"}}"

  Stop with Ctrl-C. Data stays in .data/ across restarts.

TEXT
# http://127.0.0.1:8090 is `trunk serve` (make dev), which proxies the widget's API calls here.
exec "$bin" --listen "$api" --site-listen "$site" --data-dir .data --agent-token "$token" --widget-dir dist/widget \
  --allowed-origin http://127.0.0.1:8090
