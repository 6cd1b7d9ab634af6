// The outbox: what the visitor writes while the connection is down waits (shown as sending),
// survives a reload, and is sent exactly once when the connection is back; meanwhile the
// window counts down to the next attempt. The connection is cut by routing the widget's
// WebSocket (Playwright's routeWebSocket): refused while "offline", passed through otherwise.
const { test, expect } = require('@playwright/test');

const { agent, agentAvailable, chatWhoseLastMessageIs, openWidget, say, widgetFrame } = require('../lib/confab');
const { expectAccessible } = require('../lib/a11y');

test.beforeEach(({ request }) => agentAvailable(request));

test('a message written offline survives a reload and is sent once when back online', async ({ page, context, request }) => {
  let online = true;
  const sockets = [];
  await context.routeWebSocket(/\/customer\/rtm\/ws/, (ws) => {
    if (!online) return ws.close({ code: 1011, reason: 'offline (test)' });
    ws.connectToServer();
    sockets.push(ws);
  });
  const widget = await openWidget(page);
  await say(widget, 'before the outage');
  const chatId = await chatWhoseLastMessageIs(request, 'before the outage');

  // The connection drops and stays down.
  online = false;
  sockets.splice(0).forEach((ws) => ws.close({ code: 1006 }));
  const notice = widget.locator('.notice');
  await expect(notice).toContainText(/Reconnecting|Retrying/);

  // Written while down: taken, and shown as waiting.
  await widget.getByLabel('Message', { exact: true }).fill('written offline');
  await widget.getByLabel('Message', { exact: true }).press('Enter');
  const waiting = widget.locator('.message.mine').last();
  await expect(waiting.locator('.text')).toHaveText('written offline');
  await expect(waiting.locator('.status')).toHaveText('Sending…');

  // The next attempt is counted down, second by second.
  await expect(notice).toContainText(/Retrying in \d+ s/);
  const seconds = async () => Number((await notice.textContent()).match(/Retrying in (\d+) s/)?.[1] ?? NaN);
  await expect.poll(seconds, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  const first = await seconds();
  await expect.poll(seconds, { timeout: 3_000 }).toBe(first - 1);
  await page.screenshot({ path: 'output/reconnecting.png' });
  await expectAccessible(widgetFrame(page), 'reconnecting, with a message waiting');

  // The visitor reloads while still offline: the message is still there, still waiting.
  await page.reload();
  const again = page.frameLocator('#confab-root iframe');
  const kept = again.locator('.message.mine').last();
  await expect(kept.locator('.text')).toHaveText('written offline');
  await expect(kept.locator('.status')).toHaveText('Sending…');

  // Back online: sent, once.
  online = true;
  await expect(kept.locator('.status')).toHaveCount(0, { timeout: 20_000 });
  expect(await chatWhoseLastMessageIs(request, 'written offline')).toBe(chatId);
  const { thread } = await agent(request, 'get_chat', { chat_id: chatId });
  expect(thread.events.filter((e) => e.text === 'written offline')).toHaveLength(1);
  await expect(again.locator('.message.mine .text')).toHaveText(['before the outage', 'written offline']);
});
