// Files both ways: the visitor attaches by picker, paste or drop and sees the upload's
// progress (and may cancel it); a file over 10 MB is refused before anything is sent; an
// agent's picture shows as a picture.
const { test, expect } = require('@playwright/test');
const { API, AUTH, agent, agentAvailable, visitorInChat, widgetFrame } = require('../lib/confab');

test.beforeEach(({ request }) => agentAvailable(request));

// A 1×1 PNG: the server decides file types from the bytes.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

async function fileEvents(request, chatId) {
  const chat = await agent(request, 'get_chat', { chat_id: chatId });
  return chat.thread.events.filter((e) => e.type === 'file').map((e) => e.name);
}

test('a file picked, pasted or dropped reaches the agent and shows as a picture', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'here is a screenshot');

  await widget.locator('.composer input[type=file]').setInputFiles({ name: 'picked.png', mimeType: 'image/png', buffer: PNG });
  await expect(widget.locator('.message.mine .file.image img[alt="picked.png"]')).toBeVisible();

  // Paste and drop hand the widget a DataTransfer holding a file.
  const frame = widgetFrame(page);
  const bytes = [...PNG];
  await frame.evaluate((bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
    document.querySelector('.composer textarea').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  }, bytes);
  await expect(widget.locator('.message.mine .file.image img[alt="pasted.png"]')).toBeVisible();
  await frame.evaluate((bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'dropped.png', { type: 'image/png' }));
    document.querySelector('.confab').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  }, bytes);
  await expect(widget.locator('.message.mine .file.image img[alt="dropped.png"]')).toBeVisible();

  await expect.poll(() => fileEvents(request, chatId)).toEqual(['picked.png', 'pasted.png', 'dropped.png']);
});

test('a file over 10 MB is refused before any upload starts', async ({ page, request }) => {
  const { widget } = await visitorInChat(page, request, 'sending a big one');
  const uploads = [];
  page.on('request', (r) => { if (r.url().includes('upload_file')) uploads.push(r.url()); });
  await widget.locator('.composer input[type=file]').setInputFiles({
    name: 'huge.zip', mimeType: 'application/zip', buffer: Buffer.alloc(10 * 1024 * 1024 + 1),
  });
  await expect(widget.locator('.message.mine .status.failed')).toHaveText('Not sent: files can be up to 10 MB.');
  expect(uploads).toEqual([]);
});

test('an upload shows its progress and can be canceled', async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'a slow upload');
  // A slow line, so that the upload is still going when the visitor cancels.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 256 * 1024,
  });
  await widget.locator('.composer input[type=file]').setInputFiles({
    name: 'slow.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(4 * 1024 * 1024, 7),
  });
  const progress = widget.locator('.message.mine progress');
  await expect(progress).toBeVisible();
  await expect.poll(async () => Number(await progress.getAttribute('value'))).toBeGreaterThan(0);
  await widget.getByRole('button', { name: 'Cancel' }).click();
  await expect(widget.locator('.message.mine .file')).toHaveCount(0);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  expect(await fileEvents(request, chatId)).toEqual([]);
});

test("an agent's picture shows as a picture and other files as links", async ({ page, request }) => {
  const { widget, chatId } = await visitorInChat(page, request, 'can you send the menu?');
  const upload = async (name, mimeType, buffer) => {
    const response = await request.post(`${API}/v3.6/agent/action/upload_file`, {
      headers: AUTH, multipart: { file: { name, mimeType, buffer } },
    });
    expect(response.status(), await response.text()).toBe(200);
    return (await response.json()).url;
  };
  const picture = await upload('menu.png', 'image/png', PNG);
  const text = await upload('menu.txt', 'text/plain', Buffer.from('Espresso 3.00\n'));
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'file', url: picture } });
  await agent(request, 'send_event', { chat_id: chatId, event: { type: 'file', url: text } });

  await expect(widget.locator('.message.theirs .file.image img')).toHaveAttribute('src', picture);
  const link = widget.locator('.message.theirs a.file:not(.image)');
  await expect(link).toHaveAttribute('href', text);
  await expect(link.locator('.file-name')).toHaveText('menu.txt');
});
