// Accessibility: axe-core (e2e/lib/a11y.js) in each state a visitor meets, on both sides of the
// frame: the launcher on the host page (in its open shadow root) and the widget's own document.
// A violation of impact `serious` or `critical` fails the test, listed rule by rule with the
// elements it was found on.
const { test, expect } = require('@playwright/test');
const { SITE, agent, agentAvailable, openWidgetAlone, visitorInChat, widgetFrame } = require('../lib/confab');
const { expectAccessible } = require('../lib/a11y');

test.beforeEach(({ request }) => agentAvailable(request));

/** The launcher on the host page: the bubble and the window's frame, in its shadow root. (The
 * demo site around it is not the widget's, and is left out.) */
const launcherIsAccessible = (page, state) =>
  expectAccessible(page, `the launcher on the host page (${state})`, '#confab-root');
/** The widget's document, in the launcher's frame. */
const widgetIsAccessible = (page, state) => expectAccessible(widgetFrame(page), `the widget (${state})`);

test('the closed bubble on the demo site', async ({ page }) => {
  await page.goto(`${SITE}/`);
  await expect(page.locator('#confab-root button')).toBeVisible();
  await launcherIsAccessible(page, 'closed');
});

test('an open chat with messages from the visitor and the agent', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'is the Ethiopian roast in stock?');
  const reply = 'Yes: https://shop.example/ethiopia';
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: reply } });
  await expect(widget.locator('.message.theirs .text')).toHaveText(reply);
  await expect(widget.locator('.header h1')).toHaveText('Alex Morgan');
  await expect(widget.locator('.message.mine .receipt')).toHaveText('Sent');
  // Screen readers hear each arrival with its author, from a live region of its own.
  const live = widget.getByRole('log');
  await expect(live.locator('p').last()).toHaveText(`Alex Morgan said: ${reply}`);
  await expect(live.locator('p').first()).toHaveText('You said: is the Ethiopian roast in stock?');
  await launcherIsAccessible(page, 'open');
  await widgetIsAccessible(page, 'open chat');
});

test('the pre-chat form, empty and with its errors', async ({ page, request }) => {
  await openWidgetAlone(page, request, { group: 1 });
  await expect(page.getByText('Before we start, tell us a little about you.')).toBeVisible();
  await expectAccessible(page, 'the widget (pre-chat form)');
  await page.getByRole('button', { name: 'Start the chat' }).click();
  await expect(page.locator('.field-error').first()).toHaveText('Your name: please fill this in.');
  await expectAccessible(page, 'the widget (pre-chat form with errors)');
});

test('the ticket form while the group is offline', async ({ page, request }) => {
  const me = 'alex@confab.example';
  await agent(request, 'set_routing_status', { agent_id: me, status: 'not_accepting_chats' });
  try {
    await openWidgetAlone(page, request, { group: 2 });
    await expect(page.getByText("We're away right now.", { exact: false })).toBeVisible();
    await expectAccessible(page, 'the widget (ticket form)');
  } finally {
    await agent(request, 'set_routing_status', { agent_id: me, status: 'accepting_chats' });
  }
});

test('the ended chat with its rating panel', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'that is all, thanks');
  await agent(request, 'deactivate_chat', { id: chatId, ignore_requester_presence: true });
  await expect(widget.getByText('How was this chat?')).toBeVisible();
  await widgetIsAccessible(page, 'ended, asking for a rating');
  await widget.getByRole('button', { name: 'Good' }).click();
  await expect(widget.getByLabel('Add a comment (optional)')).toBeVisible();
  await widgetIsAccessible(page, 'ended, rated, with the comment box');
});

test('dark mode', async ({ page, request }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  const { widget, chatId } = await visitorInChat(page, request, 'still open at night?');
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Until ten.' } });
  await expect(widget.locator('.message.theirs .text')).toHaveText('Until ten.');
  expect(await widgetFrame(page).evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(22, 24, 29)');
  await launcherIsAccessible(page, 'dark, open');
  await widgetIsAccessible(page, 'dark, open chat');
});

test('Arabic, right to left', async ({ page, request }) => {
  await openWidgetAlone(page, request, { lang: 'ar' }, 640);
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(page.getByRole('button', { name: 'إرسال' })).toBeEnabled();
  await page.getByLabel('الرسالة').fill('مرحبا، هل القهوة متوفرة؟');
  await page.getByLabel('الرسالة').press('Enter');
  await expect(page.locator('.message.mine .receipt')).toHaveText('تم الإرسال');
  await expectAccessible(page, 'the widget (Arabic, right to left)');
});
