// The group's forms (e2e/groups.json): a pre-chat form before the first chat, and the ticket
// form while nobody is available, switching back to chat when an agent is.
const { test, expect } = require('@playwright/test');
const { agent, agentAvailable, openWidgetAlone } = require('../lib/confab');

test.beforeEach(({ request }) => agentAvailable(request));

/** The widget alone (as the loader frames it) for `group`. */
const widgetForGroup = (page, request, group) => openWidgetAlone(page, request, { group });

test('a group with a pre-chat form asks before the first chat, field by field', async ({ page, request }) => {
  await widgetForGroup(page, request, 1);
  await expect(page.getByText('Before we start, tell us a little about you.')).toBeVisible();
  await expect(page.getByLabel('Message')).toHaveCount(0);

  await page.getByRole('button', { name: 'Start the chat' }).click();
  await expect(page.locator('.field-error').first()).toHaveText('Your name: please fill this in.');
  await expect(page.getByLabel('Your name *')).toBeFocused();
  await page.getByLabel('Your name *').fill('Grace');
  await page.getByLabel('E-mail *').fill('not an address');
  await page.getByRole('button', { name: 'Start the chat' }).click();
  await expect(page.locator('.field-error:not(:empty)')).toHaveText(['E-mail: please enter an e-mail address.']);
  await page.getByLabel('E-mail *').fill('grace@cafe.example');
  await page.getByLabel('Café size').selectOption({ label: '2–5 shops' });
  await page.screenshot({ path: 'output/prechat.png' });
  await page.getByRole('button', { name: 'Start the chat' }).click();

  // The chat starts with the filled form; the composer takes over.
  await expect(page.getByLabel('Message')).toBeVisible();
  await expect.poll(async () => {
    const { chats_summary } = await agent(request, 'list_chats', {});
    for (const summary of chats_summary) {
      const chat = await agent(request, 'get_chat', { chat_id: summary.id });
      const form = chat.thread?.events.find((e) => e.type === 'filled_form' && e.form_id === 'wholesale-prechat');
      if (form) {
        const customer = chat.users.find((u) => u.type === 'customer');
        return { answers: form.fields.map((f) => f.answer), name: customer.name, email: customer.email };
      }
    }
    return null;
  }).toEqual({
    answers: ['Grace', 'grace@cafe.example', { id: '1', label: '2–5 shops' }],
    name: 'Grace',
    email: 'grace@cafe.example',
  });
});

test('while the group is offline the visitor leaves a ticket; when an agent is back, the chat returns', async ({ page, request }) => {
  const me = 'alex@confab.example';
  await agent(request, 'set_routing_status', { agent_id: me, status: 'not_accepting_chats' });
  try {
    await widgetForGroup(page, request, 2);
    await expect(page.getByText("We're away right now.", { exact: false })).toBeVisible();
    await page.getByLabel('Your name *').fill('Lin');
    await page.getByLabel('E-mail *').fill('lin@example.com');
    await page.getByLabel('Message *').fill('Do you ship to Canada?');
    await page.screenshot({ path: 'output/offline.png' });
    await page.getByRole('button', { name: 'Send message' }).click();
    await expect(page.getByText("Thanks! We'll get back to you by e-mail.")).toBeVisible();

    await agent(request, 'set_routing_status', { agent_id: me, status: 'accepting_chats' });
    await expect(page.getByLabel('Message')).toBeVisible();
  } finally {
    await agent(request, 'set_routing_status', { agent_id: me, status: 'accepting_chats' });
  }
});
