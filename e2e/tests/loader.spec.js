// The loader on the customer's website (origin A): what it loads and stores, and when; the chat
// following the visitor from page to page; the page's attention when an agent answers; the
// keyboard; the page's API (Confab.*, also before the loader runs); theming from the script tag.
// The widget and API live on the Confab origin (B).
const { test, expect } = require('@playwright/test');

const { API, SITE, agent, agentAvailable, chatWhoseLastMessageIs, openWidget, say, organizationId } = require('../lib/confab');

test.beforeEach(({ request }) => agentAvailable(request));

const HOME_TITLE = 'Northwind Coffee Roasters — Freshly roasted, delivered weekly';
const MENU_TITLE = 'Café menu — Northwind Coffee Roasters';

/** Opens the chat with the bubble on the page already loaded, and waits until it is connected. */
async function openHere(page) {
  await page.locator('#confab-root button').click();
  const widget = page.frameLocator('#confab-root iframe');
  await expect(widget.getByRole('button', { name: 'Send' })).toBeEnabled();
  await expect(widget.locator('.notice')).toHaveCount(0);
  return widget;
}

/** The loader's keys in the page's localStorage and sessionStorage. */
function storedKeys(page) {
  return page.evaluate(() => [localStorage, sessionStorage]
    .flatMap((storage) => Object.keys(storage).map((key) => `${key}=${storage.getItem(key)}`))
    .filter((entry) => entry.startsWith('confab')));
}

/**
 * A page of the customer's site with a script tag of its own: the site's home page, its own
 * loader refused, then `html` written over it (same document, origin and address space: a page
 * served by `page.route` would be refused the loopback server by Chromium's local network
 * access rules).
 */
async function sitePage(page, html) {
  await page.route(`${API}/confab.js`, (route) => route.abort(), { times: 1 });
  await page.goto(`${SITE}/`);
  expect(await page.evaluate(() => window.Confab)).toBeUndefined();
  await page.setContent(html);
}

/** The bubble, the window, and which of them has the focus (inside the shadow root). */
const launcher = (page) => page.locator('#confab-root button');
const frameElement = (page) => page.locator('#confab-root iframe');
const focusedInShadow = (page) =>
  page.evaluate(() => document.getElementById('confab-root').shadowRoot.activeElement?.tagName ?? null);

test('nothing is loaded or stored before the visitor shows intent', async ({ page }) => {
  const widgetRequests = [];
  page.on('request', (r) => { if (r.url().startsWith(`${API}/widget`)) widgetRequests.push(r.url()); });
  await page.goto(`${SITE}/`);
  await expect(launcher(page)).toBeVisible();
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'false');
  expect(await frameElement(page).count()).toBe(0);
  expect(widgetRequests).toEqual([]);
  expect(await storedKeys(page)).toEqual([]);

  // Hovering loads the widget (hidden) but stores nothing: the visitor has no chat yet.
  await launcher(page).hover();
  await expect(frameElement(page)).toHaveCount(1);
  await expect(frameElement(page)).toBeHidden();
  expect(await storedKeys(page)).toEqual([]);
});

test('after chatting, the next page loads the chat at once and an agent reply gets attention', async ({ page, request }) => {
  const widget = await openWidget(page);
  await say(widget, 'do you sell decaf?');
  await expect.poll(() => storedKeys(page)).toContain('confab:chatting=1');
  const chatId = await chatWhoseLastMessageIs(request, 'do you sell decaf?');

  // The visitor closes the chat and goes to another page of the site, the pointer far from
  // the bubble (hovering it would load the widget anyway).
  await widget.getByRole('button', { name: 'Minimize chat' }).click();
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'false');
  await page.mouse.move(5, 5);
  await page.getByRole('link', { name: 'Café menu' }).click();
  await expect(page).toHaveURL(`${SITE}/menu.html`);
  await expect(page).toHaveTitle(MENU_TITLE);

  // No intent on this page, yet the widget is there, closed, and connected.
  await expect(frameElement(page)).toHaveCount(1);
  await expect(frameElement(page)).toBeHidden();
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'false');
  const hidden = page.frameLocator('#confab-root iframe');
  await expect(hidden.locator('.message.mine .text')).toHaveText('do you sell decaf?');

  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'We do: a Swiss Water Colombia.' } });
  const badge = page.locator('#confab-root span');
  await expect(badge).toHaveText('1');
  await expect(badge).toBeVisible();
  // The title alternates between "(1) New message" and the page's own, every second.
  await expect(page).toHaveTitle('(1) New message');
  await expect(page).toHaveTitle(MENU_TITLE);
  await expect(page).toHaveTitle('(1) New message');

  // Opening the chat restores the page's exact title, for good.
  await launcher(page).click();
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'true');
  await expect(hidden.locator('.message.theirs .text')).toHaveText('We do: a Swiss Water Colombia.');
  await expect(page).toHaveTitle(MENU_TITLE);
  await page.waitForTimeout(1500); // longer than one flash period
  await expect(page).toHaveTitle(MENU_TITLE);
  await expect(badge).toBeHidden();
});

test('a chat open when the visitor leaves a page is open on the next one', async ({ page }) => {
  await openWidget(page);
  await expect.poll(() => storedKeys(page)).toEqual(['confab:open=1']);

  // (The open window covers the site's menu link, so by the address bar.)
  await page.goto(`${SITE}/menu.html`);
  await expect(page).toHaveURL(`${SITE}/menu.html`);
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'true');
  await expect(frameElement(page)).toBeVisible();
  const widget = page.frameLocator('#confab-root iframe');
  await expect(widget.getByRole('button', { name: 'Send' })).toBeEnabled();

  // Closed, it stays closed; and without a chat the next page does not load the widget.
  await launcher(page).click();
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'false');
  expect(await storedKeys(page)).toEqual([]);
  await page.mouse.move(5, 5);
  await page.getByRole('link', { name: 'Shop' }).click();
  await expect(page).toHaveTitle(HOME_TITLE);
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'false');
  expect(await frameElement(page).count()).toBe(0);
});

test('the keyboard: focus moves into the chat, tab order follows the screen, Escape on the page is the page\'s', async ({ page }) => {
  await page.goto(`${SITE}/`);
  await launcher(page).focus();
  await page.keyboard.press('Enter');
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'true');
  await expect(launcher(page)).toHaveAttribute('aria-label', 'Close chat');
  // The window shows, and takes the focus, once the widget in it is ready.
  await expect.poll(() => focusedInShadow(page)).toBe('IFRAME');
  const widget = page.frameLocator('#confab-root iframe');
  await expect(widget.getByLabel('Message')).toBeFocused();

  // The window sits above the bubble, and comes before it in the tab order.
  const order = await page.evaluate(() => {
    const root = document.getElementById('confab-root').shadowRoot;
    return [...root.querySelectorAll('iframe, button')].map((e) => e.tagName);
  });
  expect(order).toEqual(['IFRAME', 'BUTTON']);
  await launcher(page).focus();
  await page.keyboard.press('Shift+Tab');
  expect(await focusedInShadow(page)).toBe('IFRAME');

  // Escape pressed on the page (focus outside the chat) is the page's: the site's own dialog
  // may be what it closes. The chat stays open; the bubble closes it.
  await page.getByRole('heading', { name: 'Freshly roasted, delivered weekly' }).click();
  expect(await focusedInShadow(page)).toBeNull();
  await page.keyboard.press('Escape');
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'true');
  await launcher(page).click();
  await expect(launcher(page)).toHaveAttribute('aria-label', 'Open chat');
  await expect(frameElement(page)).toBeHidden();
  const box = await launcher(page).boundingBox();
  expect(Math.min(box.width, box.height)).toBeGreaterThanOrEqual(44); // touch target
});

test('Escape inside the chat closes it and focuses the bubble', async ({ page }) => {
  const widget = await openWidget(page);
  await widget.getByLabel('Message').focus();
  await widget.getByLabel('Message').press('Escape');
  await expect(launcher(page)).toHaveAttribute('aria-expanded', 'false');
  await expect(launcher(page)).toBeFocused();
});

test('page API calls queued before the loader runs reach the widget and the agent', async ({ page, request }) => {
  // The usual snippet, in the page before the loader's script tag has run.
  await page.addInitScript((site) => {
    if (location.origin !== site) return; // init scripts run in the widget's frame too
    window.Confab = window.Confab || function () { (Confab.q = Confab.q || []).push(arguments); };
    Confab('setCustomerName', 'Ada');
    Confab('setSessionVariables', { plan: 'pro', seats: 3 });
    Confab('on', 'ready', () => { window.confabReady = (window.confabReady || 0) + 1; });
    Confab('noSuchMethod'); // ignored
  }, SITE);
  await page.goto(`${SITE}/`);
  await expect(launcher(page)).toBeVisible();
  expect(await page.evaluate(() => typeof window.Confab.setCustomerEmail)).toBe('function');
  // Queued page data does not load the widget by itself.
  expect(await frameElement(page).count()).toBe(0);

  const widget = await openHere(page);
  await expect.poll(() => page.evaluate(() => window.confabReady)).toBe(1);
  await say(widget, 'hi, this is Ada');
  const chatId = await chatWhoseLastMessageIs(request, 'hi, this is Ada');
  const { users } = await agent(request, 'get_chat', { chat_id: chatId });
  const customerId = users.find((u) => u.type === 'customer').id;
  await expect.poll(async () => (await agent(request, 'get_customer', { id: customerId })).name).toBe('Ada');
  const customer = await agent(request, 'get_customer', { id: customerId });
  expect(customer.session_fields).toEqual([{ plan: 'pro' }, { seats: '3' }]);

  // Made after the loader ran, in the snippet's style, a call goes straight through.
  await page.evaluate(() => window.Confab('setCustomerEmail', 'ada@example.com'));
  await expect.poll(async () => (await agent(request, 'get_customer', { id: customerId })).email).toBe('ada@example.com');
});

test('the script tag themes the bubble: left side, colour, offsets, language; odd values are ignored', async ({ page, request }) => {
  const org = await organizationId(request);
  await sitePage(page, `<!doctype html><html lang="de"><title>Themed</title><body>
    <script src="${API}/confab.js" data-organization-id="${org}" data-position="left" data-color="#e11d48"
      data-offset-x="40" data-offset-y="30" data-z-index="5" data-lang="fr" async></script>`);
  const viewport = page.viewportSize();
  const box = await launcher(page).boundingBox();
  expect(box.x).toBe(40);
  expect(viewport.height - (box.y + box.height)).toBe(30);
  expect(await launcher(page).evaluate((e) => [getComputedStyle(e).backgroundColor, getComputedStyle(e).zIndex]))
    .toEqual(['rgb(225, 29, 72)', '5']);

  await launcher(page).click();
  await expect(frameElement(page)).toBeVisible();
  const frameBox = await frameElement(page).boundingBox();
  expect(frameBox.x).toBe(40);
  const src = new URL(await frameElement(page).getAttribute('src'));
  expect(src.searchParams.get('color')).toBe('rgb(225, 29, 72)');
  expect(src.searchParams.get('lang')).toBe('fr');

  // Nothing odd gets through: defaults instead (right side, the house colour, the page's language).
  await sitePage(page, `<!doctype html><html lang="pt-BR"><title>Odd</title><body>
    <script src="${API}/confab.js" data-organization-id="${org}" data-position="middle"
      data-color="red;background:url(https://evil.example/x)" data-offset-x="1e3" data-z-index="9;top:0"
      data-lang="&quot;><script>" async></script>`);
  const oddBox = await launcher(page).boundingBox();
  expect(viewport.width - (oddBox.x + oddBox.width)).toBe(20);
  expect(await launcher(page).evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(79, 70, 229)');
  await launcher(page).hover();
  const oddSrc = new URL(await frameElement(page).getAttribute('src'));
  expect(oddSrc.searchParams.get('color')).toBe('rgb(79, 70, 229)'); // the house colour
  expect(oddSrc.searchParams.get('lang')).toBe('"><script>'); // as given: the widget refuses it
  expect(oddSrc.searchParams.get('page-lang')).toBe('pt-BR'); // and speaks the page's language

  // The page's own CSS may set the colour too.
  await sitePage(page, `<!doctype html><html><title>CSS</title>
    <style>#confab-root { --confab-color: #0a0; }</style><body>
    <script src="${API}/confab.js" data-organization-id="${org}" async></script>`);
  await expect(launcher(page)).toBeVisible();
  expect(await launcher(page).evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(0, 170, 0)');
  await launcher(page).hover();
  const cssSrc = new URL(await frameElement(page).getAttribute('src'));
  expect(cssSrc.searchParams.get('color')).toBe('rgb(0, 170, 0)');
  expect(cssSrc.searchParams.get('page-lang')).toBe(''); // the page has no lang
});

test("the script tag gives the launcher the site's picture and label, and the window the site's words", async ({ page, request }) => {
  const org = await organizationId(request);
  const icon = 'data:image/svg+xml,' + encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="#fbbf24"/></svg>');
  await sitePage(page, `<!doctype html><html lang="en"><title>Beans</title><body>
    <script src="${API}/confab.js" data-organization-id="${org}" data-launcher-icon="${icon}"
      data-label="Ask a roaster" data-title="Roastery help" data-subtitle="Real people, real coffee"
      data-welcome="&lt;b&gt;Hello&lt;/b&gt;, bean lover!" async></script>`);
  const picture = launcher(page).locator('img');
  await expect(picture).toHaveAttribute('src', icon);
  expect(await picture.evaluate((img) => img.complete && img.naturalWidth > 0)).toBe(true);
  await expect(launcher(page)).toHaveAttribute('aria-label', 'Ask a roaster');

  await launcher(page).click();
  const widget = page.frameLocator('#confab-root iframe');
  await expect(widget.locator('.header h1')).toHaveText('Roastery help');
  await expect(widget.locator('.header .subtitle')).toHaveText('Real people, real coffee');
  // The site's words are text: markup in them shows as written.
  await expect(widget.locator('.empty')).toHaveText('<b>Hello</b>, bean lover!');
  await expect(widget.locator('.empty b')).toHaveCount(0);
  await expect(picture).toBeHidden(); // the open bubble shows its ×
  await page.screenshot({ path: 'output/loader-site-texts.png' });

  // A picture from anywhere but https: or data:image is not taken.
  await sitePage(page, `<!doctype html><html><title>Odd</title><body>
    <script src="${API}/confab.js" data-organization-id="${org}" data-launcher-icon="javascript:alert(1)" async></script>`);
  await expect(launcher(page)).toBeVisible();
  await expect(launcher(page).locator('img')).toHaveCount(0);
  await page.evaluate(() => window.Confab.close()); // it was open on the page before
  await expect(launcher(page)).toHaveAttribute('aria-label', 'Open chat');
});

test('a short window (200 % zoom) or a phone gets the chat full screen', async ({ page }) => {
  await page.setViewportSize({ width: 900, height: 500 });
  await page.goto(`${SITE}/`);
  await launcher(page).click();
  await expect(frameElement(page)).toBeVisible();
  expect(await frameElement(page).boundingBox()).toEqual({ x: 0, y: 0, width: 900, height: 500 });
  await expect(launcher(page)).toBeHidden();
});

test('with data-sound="on", an agent reply to a closed chat beeps', async ({ page, request }) => {
  // Counts the tones the widget's frame starts (Web Audio, nothing downloaded; the loader
  // delegates autoplay to the frame).
  await page.addInitScript((api) => {
    if (location.origin !== api) return;
    window.tones = 0;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...args) { window.tones++; return start.apply(this, args); };
  }, API);
  const org = await organizationId(request);
  await sitePage(page, `<!doctype html><html lang="en"><title>Sound</title><body>
    <script src="${API}/confab.js" data-organization-id="${org}" data-sound="on" async></script>`);
  const widget = await openHere(page);
  await say(widget, 'ring me');
  const chatId = await chatWhoseLastMessageIs(request, 'ring me');
  await widget.getByRole('button', { name: 'Minimize chat' }).click();
  const tones = () => page.frame({ url: /\/widget\// }).evaluate(() => window.tones);
  expect(await tones()).toBe(0);
  expect(await frameElement(page).getAttribute('allow')).toBe('autoplay');

  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'message', text: 'Ring ring' } });
  await expect.poll(tones).toBe(1);
  await expect(page).toHaveTitle('(1) New message');
});

test('data-consent reaches the window, which asks before it connects', async ({ page, request }) => {
  const org = await organizationId(request);
  await sitePage(page, `<!doctype html><html lang="en"><title>Consent</title><body>
    <script src="${API}/confab.js" data-organization-id="${org}" data-consent="Transcripts are kept." async></script>`);
  await launcher(page).click();
  const widget = page.frameLocator('#confab-root iframe');
  await expect(widget.locator('#consent-text')).toHaveText('Transcripts are kept.');
  await expect(widget.getByRole('button', { name: 'Accept and chat' })).toBeFocused();
});
