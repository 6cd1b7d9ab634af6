// The queue and transfers, as the visitor sees them. The server queues a new chat when its
// group's agents accept chats but none has room (each already has `max_chats` active chats,
// 6 unless the agents file says otherwise): the widget's header then says the place in the
// queue and the wait (`thread.queue`, then `queue_position_updated`), until routing gives the
// chat to an agent with room, or an agent answers it. An agent may hand a chat to another
// agent (who must be online) or group (`transfer_chat`): the visitor is told, and a chat
// handed to a group whose agents are all busy waits in that group's queue
// (`chat_transferred` carries the place).
const { test, expect } = require('@playwright/test');
const { API, agent, agentAvailable, chatWhoseLastMessageIs, endActiveChats, openWidget, say, visitorInChat } = require('../lib/confab');
const { expectAccessible } = require('../lib/a11y');

const ALEX = 'alex@confab.example';
/** The second agent (e2e/agents.json; groups 0 and 2, "Roastery"), offline unless a test
 * puts him online. */
const SAM = 'sam@confab.example';
/** e2e/groups.json: Wholesale has no agent (always offline); Roastery has Alex and Sam. */
const WHOLESALE = 1;
const ROASTERY = 2;
/** Alex's `max_chats`: the server's default (crates/server/src/limits.rs
 * DEFAULT_MAX_CHATS_PER_AGENT), which e2e/agents.json leaves as it is. */
const MAX_CHATS = 6;

/** An Agent Chat Web API action as Sam. */
async function asSam(request, action, data) {
  const headers = { Authorization: `Bearer ${process.env.CONFAB_E2E_SECOND_AGENT_TOKEN}` };
  const response = await request.post(`${API}/v3.6/agent/action/${action}`, { headers, data });
  expect(response.status(), await response.text()).toBe(200);
  return response.json();
}

/** An Agent Chat Web API action as Alex that must fail with the error `type`. */
async function refused(request, action, data, type) {
  const headers = { Authorization: `Bearer ${process.env.CONFAB_E2E_AGENT_TOKEN}` };
  const response = await request.post(`${API}/v3.6/agent/action/${action}`, { headers, data });
  const body = await response.text();
  expect(response.status(), body).toBeGreaterThanOrEqual(400);
  expect(JSON.parse(body).error.type, body).toBe(type);
}

/** Alex (or, with `as`, another agent) at his `max_chats`: that many chats he started
 * himself with customers of the API. Returns their ids. */
async function alexIsFull(request, as = agent) {
  const chats = [];
  for (let i = 1; i <= MAX_CHATS; i++) {
    const { customer_id } = await agent(request, 'create_customer', { name: `Regular ${i}` });
    const { chat_id } = await as(request, 'start_chat', {
      chat: { users: [{ id: customer_id, type: 'customer' }] },
      active: true,
    });
    chats.push(chat_id);
  }
  return chats;
}

const queueText = (position) => `You're number ${position} in the queue. Estimated wait: ${position * 2} min.`;

test.beforeEach(async ({ request }) => {
  await agentAvailable(request);
  await endActiveChats(request);
});

// The next specs find Alex with room again, and Sam offline.
test.afterEach(async ({ request }) => {
  await endActiveChats(request);
  await asSam(request, 'set_routing_status', { status: 'offline' });
});

test('a visitor waits in the queue while the agent is full, and the agent with room takes the chat', async ({ page, request }) => {
  const regulars = await alexIsFull(request);
  const widget = await openWidget(page);
  await say(widget, 'anyone free?');

  const banner = widget.locator('.header ~ .queue');
  await expect(banner).toHaveText(queueText(1));
  await expect(banner).toHaveAttribute('role', 'status');
  await expect(widget.locator('.header h1')).toHaveText('Chat with us');
  const chatId = await chatWhoseLastMessageIs(request, 'anyone free?');
  const waiting = await agent(request, 'get_chat', { chat_id: chatId });
  expect(waiting.thread.queue).toMatchObject({ position: 1, wait_time: 120 });
  expect(waiting.users.filter((u) => u.type === 'agent')).toEqual([]);
  await page.screenshot({ path: 'output/queue.png' });
  await expectAccessible(page.frames().find((f) => f.url().startsWith(API)), 'the widget (in the queue)');

  // Alex closes a chat: he has room, and routing gives him the waiting one.
  await agent(request, 'deactivate_chat', { id: regulars[0], ignore_requester_presence: true });
  await expect(banner).toHaveCount(0);
  await expect(widget.locator('.header h1')).toHaveText('Alex Morgan');
  await expect(widget.locator('.header .subtitle')).toHaveText('Support Agent');
  await expect(widget.locator('.message.system')).toContainText('Alex Morgan joined the chat');
  const taken = await agent(request, 'get_chat', { chat_id: chatId });
  expect(taken.thread.queue).toBeUndefined();
  expect(taken.users.filter((u) => u.type === 'agent').map((u) => u.id)).toEqual([ALEX]);
});

test('the queue moves up for the next visitor, and an agent who answers takes the chat', async ({ page, browser, request }) => {
  const regulars = await alexIsFull(request);
  const first = await openWidget(page);
  await say(first, 'first in line');
  await expect(first.locator('.queue')).toHaveText(queueText(1));

  const other = await browser.newContext();
  try {
    const second = await openWidget(await other.newPage());
    await say(second, 'second in line');
    await expect(second.locator('.queue')).toHaveText(queueText(2));

    // The first goes to Alex; the second moves up (`queue_position_updated`).
    await agent(request, 'deactivate_chat', { id: regulars[0], ignore_requester_presence: true });
    await expect(first.locator('.queue')).toHaveCount(0);
    await expect(first.locator('.header h1')).toHaveText('Alex Morgan');
    await expect(second.locator('.queue')).toHaveText(queueText(1));

    // Full again, Alex answers the second anyway: writing takes the chat out of the queue.
    const chatId = await chatWhoseLastMessageIs(request, 'second in line');
    await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'With you now.' } });
    await expect(second.locator('.message.theirs .text')).toHaveText('With you now.');
    await expect(second.locator('.queue')).toHaveCount(0);
    await expect(second.locator('.header h1')).toHaveText('Alex Morgan');
    expect((await agent(request, 'get_chat', { chat_id: chatId })).thread.queue).toBeUndefined();
  } finally {
    await other.close();
  }
});

test('a chat transferred to another agent: the visitor is told, and the header names the new agent', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'can someone check my order?');
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Let me find who knows.' } });
  await expect(widget.locator('.header h1')).toHaveText('Alex Morgan');

  // Only to an agent who is online; accepting chats or not, he takes a chat handed to him.
  const toSam = { id: chatId, target: { type: 'agent', ids: [SAM] } };
  await refused(request, 'transfer_chat', toSam, 'agent_offline');
  await asSam(request, 'set_routing_status', { status: 'not_accepting_chats' });
  await agent(request, 'transfer_chat', toSam);
  const notice = widget.locator('.message.system', { hasText: "You've been transferred to another agent." });
  await expect(notice).toBeVisible();
  await expect(widget.locator('.header h1')).toHaveText('Sam Lee');
  await expect(widget.locator('.header .subtitle')).toHaveText('Roaster');
  const chat = await agent(request, 'get_chat', { chat_id: chatId });
  expect(chat.users.filter((u) => u.type === 'agent').map((u) => u.id)).toEqual([SAM]);

  await asSam(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Sam here, I have it.' } });
  await expect(widget.locator('.message.theirs .author').last()).toHaveText('Sam Lee');
  await expect(notice).toHaveCount(1);
});

test('a chat transferred to a group: the visitor is told, and nobody is named until an agent joins', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'who handles wholesale?');
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Passing you on.' } });
  await expect(widget.locator('.header h1')).toHaveText('Alex Morgan');

  // Nobody of Wholesale is online: refused, unless the chat may wait for whoever comes.
  const toWholesale = { id: chatId, target: { type: 'group', ids: [WHOLESALE] } };
  await refused(request, 'transfer_chat', toWholesale, 'group_offline');
  await agent(request, 'transfer_chat', { ...toWholesale, ignore_agents_availability: true });
  await expect(widget.locator('.message.system', { hasText: "You've been transferred to another agent." })).toBeVisible();
  await expect(widget.locator('.header h1')).toHaveText('Chat with us');
  await expect(widget.locator('.queue')).toHaveCount(0);
  const chat = await agent(request, 'get_chat', { chat_id: chatId });
  expect(chat.users.filter((u) => u.type === 'agent')).toEqual([]);
  expect(chat.access.group_ids).toEqual([WHOLESALE]);
});

test('a chat transferred to a group whose agents are busy waits in its queue, then goes to the first with room', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'can a roaster help?');
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Asking the roastery.' } });
  await expect(widget.locator('.header h1')).toHaveText('Alex Morgan');
  // The Roastery's agents are both full.
  await alexIsFull(request);
  await asSam(request, 'set_routing_status', { status: 'accepting_chats' });
  const sams = await alexIsFull(request, asSam);

  const toRoastery = { id: chatId, target: { type: 'group', ids: [ROASTERY] } };
  await refused(request, 'transfer_chat', toRoastery, 'group_unavailable');
  await agent(request, 'transfer_chat', { ...toRoastery, ignore_agents_availability: true });
  await expect(widget.locator('.message.system', { hasText: "You've been transferred to another agent." })).toBeVisible();
  const banner = widget.locator('.header ~ .queue');
  await expect(banner).toHaveText(queueText(1));
  await expect(widget.locator('.header h1')).toHaveText('Chat with us');
  const waiting = await agent(request, 'get_chat', { chat_id: chatId });
  expect(waiting.thread.queue).toMatchObject({ position: 1, wait_time: 120 });
  expect(waiting.users.filter((u) => u.type === 'agent')).toEqual([]);
  await page.screenshot({ path: 'output/transfer-queue.png' });
  await expectAccessible(page.frames().find((f) => f.url().startsWith(API)), 'the widget (transferred, in the queue)');

  // Sam closes a chat: he has room, and routing gives him the waiting one.
  await asSam(request, 'deactivate_chat', { id: sams[0] });
  await expect(banner).toHaveCount(0);
  await expect(widget.locator('.header h1')).toHaveText('Sam Lee');
  await expect(widget.locator('.header .subtitle')).toHaveText('Roaster');
  await expect(widget.locator('.message.system')).toContainText(['Sam Lee joined the chat']);
  const taken = await agent(request, 'get_chat', { chat_id: chatId });
  expect(taken.thread.queue).toBeUndefined();
  expect(taken.users.filter((u) => u.type === 'agent').map((u) => u.id)).toEqual([SAM]);
});
