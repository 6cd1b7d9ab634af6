// Several tabs of the site share one connection: the tab holding the widget's Web Lock keeps
// the socket, the others reach it over a BroadcastChannel. Five tabs, one socket, one
// conversation; when the socket's tab closes, another takes over.
const { test, expect } = require('@playwright/test');
const { agent, agentAvailable, chatWhoseLastMessageIs, openWidget, say } = require('../lib/confab');

test.beforeEach(async ({ request }) => agentAvailable(request));

const TABS = 5;

/** Opens a tab of the demo site with the chat window open; counts its customer sockets. */
async function openTab(context, sockets) {
  const page = await context.newPage();
  const gone = () => { const i = sockets.indexOf(page); if (i >= 0) sockets.splice(i, 1); };
  page.on('websocket', (ws) => {
    if (ws.url().includes('/customer/rtm')) {
      sockets.push(page);
      ws.on('close', gone);
    }
  });
  // A closed page's sockets report no close of their own.
  page.on('close', gone);
  const widget = await openWidget(page);
  return { page, widget };
}

test('five tabs hold one socket and show the same conversation; another tab takes over when it closes', async ({ browser, request }) => {
  const context = await browser.newContext();
  const sockets = [];
  const tabs = [];
  for (let i = 0; i < TABS; i++) tabs.push(await openTab(context, sockets));
  expect(sockets.length).toBe(1);

  // A message from any tab is the same visitor's, in the same chat, shown in every tab.
  await say(tabs[0].widget, 'Hello from the first tab');
  const chatId = await chatWhoseLastMessageIs(request, 'Hello from the first tab');
  await say(tabs[3].widget, 'And from the fourth');
  expect(await chatWhoseLastMessageIs(request, 'And from the fourth')).toEqual(chatId);
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Hello, all of you' } });
  for (const { widget } of tabs) {
    await expect(widget.locator('.message.mine .text')).toHaveText(['Hello from the first tab', 'And from the fourth']);
    await expect(widget.locator('.message.theirs .text').last()).toHaveText('Hello, all of you');
  }
  expect(sockets.length).toBe(1);

  // The socket's tab goes: one of the others opens the socket and the chat goes on there.
  const leader = sockets[0];
  const rest = tabs.filter((t) => t.page !== leader);
  await leader.close();
  await expect.poll(() => sockets.length).toBe(1);
  expect(sockets[0]).not.toBe(leader);
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Still here?' } });
  for (const { widget } of rest) {
    await expect(widget.locator('.message.theirs .text').last()).toHaveText('Still here?');
  }
  await say(rest[rest.length - 1].widget, 'Yes, in another tab');
  expect(await chatWhoseLastMessageIs(request, 'Yes, in another tab')).toEqual(chatId);
  expect(sockets.length).toBe(1);
  await context.close();
});
