// The optional consent step (data-consent): until the visitor accepts, the widget asks for no
// token, opens no socket and stores nothing; a yes is remembered, a no stores nothing and can
// be taken back.
const { test, expect } = require('@playwright/test');
const { agentAvailable, openWidgetAlone } = require('../lib/confab');
const { expectAccessible } = require('../lib/a11y');

test.beforeEach(({ request }) => agentAvailable(request));

const SITE_TEXT = 'We keep <b>chat</b> transcripts for 30 days. OK?';

test('nothing connects or is stored before the visitor accepts; a yes is remembered', async ({ page, request }) => {
  const contacts = [];
  page.on('request', (r) => r.url().includes('/customer/token') && contacts.push(r.url()));
  page.on('websocket', (ws) => contacts.push(ws.url()));
  await openWidgetAlone(page, request, { consent: SITE_TEXT });

  // The site's words, as text, and the choice, with the keyboard on it.
  await expect(page.locator('#consent-text')).toHaveText(SITE_TEXT);
  await expect(page.locator('.consent b')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Accept and chat' })).toBeFocused();
  await expect(page.getByLabel('Message', { exact: true })).toHaveCount(0);
  await expectAccessible(page.mainFrame(), 'the consent step');
  await page.screenshot({ path: 'output/consent.png' });

  // No: the chat stays off, still nothing asked or kept.
  await page.getByRole('button', { name: 'No thanks' }).click();
  await expect(page.getByText('Understood: the chat stays off and nothing was stored.')).toBeVisible();
  await expectAccessible(page.mainFrame(), 'consent declined');
  await page.waitForTimeout(500);
  expect(contacts).toEqual([]);
  expect(await page.evaluate(() => localStorage.length)).toBe(0);

  // Changed their mind: yes, and the chat works.
  await page.getByRole('button', { name: 'Chat after all' }).click();
  await page.getByRole('button', { name: 'Accept and chat' }).click();
  const message = page.getByLabel('Message', { exact: true });
  await message.fill('hello after consent');
  await message.press('Enter');
  await expect(page.locator('.message.mine .receipt')).toHaveText('Sent');
  expect(contacts.length).toBeGreaterThan(0);

  // Remembered: the next page connects at once.
  await page.reload();
  await expect(page.locator('.consent')).toHaveCount(0);
  await expect(page.locator('.message.mine .text')).toHaveText('hello after consent');
});

test('an empty data-consent asks in the widget\'s own words', async ({ page, request }) => {
  await openWidgetAlone(page, request, { consent: '', lang: 'de' });
  await expect(page.locator('#consent-text')).toHaveText(/Der Chat speichert eine Kennung/);
  await expect(page.getByRole('button', { name: 'Zustimmen und chatten' })).toBeVisible();
});
