// The post-chat survey (e2e/groups.json, group 3): when the agent ends the chat the window asks
// it first, sends the answers into the conversation that ended (the agent reads them there),
// or lets the visitor skip it; then comes the rating, then "start a new chat".
const { test, expect } = require('@playwright/test');
const { agent, agentAvailable, chatWhoseLastMessageIs, openWidgetAlone } = require('../lib/confab');
const { expectAccessible } = require('../lib/a11y');

test.beforeEach(({ request }) => agentAvailable(request));

/** A visitor of group 3 who said `text`, and the agent who then ended the chat. */
async function endedChat(page, request, text) {
  await openWidgetAlone(page, request, { group: 3 });
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(page.locator('.message.mine .receipt')).toHaveText('Sent');
  const chatId = await chatWhoseLastMessageIs(request, text);
  await agent(request, 'deactivate_chat', { id: chatId, ignore_requester_presence: true });
  await expect(page.getByText('Before you go: a few words about this chat?')).toBeVisible();
  return chatId;
}

test('the survey is asked when the chat ends, and the agent reads the answers in that conversation', async ({ page, request }) => {
  const chatId = await endedChat(page, request, 'which beans for espresso?');
  await expect(page.locator('.rating')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Start a new chat' })).toBeVisible();

  // Required: it says so instead of sending.
  await page.getByRole('button', { name: 'Send answers' }).click();
  await expect(page.locator('.field-error:not(:empty)')).toHaveCount(1);
  await page.getByLabel('Yes').check();
  await page.getByLabel('What could we do better?').fill('<img src=x onerror=alert(1)> more decaf');
  await expectAccessible(page.mainFrame(), 'the post-chat survey');
  await page.screenshot({ path: 'output/survey.png' });
  await page.getByRole('button', { name: 'Send answers' }).click();

  // Then the rating.
  await expect(page.locator('.rating')).toBeVisible();
  await expect(page.locator('.survey')).toHaveCount(0);
  const { threads } = await agent(request, 'list_threads', { chat_id: chatId });
  const form = threads[0].events.find((e) => e.type === 'filled_form' && e.form_id === 'tasting-survey');
  expect(form.fields.map((f) => f.answer)).toEqual([{ id: '0', label: 'Yes' }, '<img src=x onerror=alert(1)> more decaf']);

  // Answered once: a reload does not ask again.
  await page.reload();
  await expect(page.locator('.rating')).toBeVisible();
  await expect(page.locator('.survey')).toHaveCount(0);
});

test('the visitor may skip the survey and go on to the rating and a new chat', async ({ page, request }) => {
  const chatId = await endedChat(page, request, 'do you ship to Norway?');
  await page.getByRole('button', { name: 'Skip' }).click();
  await expect(page.locator('.rating')).toBeVisible();
  await page.getByRole('button', { name: 'Start a new chat' }).click();
  await expect(page.getByLabel('Message', { exact: true })).toBeVisible();
  const { threads } = await agent(request, 'list_threads', { chat_id: chatId });
  expect(threads[0].events.some((e) => e.type === 'filled_form')).toBe(false);
});
