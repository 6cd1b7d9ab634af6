// Greetings: an agent's invitation to chat (here from a greeting rule for pages whose address
// contains `offer=beans`, e2e/greetings.json). On a site that opts in (data-greetings="on") a
// greeting to show counts as intent: the loader asks the server whether a rule may greet on the
// page, loads the widget only then, and shows the card above the bubble with the window closed.
// Reply takes it up (the chat starts with the greeting's words); × closes it for good.
const { test, expect } = require('@playwright/test');

const { API, SITE, agent, agentAvailable, chatWhoseLastMessageIs, organizationId, say, widgetFrame } = require('../lib/confab');
const { expectAccessible } = require('../lib/a11y');

test.beforeEach(({ request }) => agentAvailable(request));

const GREETING = 'Looking for beans? I can help you choose.';
const launcher = (page) => page.locator('#confab-root button');
const frameElement = (page) => page.locator('#confab-root iframe');
const widget = (page) => page.frameLocator('#confab-root iframe');

/** The site's page at `path` with a script tag that opts in to greetings; the page's own
 * `Confab.on('greeting')` is queued before the loader runs (the snippet's way). */
async function greetingSite(page, request, path) {
  const org = await organizationId(request);
  await page.route(`${API}/confab.js`, (route) => route.abort(), { times: 1 });
  await page.goto(`${SITE}${path}`);
  const greets = page.waitForResponse((r) => r.url().startsWith(`${API}/v1/greets`));
  await page.setContent(`<!doctype html><html lang="en"><title>Beans</title><body>
    <script>window.Confab = function () { (Confab.q = Confab.q || []).push(arguments) };
      Confab('on', 'greeting', (g) => { window.greeted = g.text });</script>
    <script src="${API}/confab.js" data-organization-id="${org}" data-greetings="on" async></script>`);
  return (await greets).json();
}

test('on a page a rule greets, the card shows above the closed bubble; Reply starts the chat with it', async ({ page, request }) => {
  expect(await greetingSite(page, request, '/?offer=beans')).toEqual({ greets: true });
  const card = widget(page).locator('.greeting');
  await expect(card).toContainText(GREETING);
  await expect(card).toContainText('Alex Morgan');
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'false');
  const box = await frameElement(page).boundingBox();
  expect(box.height).toBe(150); // the card alone, not the window
  await expect.poll(() => page.evaluate(() => window.greeted)).toBe(GREETING);
  await page.screenshot({ path: 'output/greeting.png' });
  await expectAccessible(widgetFrame(page), 'the greeting card');

  await card.getByRole('button', { name: 'Reply' }).click();
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'true');
  const theirs = widget(page).locator('.message.theirs .text');
  await expect(theirs.first()).toHaveText(GREETING);
  await expect(widget(page).getByLabel('Message', { exact: true })).toBeFocused();
  await say(widget(page), 'Espresso, please');

  // The agent's chat: the greeting's words, then the visitor's answer.
  const chatId = await chatWhoseLastMessageIs(request, 'Espresso, please');
  const { thread } = await agent(request, 'get_chat', { chat_id: chatId });
  const texts = thread.events.filter((e) => e.type === 'message').map((e) => e.text);
  expect(texts).toEqual([GREETING, 'Espresso, please']);
});

test('a message typed in the open window answers the greeting shown there', async ({ page, request }) => {
  await greetingSite(page, request, '/?offer=beans');
  await expect(widget(page).locator('.greeting')).toBeVisible();
  await launcher(page).click();
  const inWindow = widget(page).locator('main .greeting');
  await expect(inWindow).toContainText(GREETING);
  await say(widget(page), 'Which beans for filter?');
  await expect(inWindow).toHaveCount(0);
  const chatId = await chatWhoseLastMessageIs(request, 'Which beans for filter?');
  const { thread, users } = await agent(request, 'get_chat', { chat_id: chatId });
  expect(thread.events.filter((e) => e.type === 'message').map((e) => e.text)).toEqual([GREETING, 'Which beans for filter?']);
  expect(users.some((u) => u.id === 'alex@confab.example')).toBe(true);
});

test('closing the card cancels the greeting: it does not come back on the next page', async ({ page, request }) => {
  await greetingSite(page, request, '/?offer=beans');
  const card = widget(page).locator('.greeting');
  await card.getByRole('button', { name: 'Close this message' }).click();
  await expect(frameElement(page)).toBeHidden();
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'false');

  // The next page: the rule has greeted this visitor already, and the canceled greeting stays gone.
  await greetingSite(page, request, '/?offer=beans');
  await launcher(page).click();
  await expect(widget(page).getByRole('button', { name: 'Send' })).toBeEnabled();
  await expect(widget(page).locator('.notice')).toHaveCount(0);
  await expect(widget(page).locator('.greeting')).toHaveCount(0);
});

test('where no rule greets, an opted-in site still loads nothing before intent', async ({ page, request }) => {
  expect(await greetingSite(page, request, '/?offer=tea')).toEqual({ greets: false });
  await expect(launcher(page)).toBeVisible();
  expect(await frameElement(page).count()).toBe(0);
});
