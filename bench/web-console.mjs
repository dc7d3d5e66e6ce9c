// Web console load benchmark: a cold browser (new context, empty cache) opening the staff
// list until its first row shows, against the baseline of the same browser fetching the
// same page of staff as bare JSON. Both against one kefud (demo data), in the same run.
//   node bench/web-console.mjs [runs]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_PASSWORD, ROOT, launchBrowser, startKefud } from '../tests/e2e/harness.mjs';

const runs = Number(process.argv[2] ?? 10);
const server = await startKefud();
const browser = await launchBrowser();

async function token() {
  const r = await fetch(`${server.base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  return (await r.json()).token;
}

async function context() {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  await ctx.addCookies([{ name: 'kefu_session', value: await token(), url: server.base }]);
  return ctx;
}

function transferred(page) {
  return page.evaluate(() => performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
    .reduce((n, e) => n + (e.transferSize || 0), 0));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const console_ms = [], console_bytes = [], api_ms = [], warm_ms = [];
for (let i = 0; i < runs; i++) {
  let ctx = await context();
  let page = await ctx.newPage();
  let t0 = performance.now();
  await page.goto(`${server.base}/e/staff`);
  await page.locator('.ant-table-row').first().waitFor();
  console_ms.push(performance.now() - t0);
  console_bytes.push(await transferred(page));
  // The same person opening the console again: assets come from the browser cache.
  page = await ctx.newPage();
  t0 = performance.now();
  await page.goto(`${server.base}/e/staff`);
  await page.locator('.ant-table-row').first().waitFor();
  warm_ms.push(performance.now() - t0);
  await ctx.close();

  ctx = await context();
  page = await ctx.newPage();
  t0 = performance.now();
  await page.goto(`${server.base}/api/v1/staff?page=1&page_size=20&sort=id`);
  await page.waitForLoadState('load');
  api_ms.push(performance.now() - t0);
  await ctx.close();
}
await browser.close();
await server.stop();

const dist = join(ROOT, 'web', 'dist', 'assets');
let raw = 0, gz = 0;
for (const f of readdirSync(dist)) {
  const size = statSync(join(dist, f)).size;
  if (f.endsWith('.gz')) gz += size;
  else raw += size;
}
const c = median(console_ms), a = median(api_ms);
console.log(`runs: ${runs} (cold browser context each)`);
console.log(`console  /e/staff to first row: median ${c.toFixed(0)} ms, transferred ${(median(console_bytes) / 1024).toFixed(0)} KiB`);
console.log(`console again, warm cache:      median ${median(warm_ms).toFixed(0)} ms`);
console.log(`baseline same page as JSON:     median ${a.toFixed(0)} ms`);
console.log(`ratio console/baseline: ${(c / a).toFixed(1)}x`);
console.log(`assets: ${(raw / 1024).toFixed(0)} KiB raw, ${(gz / 1024).toFixed(0)} KiB as served gzip`);
