// The agent desktop and the supervisor wallboard in real browsers against a real kefud on the
// simulator switch (issue 4): two agents and a supervisor take a call through offer, answer,
// hold, an identity check in the IVR, monitoring, consultation, conference, wrap-up and a takeover.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SHOTS, button, launchBrowser, openAs, startKefud } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startKefud({ KEFU_CTI_RING_TIMEOUT_S: '30', KEFU_CTI_WRAP_UP_S: '3' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const open = (username, path) => openAs(browser, server.base, username, path);


async function stateIs(page, state) {
  await page.locator(`[data-testid="agent-state"][data-state="${state}"]`).waitFor();
}

async function supervise(page, agent, action) {
  if (action === '结束监控') return button(page, action).click();
  await button(page.getByTestId(`actions-${agent}`), action).click();
}

test('two agents and a supervisor take a call from offer to takeover', async () => {
  const liu = await open('liuyang', '/desk');
  const chen = await open('chenjing', '/desk');
  const lina = await open('lina', '/wallboard');

  await stateIs(liu, 'signed_out');
  await button(liu, '签入').click();
  await stateIs(liu, 'not_ready');
  await button(liu, '就绪').click();
  await stateIs(liu, 'ready');
  await button(chen, '签入').click();
  await button(chen, '就绪').click();
  await stateIs(chen, 'ready');

  // A customer calls the hotline (simulator switch); the longest-idle agent is offered the call.
  await lina.getByTestId('sim-call').getByRole('button', { name: /^呼 ?入$/ }).click();
  await stateIs(liu, 'reserved');
  assert.equal(await liu.getByTestId('call-ani').textContent(), '13912345678');
  await button(liu, '接听').click();
  await stateIs(liu, 'busy');
  await liu.locator('[data-testid="call-phase"][data-phase="talking"]').waitFor();
  await button(liu, '保持').click();
  await liu.locator('[data-testid="call-phase"][data-phase="held"]').waitFor();
  await button(liu, '恢复').click();
  await liu.locator('[data-testid="call-phase"][data-phase="talking"]').waitFor();
  // 二次拨号: keys to the far end; the field keeps only keys, and empties once they are sent.
  await liu.getByTestId('dtmf-keys').fill('8a8#');
  assert.equal(await liu.getByTestId('dtmf-keys').inputValue(), '88#');
  await button(liu, '二次拨号').click();
  await liu.waitForFunction(() => document.querySelector('[data-testid="dtmf-keys"]').value === '');

  // 身份验证: the agent sends the caller to the IVR identity check and gets him back verified;
  // the customer's keys come through the simulator's API.
  await button(liu, '身份验证').click();
  await liu.locator('[data-testid="call-phase"][data-phase="ivr"]').waitFor();
  const leg = await lina.evaluate(async () => {
    const live = await (await fetch('/api/v1/cti/live')).json();
    return live.calls.find((c) => c.phase === 'ivr').legs.find((l) => l.what.startsWith('customer:')).leg;
  });
  for (const digits of ['880001#', '123456']) {
    const status = await lina.evaluate(async ([l, d]) => (await fetch(`/api/v1/cti/sim/legs/${l}/digits`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ digits: d }),
    })).status, [leg, digits]);
    assert.equal(status, 200);
    await new Promise((r) => setTimeout(r, 300));
  }
  await liu.locator('[data-testid="call-phase"][data-phase="talking"]').waitFor();
  assert.equal(await liu.getByTestId('call-verified').textContent(), '已验证');

  // The supervisor sees the call, listens, whispers and barges in.
  await lina.getByTestId('agent-liuyang').locator('[data-state="busy"]').waitFor();
  await supervise(lina, 'liuyang', '监听');
  await supervise(lina, 'liuyang', '耳语');
  await supervise(lina, 'liuyang', '强插');
  await supervise(lina, 'liuyang', '结束监控');
  await lina.screenshot({ path: join(SHOTS, 'cti-wallboard.png') });

  // Consultation with a colleague, then a three-way call.
  await button(liu, '转接').click();
  await liu.getByLabel('目标').click();
  await liu.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: 'chenjing' }).click();
  await button(liu, '咨询').click();
  await stateIs(chen, 'reserved');
  await button(chen, '接听').click();
  await stateIs(chen, 'busy');
  await liu.locator('[data-testid="call-phase"][data-phase="consult"]').waitFor();
  await button(liu, '三方通话').click();
  await liu.locator('[data-testid="call-phase"][data-phase="talking"]').waitFor();
  await liu.screenshot({ path: join(SHOTS, 'cti-desk.png') });
  await button(liu, '挂机').click();
  await stateIs(liu, 'wrap_up');

  // Wrap-up: call type and summary, then ready again.
  await liu.getByLabel('小结').fill('客户咨询基金定投，已解答');
  await button(liu, '提交小结').click();
  await stateIs(liu, 'ready');

  // 强制接管: the supervisor replaces the second agent on the call, then hangs up.
  await supervise(lina, 'chenjing', '接管');
  await stateIs(chen, 'wrap_up');
  await supervise(lina, 'chenjing', '结束监控');
  await stateIs(chen, 'ready'); // the wrap-up timer (3 s)
  await lina.locator('.ant-table-placeholder').last().waitFor(); // no calls left

  // The first call's history shows on the next call from the same number.
  await lina.getByTestId('sim-call').getByRole('button', { name: /^呼 ?入$/ }).click();
  const next = await Promise.race([liu, chen].map((p) => stateIs(p, 'reserved').then(() => p)));
  await next.getByText('客户咨询基金定投，已解答').waitFor();
  await button(next, '挂机').click(); // declines: the offer goes to the other agent
  await stateIs(next, 'not_ready');
});

// 多渠道: a web chat reaches an agent beside his phone; he accepts, answers, reads the
// customer's reply live, ends it and wraps it up.
test('an agent accepts a web chat, answers it and wraps it up', async () => {
  const yang = await open('yangli', '/desk');
  const lina = await open('lina', '/wallboard');
  const post = (path, body) => lina.evaluate(async ([p, b]) => {
    const r = await fetch(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
    return { status: r.status, body: await r.json() };
  }, [path, body]);
  // Only she may take it: the first test's agents leave and its last caller hangs up.
  for (const agent of ['liuyang', 'chenjing']) await post('/api/v1/cti/supervisor/force-sign-out', { agent });
  const legs = await lina.evaluate(async () => (await (await fetch('/api/v1/cti/live')).json()).calls
    .flatMap((c) => c.legs.filter((l) => l.what.startsWith('customer:')).map((l) => l.leg)));
  for (const leg of legs) await post(`/api/v1/cti/sim/legs/${leg}/hang-up`, {});
  await button(yang, '签入').click();
  await stateIs(yang, 'not_ready');
  await button(yang, '就绪').click();
  await stateIs(yang, 'ready');
  const opened = await post('/api/v1/cti/conversations',
    { channel: 'chat', queue: 'webchat', customer: 'visitor-7', subject: '开户咨询', body: '你好，想咨询开户' });
  assert.equal(opened.status, 201);
  const item = yang.getByTestId(`conversation-${opened.body.id}`);
  await yang.locator(`[data-testid="conversation-${opened.body.id}"][data-state="offered"]`).waitFor();
  await button(item, '接受').click();
  await yang.locator(`[data-testid="conversation-${opened.body.id}"][data-state="active"]`).waitFor();
  const lines = yang.getByTestId('conversation-lines');
  await lines.getByText('你好，想咨询开户').waitFor();
  await stateIs(yang, 'ready'); // her phone state is untouched
  await yang.getByTestId('conversation-input').fill('您好，请携带身份证到营业部办理');
  await button(yang, '发送').click();
  await lines.getByText('您好，请携带身份证到营业部办理').waitFor();
  // The customer answers through the gateway; the line appears without a reload.
  assert.equal((await post(`/api/v1/cti/conversations/${opened.body.id}/messages`, { body: '好的，谢谢' })).status, 200);
  await lines.getByText('好的，谢谢').waitFor();
  await yang.screenshot({ path: join(SHOTS, 'cti-chat.png') });
  await button(yang, '结束会话').click();
  await yang.locator(`[data-testid="conversation-${opened.body.id}"][data-state="wrap_up"]`).waitFor();
  const wrap = yang.getByTestId('conversation-wrap-up');
  await wrap.getByPlaceholder('小结').fill('开户咨询，已告知所需材料');
  await button(wrap, '提交小结').click();
  await yang.getByText('暂无会话').waitFor();
  await button(yang, '签出').click();
  await stateIs(yang, 'signed_out');
});

test('a caller leaves a message when nobody answers; an agent plays it and marks it called back', async () => {
  const lina = await open('lina', '/wallboard');
  const post = (path, body) => lina.evaluate(async ([p, b]) => {
    const r = await fetch(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
    return { status: r.status, body: await r.json() };
  }, [path, body]);
  // Nobody takes calls now: the general queue's fallback records a message.
  for (const agent of ['liuyang', 'chenjing', 'yangli']) await post('/api/v1/cti/supervisor/force-sign-out', { agent });
  const call = await post('/api/v1/cti/sim/calls', { from: '13700008888', to: '95555' });
  assert.equal(call.status, 201);
  await lina.waitForTimeout(1500);
  await post(`/api/v1/cti/sim/legs/${call.body.leg}/hang-up`, {});
  await lina.waitForTimeout(500);
  const page = await open('chenjing', '/voicemails');
  const row = page.getByTestId('voicemails').locator('tbody tr.ant-table-row').filter({ hasText: '13700008888' });
  await row.waitFor();
  assert.equal(await row.locator('audio').count(), 1);
  await row.getByRole('button').click();
  await page.getByTestId('vm-note').fill('已回电，客户问题已解决');
  await page.getByRole('dialog').getByRole('button', { name: /^(OK|确 ?定)$/ }).click();
  await row.waitFor({ state: 'detached' });
  await page.getByText('已处理', { exact: true }).click();
  await page.getByTestId('voicemails').locator('tbody tr.ant-table-row').filter({ hasText: '已回电，客户问题已解决' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'voicemails.png'), fullPage: true });
});
