// On a phone: the chat full screen, inputs at 16 px (iOS zooms into smaller ones), touch
// targets of at least 44 px, and the window fitted above the on-screen keyboard.
const { test, expect } = require('@playwright/test');
const { SITE, agent, agentAvailable, chatWhoseLastMessageIs, say } = require('../lib/confab');

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });

test.beforeEach(async ({ request }) => agentAvailable(request));

test('on a phone the chat fills the screen, is easy to touch, and fits above the keyboard', async ({ page, request }) => {
  // The browser has no keyboard to open here: the page's visual viewport is made to shrink
  // as a keyboard's would (the layout viewport stays as it is, as on a phone).
  await page.addInitScript(() => {
    if (window.top !== window) return;
    const viewport = new EventTarget();
    viewport.height = innerHeight;
    viewport.offsetTop = 0;
    Object.defineProperty(window, 'visualViewport', { value: viewport });
    window.keyboard = (height) => {
      viewport.height = innerHeight - height;
      viewport.dispatchEvent(new Event('resize'));
    };
  });
  await page.goto(`${SITE}/`);
  await page.locator('#confab-root button').tap();
  const frame = page.locator('#confab-root iframe');
  const widget = page.frameLocator('#confab-root iframe');
  await expect(widget.getByRole('button', { name: 'Send' })).toBeEnabled();
  expect(await frame.boundingBox()).toEqual({ x: 0, y: 0, width: 390, height: 844 });

  await say(widget, 'Hello from my phone');
  const chatId = await chatWhoseLastMessageIs(request, 'Hello from my phone');
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Hi! What can I do for you?' } });
  await expect(widget.locator('.message.theirs .text').last()).toHaveText('Hi! What can I do for you?');

  const input = widget.getByLabel('Message', { exact: true });
  expect(await input.evaluate((el) => parseFloat(getComputedStyle(el).fontSize))).toBeGreaterThanOrEqual(16);
  const buttons = widget.locator('.header button:visible, .composer button:visible');
  expect(await buttons.count()).toBeGreaterThan(2);
  for (const button of await buttons.all()) {
    const box = await button.boundingBox();
    const name = await button.getAttribute('aria-label') || await button.textContent();
    expect(Math.min(box.width, box.height), `${name} is at least 44 px`).toBeGreaterThanOrEqual(44);
  }
  await page.screenshot({ path: 'output/widget-phone.png' });

  // The keyboard comes up: the window shrinks to what is left, the composer and the last
  // message stay in sight.
  await input.tap();
  await page.evaluate(() => window.keyboard(320));
  await expect.poll(async () => (await frame.boundingBox()).height).toBe(844 - 320);
  const visible = 844 - 320;
  const inputBox = await input.boundingBox();
  expect(inputBox.y + inputBox.height).toBeLessThanOrEqual(visible);
  await expect(widget.locator('.message.theirs .text').last()).toBeInViewport();
  await page.screenshot({ path: 'output/widget-phone-keyboard.png' });

  // And goes away: full screen again.
  await page.evaluate(() => window.keyboard(0));
  await expect.poll(async () => (await frame.boundingBox()).height).toBe(844);
});
