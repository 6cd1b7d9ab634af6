// Link previews: an agent's link to a page gets a card from the server's get_url_info (the
// page's title, description and host); the card is a link, and everything on it is text.
const { test, expect } = require('@playwright/test');
const { SITE, agent, agentAvailable, visitorInChat } = require('../lib/confab');

test.beforeEach(({ request }) => agentAvailable(request));

test('a link to a page shows a card with its title and description', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'where do I order beans?');
  const link = `${SITE}/`;
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: `Right here: ${link}` } });

  const card = widget.locator('.message.theirs a.preview');
  await expect(card.locator('.preview-title')).toHaveText('Northwind Coffee Roasters — Freshly roasted, delivered weekly');
  await expect(card.locator('.preview-description'))
    .toHaveText('Small-batch specialty coffee, roasted to order in Portland and delivered weekly.');
  await expect(card.locator('.preview-host')).toHaveText(new URL(SITE).host);
  await expect(card).toHaveAttribute('href', link);
  await expect(card).toHaveAttribute('target', '_blank');
  await page.locator('#confab-root iframe').screenshot({ path: 'output/preview.png' });

  // A page the server cannot read (nothing listens there): just the link, no card, no error.
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'or http://127.0.0.1:9/shop' } });
  await expect(widget.locator('.message.theirs .text a', { hasText: 'http://127.0.0.1:9/shop' })).toBeVisible();
  await page.waitForTimeout(500);
  await expect(widget.locator('a.preview')).toHaveCount(1);
});
