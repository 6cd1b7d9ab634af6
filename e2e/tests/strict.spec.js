// A site under the strictest policy a page may have: the demo checkout page sends a
// Content-Security-Policy with a fresh nonce (scripts by nonce or from Confab, styles by nonce
// only), `require-trusted-types-for 'script'` with no policy allowed, and careless global CSS
// (hide empty divs, unset every button and iframe, shrink and fade the body's boxes). The
// bubble and the chat work there as anywhere, and nothing is refused on the way.
const { test, expect } = require('@playwright/test');

const { SITE, agent, agentAvailable, chatWhoseLastMessageIs, say } = require('../lib/confab');

test.beforeEach(({ request }) => agentAvailable(request));

test('under a nonce-only CSP with Trusted Types and hostile CSS, the bubble and the chat work without a violation', async ({ page, request }) => {
  // Every refusal the page's policy makes, and every error any frame logs.
  await page.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const errors = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));

  const response = await page.goto(`${SITE}/checkout.html`);
  const csp = response.headers()['content-security-policy'];
  expect(csp).toMatch(/script-src 'nonce-[0-9a-f]{32}' http:\/\/127\.0\.0\.1:\d+; style-src 'nonce-[0-9a-f]{32}';/);
  expect(csp).toContain("require-trusted-types-for 'script'; trusted-types 'none'");

  // The bubble, where it belongs and as it should look, whatever the page's CSS says.
  const launcher = page.locator('#confab-root button');
  await expect(launcher).toBeVisible();
  const viewport = page.viewportSize();
  const box = await launcher.boundingBox();
  expect(box).toEqual({ x: viewport.width - 20 - 56, y: viewport.height - 20 - 56, width: 56, height: 56 });
  expect(await launcher.evaluate((e) => {
    const style = getComputedStyle(e);
    return [style.backgroundColor, getComputedStyle(e.getRootNode().host).opacity];
  })).toEqual(['rgb(79, 70, 229)', '1']);

  // The chat: open, say something, read the agent's answer.
  await launcher.click();
  const frame = page.locator('#confab-root iframe');
  await expect(frame).toBeVisible();
  expect(await frame.boundingBox()).toMatchObject({ width: 370, height: 600 });
  const widget = page.frameLocator('#confab-root iframe');
  await expect(widget.getByLabel('Message')).toBeFocused();
  await say(widget, 'is my order roasted yet?');
  const chatId = await chatWhoseLastMessageIs(request, 'is my order roasted yet?');
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Roasted this morning.' } });
  await expect(widget.locator('.message.theirs .text').last()).toHaveText('Roasted this morning.');

  // Closed, a reply raises the badge on the bubble.
  await launcher.click();
  await expect(frame).toBeHidden();
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'It ships today.' } });
  await expect(page.locator('#confab-root span')).toHaveText('1');
  await page.screenshot({ path: 'output/strict-checkout.png' });

  expect(await page.evaluate(() => window.violations)).toEqual([]);
  expect(errors).toEqual([]);
  // The policy is in force: the page itself may not write markup from a string.
  expect(await page.evaluate(() => {
    try { document.body.innerHTML = '<b>x</b>'; return 'written'; } catch (e) { return e.name; }
  })).toBe('TypeError');
});
