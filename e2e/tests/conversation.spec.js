// A visitor on a customer's website (origin A) chats with an agent who answers through the
// Agent Chat Web API; the widget and API live on the Confab origin (B).
const { test, expect } = require('@playwright/test');

const { API, SITE, agent, agentAvailable, chatWhoseLastMessageIs, openWidget, say } = require('../lib/confab');

test.beforeEach(({ request }) => agentAvailable(request));

test('a visitor says hello and sees the agent reply', async ({ page, request }) => {
  const wasmRequests = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmRequests.push(r.url()); });
  await page.goto(`${SITE}/`);
  await expect(page.locator('#confab-root button')).toBeVisible();
  expect(wasmRequests, 'no wasm before the visitor shows intent').toEqual([]);
  expect(await page.locator('#confab-root iframe').count()).toBe(0);

  await page.locator('#confab-root button').click();
  const iframe = page.locator('#confab-root iframe');
  expect(new URL(await iframe.getAttribute('src')).origin).toBe(API);
  expect(new URL(API).origin).not.toBe(new URL(page.url()).origin);

  const widget = page.frameLocator('#confab-root iframe');
  const input = widget.getByLabel('Message');
  await expect(widget.getByRole('button', { name: 'Send' })).toBeEnabled();
  await expect(input).toBeFocused();
  await input.fill('hello');
  await input.press('Enter');
  await expect(input).toHaveValue('');
  const mine = widget.locator('.message.mine');
  await expect(mine.locator('.text')).toHaveText('hello');
  await expect(mine.locator('.status')).toHaveCount(0); // confirmed by the server

  const chatId = await chatWhoseLastMessageIs(request, 'hello');
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Hi! How can I help?' } });

  const theirs = widget.locator('.message.theirs');
  await expect(theirs.locator('.text')).toHaveText('Hi! How can I help?');
  await expect(theirs.locator('.author')).toHaveText('Alex Morgan');
  await page.screenshot({ path: 'output/conversation.png' });
});

test('markup in messages is shown as text, never run', async ({ page, request }) => {
  const widget = await openWidget(page);
  const payload = '<img src=x onerror="parent.postMessage(\'pwned\',\'*\');window.pwned=1"><b>bold</b>';
  await say(widget, payload);

  const chatId = await chatWhoseLastMessageIs(request, payload);
  const reply = '<script>window.pwned=1</script><a href="javascript:alert(1)">click</a>';
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: reply } });
  await expect(widget.locator('.message.theirs .text')).toHaveText(reply);

  await expect(widget.locator('.messages img, .messages b, .messages script, .messages a')).toHaveCount(0);
  const frame = page.frames().find((f) => f.url().startsWith(API));
  expect(await frame.evaluate(() => window.pwned)).toBeUndefined();
});

test('the visitor keeps their conversation across page loads', async ({ page }) => {
  let widget = await openWidget(page);
  await say(widget, 'are you open on Sundays?');

  // Open when the page was left, so open again (the loader remembers it for the tab).
  await page.reload();
  await expect(page.locator('#confab-root button')).toHaveAttribute('aria-expanded', 'true');
  widget = page.frameLocator('#confab-root iframe');
  await expect(widget.locator('.message.mine .text')).toHaveText('are you open on Sundays?');
});

test('after the agent closes the chat, the visitor starts a new conversation in it', async ({ page, request }) => {
  const widget = await openWidget(page);
  await say(widget, 'first question');
  const chatId = await chatWhoseLastMessageIs(request, 'first question');

  await agent(request, 'deactivate_chat', { id: chatId, ignore_requester_presence: true });
  await expect(widget.locator('.message.system', { hasText: 'This chat has ended' })).toBeVisible();
  // The header and the bottom of the window say so too; the composer waits for a choice.
  await expect(widget.locator('.header .subtitle')).toHaveText('This chat has ended');
  await expect(widget.getByLabel('Message')).toHaveCount(0);
  await widget.getByRole('button', { name: 'Start a new chat' }).click();

  await say(widget, 'one more thing');
  const chat = await agent(request, 'get_chat', { chat_id: chatId });
  expect(chat.thread.active).toBe(true);
  expect(chat.thread.events.map((e) => e.text)).toEqual(['one more thing']);
  expect(chat.thread.previous_thread_id).toBeTruthy();
});

test('messages that arrive while the chat is closed show a badge on the bubble', async ({ page, request }) => {
  const widget = await openWidget(page);
  await say(widget, 'ping me when you are back');
  const chatId = await chatWhoseLastMessageIs(request, 'ping me when you are back');

  // The widget's own minimize button closes the panel through postMessage.
  await widget.getByRole('button', { name: 'Minimize chat' }).click();
  const launcher = page.locator('#confab-root button');
  await expect(launcher).toHaveAttribute('aria-expanded', 'false');
  await expect(page.locator('#confab-root iframe')).toBeHidden();

  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Back now!' } });
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Still there?' } });
  const badge = page.locator('#confab-root span');
  await expect(badge).toHaveText('2');
  await expect(badge).toBeVisible();

  // The page's API opens it; the badge clears.
  await page.evaluate(() => window.Confab.open());
  await expect(launcher).toHaveAttribute('aria-expanded', 'true');
  await expect(widget.locator('.message.theirs .text').last()).toHaveText('Still there?');
  await expect(badge).toBeHidden();
});
