// Tickets in a real browser against a real kefud (issue 19): an agent registers a ticket about a
// Shanghai customer, it moves through three people (the agent, the branch manager, the agent's
// 回访) with the process diagram following it; a ticket whose deadline passes shows its countdown
// gone red and its escalation to the team leader. The SLA minute lasts 200 ms on this kefud.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD, SHOTS, apiLogin, launchBrowser, openAs, startKefud, STAFF_PASSWORD } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startKefud({ KEFU_TICKET_MINUTE_MS: '200', KEFU_TICKET_TIMER_POLL_MS: '50' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const open = (username, path) => openAs(browser, server.base, username, path);

async function completeStep(page, node) {
  const row = page.getByTestId(`task-actions-${node}`);
  await row.getByTestId('task-complete').click();
  await page.getByTestId('task-comment').fill(`${node} 已办理`);
  await page.getByTestId('task-submit').click();
  await page.locator(`[data-testid="wf-node-${node}"][data-current="false"]`).waitFor();
}

test('a ticket about a customer goes from the agent to the branch and back, the diagram following it', async () => {
  const sh = await apiLogin(server.base, 'zhoujun1', STAFF_PASSWORD);
  const customer = (await sh('GET', '/crm/customers?page_size=1')).body.items[0].id;

  const agent = await open('liuyang', '/tickets');
  await agent.getByTestId('ticket-new').click();
  await agent.getByTestId('ticket-type').click();
  await agent.locator('.ant-select-item-option', { hasText: '咨询' }).click();
  await agent.getByTestId('ticket-subject').fill('客户咨询融资融券开户条件');
  await agent.getByTestId('ticket-customer').fill(String(customer));
  await agent.getByTestId('ticket-submit').click();
  await agent.waitForURL(/\/tickets\/\d+$/);
  const id = agent.url().split('/').pop();
  await agent.locator('[data-testid="wf-node-accept"][data-current="true"]').waitFor();
  await completeStep(agent, 'accept');
  await agent.locator('[data-testid="wf-node-handle"][data-current="true"]').waitFor();

  // The Shanghai branch manager finds it in 我的待办 and handles it.
  const manager = await open('zhoujun1', '/tickets');
  const no = (await sh('GET', `/tickets/${id}`)).body.no;
  await manager.getByTestId(`ticket-${no}`).click();
  await manager.waitForURL(new RegExp(`/tickets/${id}$`));
  await completeStep(manager, 'handle');

  // Back to the agent for the 回访; the page updates by itself.
  await agent.locator('[data-testid="wf-node-visit"][data-current="true"]').waitFor();
  await completeStep(agent, 'visit');
  await agent.locator('[data-testid="ticket-status"][data-status="closed"]').waitFor();
  assert.equal(await agent.getByTestId('wf-node-e').getAttribute('data-visited'), 'true');
  const history = await agent.getByTestId('ticket-history').textContent();
  assert.match(history, /登记/);
  assert.match(history, /handle 已办理/);
  await agent.screenshot({ path: join(SHOTS, 'ticket-closed.png'), fullPage: true });
});

test('a ticket past its deadline turns red and is escalated to the team leader', async () => {
  const admin = await apiLogin(server.base, 'admin', ADMIN_PASSWORD);
  // 10 SLA minutes = 2 s here; escalation every 5 minutes = 1 s.
  const r = await admin('POST', '/ticket_type', { code: 'callback', name: '回电', workflow: 'general', prefix: 'HD',
    resolve_amount: 10, resolve_unit: 'minutes', escalate_every_minutes: 5 });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const liu = await apiLogin(server.base, 'liuyang', STAFF_PASSWORD);
  const t = await liu('POST', '/tickets', { type: 'callback', title: '客户要求回电' });
  assert.equal(t.status, 201, JSON.stringify(t.body));

  const lead = await open('lina', '/tickets');
  await lead.getByTestId('ticket-view-overdue').click();
  await lead.getByTestId(`ticket-${t.body.no}`).waitFor({ timeout: 30000 });
  await lead.getByTestId(`ticket-${t.body.no}`).click();
  await lead.locator('[data-testid="ticket-sla"][data-overdue="true"]').waitFor();
  await lead.getByTestId('ticket-history').filter({ hasText: '超时升级' }).waitFor({ timeout: 30000 });
  assert.ok(Number(await lead.getByTestId('ticket-escalation').textContent()) >= 1);
  await lead.screenshot({ path: join(SHOTS, 'ticket-overdue.png'), fullPage: true });
});
