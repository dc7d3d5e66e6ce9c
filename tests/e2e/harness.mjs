// Starts a real kefud (fresh SQLite database with the demo data, the built console in
// web/dist) on a free loopback port, and Debian's Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../..');
const require = createRequire(join(ROOT, 'web', 'package.json'));
const { chromium } = require('playwright-core');

export const SHOTS = join(here, 'screenshots');
export const ADMIN_PASSWORD = 'Admin@2026';
export const STAFF_PASSWORD = 'Kefu@2026';

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitReady(base, proc, log) {
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`kefud exited ${proc.exitCode}:\n${log()}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kefud did not become ready:\n${log()}`);
}

export async function startKefud(extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-e2e-'));
  const port = await freePort();
  const build = process.env.KEFU_BUILD ?? join(ROOT, 'build');
  let output = '';
  const proc = spawn(join(build, 'src', 'kefud'), ['--demo'], {
    cwd: ROOT,
    env: {
      ...process.env,
      KEFU_DB: join(dir, 'kefu.db'),
      KEFU_LISTEN: `127.0.0.1:${port}`,
      KEFU_WEB_ROOT: join(ROOT, 'web', 'dist'),
      KEFU_ADMIN_PASSWORD: ADMIN_PASSWORD,
      KEFU_ACCESS_LOG: 'false',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, proc, () => output);
  return {
    base,
    log: () => output,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--metrics-recording-only'],
  });
}

/** A JSON API client for setting up and checking what the browser did. */
export async function apiLogin(base, username, password) {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }),
  });
  if (!r.ok) throw new Error(`login ${username}: ${r.status} ${await r.text()}`);
  const { token } = await r.json();
  return async (method, path, body) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

/** Reads an XLSX file back with openpyxl (Debian's python3-openpyxl): rows as arrays. */
export function readXlsx(path) {
  const script = 'import json,sys,openpyxl\nwb=openpyxl.load_workbook(sys.argv[1],read_only=True)\n' +
    'print(json.dumps([[c for c in r] for r in wb.active.iter_rows(values_only=True)],default=str,ensure_ascii=False))';
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' }));
}

/** A new browser context signed in as `username`, on `path` (through the login page). */
export async function openAs(browser, base, username, path, password = STAFF_PASSWORD) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(base + path);
  await page.waitForURL(/\/login/);
  await page.getByLabel('登录名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: /^登 ?录$/ }).click();
  await page.waitForURL((u) => u.pathname === path);
  return page;
}

// antd puts a space between two Chinese characters on a button.
export const button = (page, name) => page.getByRole('button', { name: new RegExp(`(^| )${[...name].join(' ?')}$`) });
