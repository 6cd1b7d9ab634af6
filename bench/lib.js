// Shared by the bench drivers: the agent's side, through the Agent Chat Web API.
'use strict';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `agent(action, body)` against the server at `api` with the agent's `token`: the response's
 *  JSON; over the agent's call rate it waits and asks again (seeding only, a few times at most). */
function agentApi(api, token) {
  return async function agent(action, body) {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${api}/v3.6/agent/action/${action}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status === 429 && attempt < 50) {
        await sleep(200);
        continue;
      }
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${action}: ${response.status} ${text}`);
      return JSON.parse(text);
    }
  };
}

module.exports = { agentApi, sleep };
