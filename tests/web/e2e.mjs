// End-to-end test of the dashboards in a real browser against the real binary: a simulated fleet
// (`aitelemetry simulate`) scraped by `aitelemetry all`, driven by Chromium through playwright-core.
// Each page must load without console errors, show the numbers the API returns, pass axe-core with
// no serious or critical violations, and is screenshotted at 1440x900 in dark and light.
//
//   node tests/web/e2e.mjs --binary build/aitelemetry --screenshots build/screenshots --workdir /tmp/x

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const binary = path.resolve(arg('binary', path.join(root, 'build/aitelemetry')));
const shots = path.resolve(arg('screenshots', path.join(root, 'build/screenshots')));
const workdir = path.resolve(arg('workdir', path.join(root, 'build/web-e2e')));
const only = arg('only', '');

const children = [];
const failures = [];
function check(cond, what) {
  if (cond) {
    console.log(`  ok   ${what}`);
  } else {
    console.log(`  FAIL ${what}`);
    failures.push(what);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function start(name, args) {
  const log = fs.openSync(path.join(workdir, `${name}.log`), 'w');
  const child = spawn(binary, args, { stdio: ['ignore', log, log] });
  children.push(child);
  child.on('exit', (code) => {
    if (code !== null && code !== 0) console.log(`${name} exited with ${code} (see ${workdir}/${name}.log)`);
  });
  return child;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs = 60000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

let base = '';
async function api(p) {
  const res = await fetch(`${base}/api/${p}`, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET /api/${p}: ${res.status} ${await res.text()}`);
  return res.json();
}
const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) s.append(k, x);
  return s.toString();
};

// The same rounding the pages use (format.js) for integers.
const intText = (v) => new Intl.NumberFormat('en', { maximumFractionDigits: 0 }).format(Math.round(v));

async function main() {
  fs.mkdirSync(workdir, { recursive: true });
  fs.mkdirSync(shots, { recursive: true });
  for (const f of fs.readdirSync(workdir)) if (f.startsWith('e2e.db')) fs.rmSync(path.join(workdir, f));

  const simPort = await freePort();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  start('simulate', ['simulate', '--gpus', '64', '--seed', '3', '--listen', `127.0.0.1:${simPort}`]);
  const config = path.join(workdir, 'config.yaml');
  fs.writeFileSync(config, [
    `listen: 127.0.0.1:${port}`,
    `db: sqlite:${path.join(workdir, 'e2e.db')}`,
    'interval: 5s',
    'tracing_ui_url: "http://tracing.test/trace/{trace_id}"',
    'hubs:',
    '  - name: e2e',
    `    exporters: [{url: "http://127.0.0.1:${simPort}/metrics", cluster: sim}]`,
    '',
  ].join('\n'));
  start('all', ['all', '--config', config]);

  await waitFor('the server', async () => (await fetch(`${base}/readyz`)).ok);
  const probe = await fetch(`${base}/api/gpu?rows=0`);
  if (probe.status === 404) {
    console.log('FAIL: GET /api/gpu answers 404: the JSON API is missing from this build');
    for (const c of children) c.kill('SIGTERM');
    process.exit(1);
  }
  await waitFor('the first sync (GPUs in the API)', async () => (await api('gpu?rows=0')).foundNum > 0, 90000);

  // A GPU session with a trace id, as Alertmanager would deliver it.
  const hook = fs.readFileSync(path.join(root, 'src/trace/testdata/webhook_firing.json'));
  const posted = await fetch(`${base}/api/alerts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: hook });
  check(posted.ok, `POST /api/alerts accepted a firing alert (${posted.status})`);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const axeSource = fs.readFileSync(path.join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

  // Entities to visit: a cluster, the node with a MIG GPU if any, that GPU, the busiest project.
  const cluster = (await api('cluster?rows=1&sort=name+asc')).list[0];
  const migGpu = (await api(`gpu?${q({ rows: 1, fq: ['mig_enabled:true', '-state:gone'] })}`)).list[0];
  const gpu = migGpu || (await api(`gpu?${q({ rows: 1, fq: '-state:gone', sort: 'power_watts desc' })}`)).list[0];
  const projectFacet = (await api(`gpu?${q({ rows: 0, fq: '-state:gone', 'facet.field': 'project' })}`)).facet_counts.facet_fields.project;
  const busiest = Object.entries(projectFacet).filter(([p]) => p).sort((a, b) => b[1] - a[1])[0]?.[0];
  const project = busiest ? (await api(`project?${q({ rows: 1, fq: `namespace:${busiest}` })}`)).list[0] : (await api('project?rows=1')).list[0];

  const pages = [
    { name: 'fleet', url: '/' },
    { name: 'cluster', url: `/clusters/${encodeURIComponent(cluster.key)}` },
    { name: 'node', url: `/nodes/${encodeURIComponent(gpu.node_key)}` },
    { name: 'gpu', url: `/gpus/${encodeURIComponent(gpu.key)}` },
    { name: 'project', url: `/projects/${encodeURIComponent(project.key)}` },
    { name: 'sessions', url: '/sessions' },
    { name: 'search', url: '/search/gpu' },
  ].filter((p) => !only || only.split(',').includes(p.name));

  for (const theme of ['dark', 'light']) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: theme, bypassCSP: true });
    for (const p of pages) {
      console.log(`${p.name} (${theme})`);
      const page = await context.newPage();
      const errors = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(base + p.url);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
      await page.waitForLoadState('networkidle').catch(() => {});
      await page.waitForTimeout(300);
      check(errors.length === 0, `${p.name}: no console errors${errors.length ? `: ${errors.join(' | ')}` : ''}`);
      check((await page.locator('.state.error').count()) === 0, `${p.name}: no region failed to load`);
      if (theme === 'dark') await checkNumbers(p.name, page, { cluster, gpu, project });
      await page.addScriptTag({ content: axeSource });
      const axe = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
      });
      check(axe.length === 0, `${p.name}: axe finds no serious/critical violations${axe.length ? `: ${axe.join('; ')}` : ''}`);
      await page.screenshot({ path: path.join(shots, `${p.name}-${theme}.png`), fullPage: false });
      await page.close();
    }
    await context.close();
  }

  if (!only || only.includes('live')) await checkLive(browser, project);
  await browser.close();
}

async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

async function checkNumbers(name, page, { cluster, gpu, project }) {
  if (name === 'fleet') {
    const [all, allocated, active] = await Promise.all([
      api(`gpu?${q({ rows: 0, fq: '-state:gone' })}`),
      api(`gpu?${q({ rows: 0, fq: ['-state:gone', 'state:(allocated-idle OR active)'] })}`),
      api(`gpu?${q({ rows: 0, fq: ['-state:gone', 'state:active'] })}`),
    ]);
    check(await text(page, '#funnel-total .big') === intText(all.foundNum), `fleet: total GPUs = API (${all.foundNum})`);
    check(await text(page, '#funnel-allocated .big') === intText(allocated.foundNum), `fleet: allocated = API (${allocated.foundNum})`);
    check(await text(page, '#funnel-active .big') === intText(active.foundNum), `fleet: active = API (${active.foundNum})`);
    const idle = await api(`gpu?${q({ rows: 0, fq: 'state:allocated-idle' })}`);
    const flagged = await page.locator('tr.flag-row').count();
    check(idle.foundNum === 0 ? flagged === 0 : flagged > 0, `fleet: idle holders listed when the API has them (${idle.foundNum})`);
  } else if (name === 'cluster') {
    const r = await api(`gpu?${q({ rows: 0, fq: [`hub:${cluster.hub}`, `cluster:${cluster.name}`, '-state:gone'] })}`);
    check(await text(page, '#tile-gpus .tile-value') === intText(r.foundNum), `cluster: GPUs = API (${r.foundNum})`);
    check(await page.locator('.gpu-tile').count() === Math.min(r.foundNum, 1000), 'cluster: one heat-map tile per GPU');
  } else if (name === 'node') {
    const r = await api(`gpu?${q({ rows: 0, fq: [`node_key:${gpu.node_key}`, '-state:gone'] })}`);
    check(await page.locator('.gpu-tile').count() === r.foundNum, `node: one tile per GPU of the node (${r.foundNum})`);
  } else if (name === 'gpu') {
    const g = await api(`gpu/${encodeURIComponent(gpu.key)}`);
    const shown = await text(page, '#tile-memory .tile-value');
    check(shown !== '' && shown !== '—' === (g.memory_used_bytes !== null), `gpu: memory tile shows a value when the API has one (${shown})`);
    if (g.mig_enabled) {
      const s = await api(`gpu-slice?${q({ rows: 0, fq: `gpu_key:${gpu.key}` })}`);
      check(await page.locator('.heat, table.data').count() > 0 && s.foundNum >= 0, `gpu: slices listed (${s.foundNum})`);
    }
  } else if (name === 'project') {
    const monthStart = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1));
    const u = await api(`usage?${q({ groupBy: 'project', from: monthStart.toISOString(), to: new Date().toISOString(), step: 'day', hub: project.hub, cluster: project.cluster, project: project.namespace })}`);
    const alloc = u.rows.reduce((s, r) => s + (r.gpu_equivalent_hours || 0), 0);
    const shown = await text(page, '#tile-month-allocated .tile-value');
    const value = Number(shown.replace(/[^0-9.]/g, ''));
    check(Math.abs(value - alloc) <= Math.max(0.05, alloc * 0.02), `project: allocated GPU-hours this month = API (${shown} vs ${alloc.toFixed(2)})`);
  } else if (name === 'sessions') {
    const s = await api('session?rows=0');
    check(Number((await page.locator('#result-count').getAttribute('data-found')) ?? -1) === s.foundNum, `sessions: count = API (${s.foundNum})`);
    if (s.foundNum > 0) {
      const href = await page.locator('a.trace-link').first().getAttribute('href');
      check(href?.startsWith('http://tracing.test/trace/'), `sessions: trace link from tracing_ui_url (${href})`);
    }
  } else if (name === 'search') {
    const before = await api('gpu?rows=0');
    check(Number(await page.locator('#result-count').getAttribute('data-found')) === before.foundNum, `search: count = API (${before.foundNum})`);
    // A facet click filters: the count becomes the API's count for that filter, and the URL says so.
    const box = page.locator('input[data-facet="model_name"]').first();
    const value = await box.getAttribute('data-value');
    await box.check();
    await page.waitForFunction((v) => new URLSearchParams(location.search).getAll('fq').some((f) => f.includes(v)), value);
    const after = await api(`gpu?${q({ rows: 0, fq: `model_name:"${value}"` })}`);
    await page.waitForFunction((n) => document.querySelector('#result-count')?.dataset.found === String(n), after.foundNum, { timeout: 5000 }).catch(() => {});
    check(Number(await page.locator('#result-count').getAttribute('data-found')) === after.foundNum, `search: facet ${value} filters to the API's count (${after.foundNum})`);
    // The filtered view is shareable: loading its URL fresh shows the same count.
    const url = page.url();
    const fresh = await page.context().newPage();
    await fresh.goto(url);
    await fresh.waitForSelector('body[data-ready="true"]');
    check(Number(await fresh.locator('#result-count').getAttribute('data-found')) === after.foundNum, 'search: the URL reproduces the filtered view');
    await fresh.close();
    await page.goto(`${base}/search/gpu`);
    await page.waitForSelector('body[data-ready="true"]');
  }
}

// A change made through the API reaches an open page over /api/events without a reload.
async function checkLive(browser, project) {
  console.log('live updates');
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/projects/${encodeURIComponent(project.key)}`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('#live[data-state="live"]', { timeout: 10000 }).catch(() => {});
  await page.evaluate(() => (window.__notReloaded = true));
  const name = `Renamed ${Date.now()}`;
  const res = await fetch(`${base}/api/project/${encodeURIComponent(project.key)}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ display_name: name }),
  });
  check(res.ok, `PATCH project display_name accepted (${res.status})`);
  const seen = await page.waitForFunction((n) => document.getElementById('title')?.textContent === `Project ${n}`, name, { timeout: 15000 }).then(() => true, () => false);
  check(seen, 'live: the new name appears without a reload');
  check(await page.evaluate(() => window.__notReloaded === true), 'live: the page was not reloaded');
  await context.close();
}

try {
  await main();
} catch (e) {
  console.log(`FAIL ${e.stack || e}`);
  failures.push(String(e));
} finally {
  for (const c of children) c.kill('SIGTERM');
}
if (failures.length) {
  console.log(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('\nall checks passed');
