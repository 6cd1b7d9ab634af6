// The conversation as the visitor sees it, with an agent on the other side of the Agent Chat
// Web API: who is answering, typing, read receipts, links, the end of a chat and its rating,
// earlier conversations, where the list stays while reading, dark mode and right to left, and
// the opt-in sneak peek (what the visitor types, seen by agents before it is sent).
const { test, expect } = require('@playwright/test');
const { agent, agentAvailable, agentPushes, agentSocket, endActiveChats, say, visitorInChat, widgetFrame, openWidgetAlone } = require('../lib/confab');

test.beforeEach(({ request }) => agentAvailable(request));

test('the agent is named, typing shows, and both sides see what the other has read', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'who is there?');

  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Hi, Alex here.' } });
  await expect(widget.locator('.header h1')).toHaveText('Alex Morgan');
  await expect(widget.locator('.message.system')).toContainText('Alex Morgan joined the chat');
  await expect(widget.locator('.message.theirs .author')).toHaveText('Alex Morgan');

  await agent(request, 'send_typing_indicator', { chat_id: chatId, is_typing: true });
  await expect(widget.locator('.typing')).toHaveText('Alex Morgan is typing…');
  await agent(request, 'send_typing_indicator', { chat_id: chatId, is_typing: false });
  await expect(widget.locator('.typing')).toHaveCount(0);

  await expect(widget.locator('.message.mine .receipt')).toHaveText('Sent');
  await agent(request, 'mark_events_as_seen', { chat_id: chatId, seen_up_to: new Date(Date.now() + 1000).toISOString() });
  await expect(widget.locator('.message.mine .receipt')).toHaveText('Seen');

  // The window is open: the visitor has read the agent's message, and the agent can tell.
  await expect.poll(async () => {
    const chat = await agent(request, 'get_chat', { chat_id: chatId });
    const customer = chat.users.find((u) => u.type === 'customer');
    const reply = chat.thread.events.find((e) => e.text === 'Hi, Alex here.');
    return Boolean(customer.events_seen_up_to && customer.events_seen_up_to >= reply.created_at);
  }).toBe(true);
  await page.screenshot({ path: 'output/chat.png' });
});

test('links in messages are links, and only to web addresses', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'where are the docs?');
  const text = 'See https://docs.example/start. Not javascript:alert(1) though.';
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text } });
  const reply = widget.locator('.message.theirs .text');
  await expect(reply).toHaveText(text);
  await expect(reply.locator('a')).toHaveCount(1);
  await expect(reply.locator('a')).toHaveAttribute('href', 'https://docs.example/start');
  await expect(reply.locator('a')).toHaveAttribute('rel', /noopener/);
});

test('when the agent ends the chat the visitor rates it, then starts a new one', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'thanks for the help');
  await agent(request, 'deactivate_chat', { id: chatId, ignore_requester_presence: true });

  await expect(widget.locator('.header .subtitle')).toHaveText('This chat has ended');
  await expect(widget.getByText('How was this chat?')).toBeVisible();
  await widget.getByRole('button', { name: 'Good' }).click();
  await widget.getByLabel('Add a comment (optional)').fill('quick and kind');
  await page.screenshot({ path: 'output/rating.png' });
  await widget.getByRole('button', { name: 'Send rating' }).click();
  await expect(widget.getByText('Thanks for your feedback!')).toBeVisible();

  const chat = await agent(request, 'get_chat', { chat_id: chatId });
  expect(chat.thread.properties.rating).toEqual({ score: 1, comment: 'quick and kind' });

  // Changing their mind: "no thanks" takes the rating back.
  await widget.getByRole('button', { name: 'Change rating' }).click();
  await widget.getByRole('button', { name: 'No thanks' }).click();
  await expect.poll(async () => (await agent(request, 'get_chat', { chat_id: chatId })).thread.properties?.rating?.score)
    .toBeUndefined();

  await widget.getByRole('button', { name: 'Start a new chat' }).click();
  await expect(widget.getByLabel('Message')).toBeFocused();
  await say(widget, 'one more question');
  await expect(widget.locator('.header .subtitle')).not.toHaveText('This chat has ended');
});

test('earlier conversations are still there after a reload, each marked', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'first conversation');
  await agent(request, 'deactivate_chat', { id: chatId, ignore_requester_presence: true });
  await widget.getByRole('button', { name: 'Start a new chat' }).click();
  await say(widget, 'second conversation');

  await page.reload();
  const again = page.frameLocator('#confab-root iframe');
  if ((await page.locator('#confab-root button').getAttribute('aria-expanded')) !== 'true') {
    await page.locator('#confab-root button').click();
  }
  await expect(again.locator('.message.mine .text')).toHaveText(['first conversation', 'second conversation']);
  await expect(again.locator('.separator.thread')).toHaveCount(1);
  await expect(again.locator('.separator.day')).toHaveCount(1);
});

test('the list stays where the visitor is reading and offers the new messages', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'tell me everything');
  for (let i = 1; i <= 30; i++) {
    await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: `line ${i}` } });
  }
  await expect(widget.locator('.message.theirs .text').last()).toHaveText('line 30');
  const frame = widgetFrame(page);
  const scrollTop = () => frame.evaluate(() => document.querySelector('.messages').scrollTop);
  const atBottom = () => frame.evaluate(() => {
    const list = document.querySelector('.messages');
    return list.scrollHeight - list.scrollTop - list.clientHeight < 48;
  });
  await expect.poll(atBottom).toBe(true);

  await frame.evaluate(() => { document.querySelector('.messages').scrollTop = 0; });
  await frame.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'and one more' } });
  await expect(widget.locator('.message.theirs .text').last()).toHaveText('and one more');
  await expect(widget.locator('.jump')).toBeVisible();
  expect(await scrollTop()).toBe(0);

  await widget.locator('.jump').click();
  await expect.poll(atBottom).toBe(true);
  await expect(widget.locator('.jump')).toHaveCount(0);
});

test('dark mode follows the system', async ({ page, request }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  const { widget } = await visitorInChat(page, request, 'it is late here');
  const background = await widgetFrame(page).evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(22, 24, 29)');
  await expect(widget.locator('.message.mine .text')).toHaveText('it is late here');
  await page.screenshot({ path: 'output/dark.png' });
});

test('in Arabic the window is right to left and mixed text keeps its order', async ({ page, request }) => {
  await openWidgetAlone(page, request, { lang: 'ar' }, 640);
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ar');
  const input = page.getByLabel('الرسالة');
  await expect(page.getByRole('button', { name: 'إرسال' })).toBeEnabled();
  await input.fill('مرحبا، طلبي رقم 1234 (order #1234) لم يصل');
  await input.press('Enter');
  const mine = page.locator('.message.mine');
  await expect(mine.locator('.text')).toHaveAttribute('dir', 'auto');
  await expect(mine.locator('.receipt')).toHaveText('تم الإرسال');
  // Right to left: the visitor's own messages sit on the left.
  const box = await mine.boundingBox();
  expect(box.x).toBeLessThan(200);
  await page.screenshot({ path: 'output/rtl.png' });
});

test('with the site\'s opt-in, agents see what the visitor is typing before it is sent', async ({ page, context, request }) => {
  await endActiveChats(request); // Alex has room: the chat is his, and so are its sneak peeks
  await openWidgetAlone(page, request, { 'sneak-peek': 'on' });
  const message = page.getByLabel('Message', { exact: true });
  await message.fill('do you roast on Mondays?');
  await message.press('Enter');
  await expect(page.locator('.message.mine .receipt')).toHaveText('Sent');
  const agentPage = await agentSocket(context);
  await message.pressSequentially('and ship on Tue');
  await expect.poll(async () => (await agentPushes(agentPage, 'incoming_sneak_peek')).map((p) => p.sneak_peek.text).pop(),
    { timeout: 10_000 }).toBe('and ship on Tue');
});
