// The visitor's identity where third-party cookies are blocked (Safari, Firefox, and Chromium
// with --test-third-party-cookie-phaseout, as here): the demo site is reached as
// http://localhost:<port>, another site than the widget's http://127.0.0.1:<port>, so the
// widget is a third party: its ordinary cookies and its storage are blocked. The server's
// identity cookies are partitioned (CHIPS), kept per embedding site, so they still come back.
const { test, expect } = require('@playwright/test');
const { API, SITE, agent, agentAvailable, chatWhoseLastMessageIs, openWidget, say } = require('../lib/confab');
const config = require('../playwright.config');

const CROSS_SITE = SITE.replace('127.0.0.1', 'localhost');

test.use({
  launchOptions: {
    ...config.use.launchOptions,
    args: [...config.use.launchOptions.args, '--test-third-party-cookie-phaseout'],
  },
});

test.beforeEach(async ({ request }) => agentAvailable(request));

test('with third-party cookies blocked, the visitor keeps their conversation from page to page', async ({ page, request }) => {
  const widget = await openWidget(page, '/', CROSS_SITE);

  // The browser really blocks third-party cookies and storage here: the widget's frame can
  // neither keep an ordinary cookie nor reach its localStorage. Only partitioned cookies
  // (CHIPS), which the server sets, are kept.
  const frame = page.frames().find((f) => f.url().startsWith(API));
  const blocked = await frame.evaluate(() => {
    document.cookie = 'probe=1; SameSite=None; Secure; Path=/';
    let storage = 'reachable';
    try { void window.localStorage; } catch { storage = 'denied'; }
    return { cookie: document.cookie.includes('probe=1'), storage };
  });
  expect(blocked).toEqual({ cookie: false, storage: 'denied' });

  await say(widget, 'Hello from the first page');
  const chatId = await chatWhoseLastMessageIs(request, 'Hello from the first page');
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Hi! Take a look at the menu.' } });
  await expect(widget.locator('.message.theirs .text').last()).toHaveText('Hi! Take a look at the menu.');

  // Another page of the same site: the same visitor, the same conversation, the same chat.
  const next = await openWidget(page, '/menu.html', CROSS_SITE);
  await expect(next.locator('.message.mine .text').first()).toHaveText('Hello from the first page');
  await expect(next.locator('.message.theirs .text').last()).toHaveText('Hi! Take a look at the menu.');
  await say(next, 'And from the menu');
  expect(await chatWhoseLastMessageIs(request, 'And from the menu')).toEqual(chatId);

  // A reply while the visitor is on the new page reaches them there.
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Enjoy the menu' } });
  await expect(next.locator('.message.theirs .text').last()).toHaveText('Enjoy the menu');
  const identity = (await page.context().cookies()).filter((c) => c.name.startsWith('__lc_'));
  expect(identity.map((c) => [c.name, c.partitionKey])).toEqual([['__lc_cid', 'http://localhost'], ['__lc_cst', 'http://localhost']]);
});
