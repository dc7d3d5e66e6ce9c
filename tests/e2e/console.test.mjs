// The web console in a real browser against a real kefud: the administration paths a
// newcomer takes on the first day (issue 3). Run by `make test` through tests/e2e/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD, SHOTS, STAFF_PASSWORD, apiLogin, launchBrowser, readXlsx, startKefud } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startKefud();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  return page;
}

async function login(page, username, password, path = '/') {
  await page.goto(server.base + path);
  await page.waitForURL(/\/login/);
  await page.getByLabel('登录名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登 录' }).or(page.getByRole('button', { name: '登录' })).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

async function logout(page) {
  await page.context().clearCookies();
  await page.context().close();
}

async function shot(page, name) {
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(400); // let charts and toasts settle
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

/** Opens an antd Select by its label, optionally types to search, and picks the option titled `option`. */
async function choose(page, label, option, search) {
  const box = page.getByLabel(label, { exact: true });
  await box.click();
  if (search) await box.fill(search);
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: option }).first().click();
}

async function toast(page, text) {
  await page.locator('.ant-message-notice', { hasText: text }).first().waitFor();
}

async function openReviewAndDecide(page, requestId, approve) {
  await page.goto(`${server.base}/reviews`);
  await page.locator(`[data-request="${requestId}"]`).click();
  await page.locator('.ant-drawer').waitFor();
  await page.getByRole('button', { name: approve ? '通 过' : '驳 回' }).or(page.getByRole('button', { name: approve ? '通过' : '驳回' })).click();
  await toast(page, approve ? '已通过' : '已驳回');
}

const state = {};

test('admin signs in with the keyboard and sees every menu', async () => {
  const page = await newPage();
  await page.goto(server.base + '/');
  await page.waitForURL(/\/login\?next=/);
  await page.getByLabel('登录名').focus();
  await page.keyboard.type('admin');
  await page.keyboard.press('Tab');
  await page.keyboard.type(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByText('欢迎，系统管理员').waitFor();
  for (const menu of ['组织人员', '系统管理', '审核', '操作流水']) await page.locator('.ant-menu').getByText(menu, { exact: true }).first().waitFor();
  await shot(page, '01-home');
  await logout(page);
});

test('an organisation is created in the tree', async () => {
  const page = await newPage();
  await login(page, 'admin', ADMIN_PASSWORD, '/org');
  await page.locator('[data-unit="SH"]').click();
  await page.getByRole('button', { name: '新增下级' }).click();
  await page.getByLabel('名称', { exact: true }).fill('上海浦东营业部');
  await page.getByLabel('编码', { exact: true }).fill('SH-PD');
  await choose(page, '类型', '营业部');
  await page.getByRole('button', { name: '保 存' }).or(page.getByRole('button', { name: '保存' })).first().click();
  await toast(page, '已保存');
  await page.locator('[data-unit="SH-PD"]').waitFor();
  await shot(page, '02-org-tree');
  await logout(page);
});

test('a failing validation is shown on its field', async () => {
  const page = await newPage();
  await login(page, 'admin', ADMIN_PASSWORD, '/e/staff/new');
  await page.getByLabel('登录名', { exact: true }).fill('Bad Name');
  await page.getByLabel('姓名', { exact: true }).fill('测试');
  await choose(page, '所属机构', '上海分公司', '上海');
  await page.getByRole('button', { name: '保 存' }).or(page.getByRole('button', { name: '保存' })).first().click();
  const item = page.locator('.ant-form-item', { has: page.getByLabel('登录名', { exact: true }) });
  await item.locator('.ant-form-item-explain-error', { hasText: '登录名格式不正确' }).waitFor();
  // Every control of the form has a label that names it (screen readers, keyboard users).
  const unlabelled = await page.locator('form input:not([type=hidden]), form textarea').evaluateAll((els) =>
    els.filter((el) => !(el.id && document.querySelector(`label[for="${el.id}"]`)) && !el.getAttribute('aria-label'))
      .map((el) => el.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, []);
  await shot(page, '03-validation');
  await logout(page);
});

test('a staff record passes first and final review', async () => {
  // The Shanghai branch manager has his queue open before the record is submitted.
  const first = await newPage();
  await login(first, 'zhoujun1', STAFF_PASSWORD, '/reviews');
  await first.getByText('暂无申请').first().waitFor();

  const page = await newPage();
  await login(page, 'admin', ADMIN_PASSWORD, '/e/staff/new');
  await page.getByLabel('登录名', { exact: true }).fill('lixiaolong');
  await page.getByLabel('姓名', { exact: true }).fill('李小龙');
  await choose(page, '所属机构', '上海分公司', '上海');
  await choose(page, '性别', '男');
  await page.getByLabel('手机', { exact: true }).fill('13800138000');
  await page.getByRole('button', { name: '保 存' }).or(page.getByRole('button', { name: '保存' })).first().click();
  await toast(page, '已提交审核');
  const admin = await apiLogin(server.base, 'admin', ADMIN_PASSWORD);
  const reviews = await admin('GET', '/reviews?kind=staff&status=pending');
  const cr = reviews.body.items.find((r) => r.payload.username === 'lixiaolong');
  assert.ok(cr, 'the change request exists');
  await logout(page);

  // 初审 by the Shanghai branch manager, 终审 by the head-office manager. The request
  // arrives in the open queue over the WebSocket, with no reload.
  await first.locator(`[data-request="${cr.id}"]`).waitFor({ timeout: 5000 });
  await first.getByTestId('review-badge').waitFor({ timeout: 5000 });
  await shot(first, '04-review-queue');
  await openReviewAndDecide(first, cr.id, true);
  await logout(first);

  const final = await newPage();
  await login(final, 'zhangwei', STAFF_PASSWORD, '/reviews');
  await openReviewAndDecide(final, cr.id, true);
  await logout(final);

  const found = await admin('GET', '/staff?username=lixiaolong');
  assert.equal(found.body.total, 1);
  state.staffId = found.body.items[0].id;
});

test('a role is granted through review and the password is reset', async () => {
  const page = await newPage();
  await login(page, 'admin', ADMIN_PASSWORD, `/e/staff/${state.staffId}`);
  await page.getByText('尚未授予角色').waitFor();
  await choose(page, '申请授予角色', '班组长');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: '提交审核' }).click();
  await toast(page, '授权申请已提交');
  await page.getByRole('button', { name: '重置密码' }).click();
  await page.locator('.ant-popconfirm').getByRole('button', { name: /确\s?定|OK/ }).click();
  const temp = await page.getByTestId('temporary-password').textContent();
  state.tempPassword = /临时密码：(\S+?)（/.exec(temp)[1];
  await shot(page, '05-staff-record');
  await logout(page);

  const admin = await apiLogin(server.base, 'admin', ADMIN_PASSWORD);
  const grants = await admin('GET', '/reviews?kind=staff_role&status=pending');
  const cr = grants.body.items.find((r) => r.payload.staff_id === state.staffId);
  assert.ok(cr, 'the grant request exists');
  const reviewer = await newPage();
  await login(reviewer, 'zhangwei', STAFF_PASSWORD, '/reviews');
  await openReviewAndDecide(reviewer, cr.id, true);
  await logout(reviewer);
  const roles = await admin('GET', `/staff/${state.staffId}/roles`);
  assert.deepEqual(roles.body.items.map((r) => r.code), ['team_leader']);
});

test('the new member changes his password and sees only his menus and his branch', async () => {
  const page = await newPage();
  await login(page, 'lixiaolong', state.tempPassword, '/e/staff');
  await page.waitForURL(/\/account\/password/);
  await page.getByLabel('原密码').fill(state.tempPassword);
  await page.getByLabel('新密码', { exact: true }).fill('Lxl@2026pw');
  await page.getByLabel('确认新密码').fill('Lxl@2026pw');
  await page.getByRole('button', { name: '保 存' }).or(page.getByRole('button', { name: '保存' })).first().click();
  await page.waitForURL(/\/e\/staff$/);
  const menu = page.locator('.ant-menu').first();
  await menu.getByText('组织人员', { exact: true }).waitFor();
  for (const hidden of ['系统管理', '操作流水', '审核']) assert.equal(await menu.getByText(hidden, { exact: true }).count(), 0, `${hidden} must be hidden`);
  await page.locator('.ant-table-row').first().waitFor();
  const orgCells = await page.locator('.ant-table-row td:nth-child(3)').allTextContents();
  assert.ok(orgCells.length >= 2, 'sees his branch colleagues');
  for (const c of orgCells) assert.equal(c.trim(), '上海分公司');
  await shot(page, '06-member-staff-list');

  await page.goto(server.base + '/audit');
  await page.getByText('抱歉，您没有权限访问此页面。').waitFor();
  await shot(page, '07-forbidden');
  await logout(page);
});

test('a list is exported to XLSX and read back', async () => {
  const page = await newPage();
  await login(page, 'admin', ADMIN_PASSWORD, '/e/staff');
  await page.locator('.ant-table-row').first().waitFor();
  await shot(page, '08-staff-list');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出 Excel' }).click()]);
  const file = join(SHOTS, 'staff.xlsx');
  await download.saveAs(file);
  const rows = readXlsx(file);
  const admin = await apiLogin(server.base, 'admin', ADMIN_PASSWORD);
  const all = await admin('GET', '/staff?page_size=1');
  assert.equal(rows.length - 1, all.body.total, 'one row per staff record plus the header');
  assert.ok(rows.some((r) => r.includes('lixiaolong')));
  await logout(page);
});

test('an import with a bad row shows the row errors and writes nothing', async () => {
  const page = await newPage();
  await login(page, 'admin', ADMIN_PASSWORD, '/e/contact_type');
  await page.locator('.ant-table-row').first().waitFor();
  await page.getByRole('button', { name: '导 入' }).or(page.getByRole('button', { name: '导入' })).first().click();
  const csv = 'code,name,channel,direction\nvip_line,贵宾专线,phone,inbound\nbad_row,坏行,pigeon,inbound\n';
  await page.getByLabel('选择 CSV 文件').setInputFiles({ name: 'types.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: '开始导入' }).click();
  await page.getByText('发现 1 个问题，未导入任何数据').waitFor();
  await page.getByRole('cell', { name: '渠道不是可选的值' }).waitFor();
  await shot(page, '15-import-errors');
  const admin = await apiLogin(server.base, 'admin', ADMIN_PASSWORD);
  assert.equal((await admin('GET', '/contact_type?code=vip_line')).body.total, 0);
  await logout(page);
});

test('an expired session returns to the login page and back', async () => {
  const page = await newPage();
  await login(page, 'zhoujie2', STAFF_PASSWORD, '/e/staff');
  await page.locator('.ant-table-row').first().waitFor();
  // An administrator's reset ends every session of that person on the server.
  const admin = await apiLogin(server.base, 'admin', ADMIN_PASSWORD);
  const me = await admin('GET', '/staff?username=zhoujie2');
  const r = await admin('POST', `/staff/${me.body.items[0].id}/password-reset`, { new_password: 'Reset@2026x' });
  assert.equal(r.status, 200);
  await page.getByRole('link', { name: '组织机构树' }).click();
  await page.waitForURL(/\/login\?next=/);
  await page.getByText('登录已过期，请重新登录').waitFor();
  await page.getByLabel('登录名').fill('zhoujie2');
  await page.getByLabel('密码').fill('Reset@2026x');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/account\/password/);
  await page.getByLabel('原密码').fill('Reset@2026x');
  await page.getByLabel('新密码', { exact: true }).fill('Again@2026y');
  await page.getByLabel('确认新密码').fill('Again@2026y');
  await page.getByRole('button', { name: '保 存' }).or(page.getByRole('button', { name: '保存' })).first().click();
  await page.waitForURL(/\/org$/);
  await logout(page);
});

test('the other administration pages render', async () => {
  const page = await newPage();
  await login(page, 'admin', ADMIN_PASSWORD, '/e/role');
  await page.locator('.ant-table-row').first().waitFor();
  await page.getByRole('link', { name: '班组长' }).click();
  await page.getByRole('button', { name: '编 辑' }).or(page.getByRole('button', { name: '编辑' })).first().click();
  await page.locator('.ant-tree-checkbox-checked').first().waitFor();
  await shot(page, '09-role-permissions');
  for (const [path, name] of [['/audit', '10-audit'], ['/e/sys_param', '11-sys-param'], ['/e/dict_item', '12-dictionary'], ['/e/contact_type', '13-contact-types']]) {
    await page.goto(server.base + path);
    await page.locator('.ant-table-row').first().waitFor();
    await shot(page, name);
  }
  await page.goto(server.base + '/audit');
  await choose(page, '对象', '组织机构');
  await page.getByRole('button', { name: '查 询' }).or(page.getByRole('button', { name: '查询' })).first().click();
  await page.getByRole('cell', { name: 'SH-PD' }).or(page.locator('.ant-table-row', { hasText: '组织机构' })).first().waitFor();
  await page.locator('.ant-table-row-expand-icon-collapsed').first().click();
  await page.getByRole('columnheader', { name: '修改后' }).first().waitFor();
  await page.getByRole('button', { name: '校验完整性' }).click();
  await page.getByText(/操作流水完整/).waitFor();
  // English as the second language.
  await page.getByTestId('user-menu').hover();
  await page.getByText('English', { exact: true }).click();
  await page.getByText('Operation log', { exact: true }).first().waitFor();
  await shot(page, '14-english');
  await logout(page);
});
