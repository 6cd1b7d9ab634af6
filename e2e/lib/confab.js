// What the e2e specs share: the agent's side (Agent Chat Web API) and the visitor's common
// moves on the demo website.
const { expect } = require('@playwright/test');

const API = process.env.CONFAB_E2E_API;
const SITE = process.env.CONFAB_E2E_SITE;
const AUTH = { Authorization: `Bearer ${process.env.CONFAB_E2E_AGENT_TOKEN}` };

/** Calls an Agent Chat Web API action as the e2e agent; fails the test on a non-200 answer. */
async function agent(request, action, data) {
  const response = await request.post(`${API}/v3.6/agent/action/${action}`, { headers: AUTH, data });
  expect(response.status(), await response.text()).toBe(200);
  return response.json();
}

/** Puts the e2e agent online (agents start `offline`, which would show visitors the ticket
 * form instead of the chat). Each spec calls it before each test. */
async function agentAvailable(request) {
  await agent(request, 'set_routing_status', { agent_id: 'alex@confab.example', status: 'accepting_chats' });
}

/** Ends every active chat (other specs' too), so that Alex's load is known: none. */
async function endActiveChats(request) {
  for (;;) {
    const { chats_summary } = await agent(request, 'list_chats', { filters: { active: true }, limit: 100 });
    if (chats_summary.length === 0) return;
    for (const chat of chats_summary) {
      await agent(request, 'deactivate_chat', { id: chat.id, ignore_requester_presence: true });
    }
  }
}

/** The chat whose latest message is `text`. */
async function chatWhoseLastMessageIs(request, text) {
  const { chats_summary } = await agent(request, 'list_chats', {});
  const chat = chats_summary.find((c) => c.last_event_per_type?.message?.event.text === text);
  expect(chat, `a chat ending with ${JSON.stringify(text)}`).toBeTruthy();
  return chat.id;
}

/** Opens the demo site (or `path` on it, at `site`: the same site under another address) and
 * the chat window, connected. */
async function openWidget(page, path = '/', site = SITE) {
  await page.goto(`${site}${path}`);
  // A window open before a navigation is open after it.
  const launcher = page.locator('#confab-root button');
  if ((await launcher.getAttribute('aria-expanded')) !== 'true') await launcher.click();
  const widget = page.frameLocator('#confab-root iframe');
  // Connected: the header's connection notice ("Connecting…") is gone. The composer takes
  // messages earlier (they wait for the login), so the Send button does not tell.
  await expect(widget.getByRole('button', { name: 'Send' })).toBeEnabled();
  await expect(widget.locator('.notice')).toHaveCount(0);
  return widget;
}

/** The visitor sends `text` and waits until the server has confirmed it. */
async function say(widget, text) {
  await widget.getByLabel('Message', { exact: true }).fill(text);
  await widget.getByLabel('Message', { exact: true }).press('Enter');
  const mine = widget.locator('.message.mine').last();
  await expect(mine.locator('.text')).toHaveText(text);
  await expect(mine.locator('.status')).toHaveCount(0);
}

/** A visitor who has said `text`; returns the widget and the chat id. */
async function visitorInChat(page, request, text) {
  const widget = await openWidget(page);
  await say(widget, text);
  return { widget, chatId: await chatWhoseLastMessageIs(request, text) };
}

/** The site's organization id, as the demo page puts it on its script tag. */
async function organizationId(request) {
  const html = await (await request.get(`${SITE}/`)).text();
  return html.match(/data-organization-id="([^"]+)"/)[1];
}

/** Opens the widget document alone, as the loader frames it, with extra URL `params`
 * (`lang`, `group`, …), in a window the size of the chat panel. */
async function openWidgetAlone(page, request, params, height = 700) {
  const query = new URLSearchParams({ 'organization-id': await organizationId(request), ...params });
  await page.setViewportSize({ width: 400, height });
  await page.goto(`${API}/widget/?${query}`);
}

/** The agent's RTM socket, opened from a page of the site (an allowed origin) in `context`:
 * logged in, it collects its pushes; `agentPushes(page, action)` reads them. */
async function agentSocket(context) {
  const page = await context.newPage();
  await page.goto(`${SITE}/menu.html`);
  await page.evaluate(async ({ api, token }) => {
    window.pushes = [];
    const ws = new WebSocket(`${api.replace(/^http/, 'ws')}/v3.6/agent/rtm/ws`);
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    const login = new Promise((resolve) => {
      ws.onmessage = (m) => {
        const frame = JSON.parse(m.data);
        if (frame.type === 'push') window.pushes.push(frame);
        else if (frame.action === 'login') resolve(frame.success);
      };
    });
    ws.send(JSON.stringify({ action: 'login', request_id: 'login', payload: { token: `Bearer ${token}` } }));
    if (!(await login)) throw new Error('agent login refused');
  }, { api: API, token: process.env.CONFAB_E2E_AGENT_TOKEN });
  return page;
}

/** The payloads of the pushes `action` the agent's socket has received. */
function agentPushes(socketPage, action) {
  return socketPage.evaluate((a) => window.pushes.filter((p) => p.action === a).map((p) => p.payload), action);
}

/** The widget's own frame (for evaluate). */
function widgetFrame(page) {
  return page.frames().find((f) => f.url().startsWith(API));
}

module.exports = { API, SITE, AUTH, agent, endActiveChats, agentPushes, agentSocket, agentAvailable, chatWhoseLastMessageIs, openWidget, openWidgetAlone, organizationId, say, visitorInChat, widgetFrame };
