// A visitor's widget talks to whichever node nginx picks; agents answer through each node
// directly. Every reply reaches the visitor, in order: pushes cross nodes through PostgreSQL.
const { test, expect } = require('@playwright/test');

const SITE = process.env.CONFAB_E2E_SITE;
const API = process.env.CONFAB_E2E_API;
const NODES = process.env.CONFAB_E2E_NODES.split(',');
const AUTH = { Authorization: `Bearer ${process.env.CONFAB_E2E_AGENT_TOKEN}` };

async function agent(request, node, action, data) {
  const response = await request.post(`${node}/v3.6/agent/action/${action}`, { headers: AUTH, data });
  expect(response.status(), await response.text()).toBe(200);
  return response.json();
}

test('through nginx and two nodes, the visitor hears from agents on both', async ({ page, request }) => {
  // Agents start offline; an offline group shows visitors the ticket form instead of the chat.
  await agent(request, NODES[0], 'set_routing_status', { agent_id: 'alex@confab.example', status: 'accepting_chats' });
  await page.goto(`${SITE}/`);
  await page.locator('#confab-root button').click();
  expect(new URL(await page.locator('#confab-root iframe').getAttribute('src')).origin).toBe(API);
  const widget = page.frameLocator('#confab-root iframe');
  const input = widget.getByLabel('Message');
  await input.fill('hello, cluster');
  await input.press('Enter');
  const mine = widget.locator('.message.mine');
  await expect(mine.locator('.text')).toHaveText('hello, cluster');
  await expect(mine.locator('.status')).toHaveCount(0);

  const { chats_summary } = await agent(request, NODES[1], 'list_chats', {});
  const chat = chats_summary.find((c) => c.last_event_per_type?.message?.event.text === 'hello, cluster');
  expect(chat, 'node B sees the chat written through nginx').toBeTruthy();

  // One reply through each node: whichever node holds the visitor's socket, one of them
  // arrives from the other node.
  await agent(request, NODES[0], 'send_event', { chat_id: chat.id, event: { type: 'message', text: 'Hi from node A' } });
  await agent(request, NODES[1], 'send_event', { chat_id: chat.id, event: { type: 'message', text: 'and from node B' } });
  await expect(widget.locator('.message.theirs .text')).toHaveText(['Hi from node A', 'and from node B']);
  await page.screenshot({ path: 'output/cluster.png' });
});
