// Rich messages from the agent (Agent Chat Web API `send_event` `rich_message`): cards and quick
// replies rendered from typed data, buttons that answer, open pages or only tell the agents,
// each with its postback (`send_rich_message_postback`, which the agent's socket receives as
// `incoming_rich_message_postback`). Markup in any field shows as text.
const { test, expect } = require('@playwright/test');

const { SITE, agent, agentAvailable, agentPushes, agentSocket, chatWhoseLastMessageIs, visitorInChat, widgetFrame } = require('../lib/confab');
const { expectAccessible } = require('../lib/a11y');

test.beforeEach(({ request }) => agentAvailable(request));

const XSS = '<img src=x onerror="window.pwned=1">';

test('a card: its words as text, a button that answers with a postback, a link to a page', async ({ page, context, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'Which beans do you have?');
  const agentPage = await agentSocket(context);
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'rich_message', template_id: 'cards', elements: [{
    title: 'Ethiopia Guji', subtitle: XSS,
    buttons: [
      { type: 'message', text: 'Add to my order', postback_id: 'add_guji' },
      { type: 'url', text: 'Brewing guide', value: `${SITE}/menu.html`, postback_id: 'guide' },
      { type: 'cancel', text: 'Not now', postback_id: 'not_now' },
    ],
  }] } });

  const card = widget.locator('.card');
  await expect(card.locator('.card-title')).toHaveText('Ethiopia Guji');
  await expect(card.locator('.card-subtitle')).toHaveText(XSS);
  expect(await card.locator('img').count()).toBe(0);
  const link = card.getByRole('link', { name: 'Brewing guide' });
  await expect(link).toHaveAttribute('href', `${SITE}/menu.html`);
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', /noopener/);
  await page.screenshot({ path: 'output/rich-card.png' });
  await expectAccessible(widgetFrame(page), 'a rich message card');

  await card.getByRole('button', { name: 'Add to my order' }).click();
  await expect(card.getByRole('button', { name: 'Add to my order' })).toHaveAttribute('aria-pressed', 'true');
  // The button's words are the visitor's answer, and the agents hear the postback.
  await expect(widget.locator('.message.mine .text').last()).toHaveText('Add to my order');
  expect(await chatWhoseLastMessageIs(request, 'Add to my order')).toBe(chatId);
  await expect.poll(async () => (await agentPushes(agentPage, 'incoming_rich_message_postback')).map((p) => p.postback))
    .toEqual([{ id: 'add_guji', toggled: true }]);

  // "Not now" only tells the agents: the earlier choice is taken back, the new one stands.
  await card.getByRole('button', { name: 'Not now' }).click();
  await expect.poll(async () => (await agentPushes(agentPage, 'incoming_rich_message_postback')).map((p) => p.postback))
    .toEqual([{ id: 'add_guji', toggled: true }, { id: 'add_guji', toggled: false }, { id: 'not_now', toggled: true }]);
  await expect(widget.locator('.message.mine')).toHaveCount(2);
  expect(await page.evaluate(() => window.pwned)).toBeUndefined();

  // The choice is still shown on the next page.
  await page.reload();
  const again = page.frameLocator('#confab-root iframe').locator('.card');
  await expect(again.getByRole('button', { name: 'Not now' })).toHaveAttribute('aria-pressed', 'true');
  await expect(again.getByRole('button', { name: 'Add to my order' })).toHaveAttribute('aria-pressed', 'false');
});

test('quick replies are offered until the visitor answers; the answer is their message', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'I would like a bag');
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'rich_message', template_id: 'quick_replies', elements: [{
    title: 'Whole beans or ground?',
    buttons: [
      { type: 'message', text: 'Whole beans', postback_id: 'whole' },
      { type: 'message', text: 'Ground', postback_id: 'ground' },
    ],
  }] } });
  const replies = widget.locator('.quick-replies');
  await expect(replies.locator('.text')).toHaveText('Whole beans or ground?');
  await replies.getByRole('button', { name: 'Ground' }).click();
  await expect(widget.locator('.message.mine .text').last()).toHaveText('Ground');
  await expect(replies.getByRole('button')).toHaveCount(0);
  expect(await chatWhoseLastMessageIs(request, 'Ground')).toBe(chatId);
});
