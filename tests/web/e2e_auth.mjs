// End-to-end test of the dashboards behind the real sign-in: "a researcher sees only their
// project", in Chromium through playwright-core. A simulated fleet (`aitelemetry simulate`) is
// scraped by `aitelemetry all` configured with `auth:` against the test OIDC provider
// (tests/oidc/provider.mjs, shaped like Keycloak). The researcher's group names one project of the
// simulated fleet (/HUB-{hub}-CLUSTER-{cluster}-PROJECT-{namespace}-GET, written to the provider's
// OIDC_USERS_FILE once the fleet is synced). The browser opens /, is sent to the provider, fills
// its login form, comes back signed in, and must see that project's GPUs and nothing else: the
// fleet funnel and the GPU search equal the API fetched with the session cookie, which is smaller
// than what an admin sees; another project's page is "Not found"; sign-out ends the session. axe
// runs on the signed-in fleet page; screenshots go to {screenshots}/researcher-*.png.
//
//   node tests/web/e2e_auth.mjs --binary build/aitelemetry --screenshots build/screenshots --workdir /tmp/x

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const binary = path.resolve(arg('binary', path.join(root, 'build/aitelemetry')));
const shots = path.resolve(arg('screenshots', path.join(root, 'build/screenshots')));
const workdir = path.resolve(arg('workdir', path.join(root, 'build/web-e2e-auth')));
const RESEARCHER = 'researcher-sim';

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

function start(name, command, args, env = {}) {
  const log = fs.openSync(path.join(workdir, `${name}.log`), 'w');
  const child = spawn(command, args, { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
  children.push(child);
  child.on('exit', (code) => {
    if (code !== null && code !== 0) console.log(`${name} exited with ${code} (see ${workdir}/${name}.log)`);
  });
  return child;
}

// The provider prints `READY {"issuer": ..., "port": ...}` when it listens.
function startProvider(env) {
  const log = fs.openSync(path.join(workdir, 'provider.log'), 'w');
  const child = spawn(process.execPath, [path.join(root, 'tests/oidc/provider.mjs'), '0'], {
    stdio: ['ignore', 'pipe', log], env: { ...process.env, ...env }, cwd: root,
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the OIDC provider did not start')), 30000);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)));
      }
    });
    child.on('exit', (code) => reject(new Error(`the OIDC provider exited with ${code}`)));
  });
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

const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) s.append(k, x);
  return s.toString();
};
const intText = (v) => new Intl.NumberFormat('en', { maximumFractionDigits: 0 }).format(Math.round(v));

let base = '';
let issuer = '';

// The admin: a client-credentials token of the provider's "admin" user (role aitelemetry-admin).
async function adminToken() {
  const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: q({ grant_type: 'client_credentials', client_id: 'admin', client_secret: 'admin-secret' }),
  });
  if (!res.ok) throw new Error(`admin token: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}
async function adminApi(p) {
  const res = await fetch(`${base}/api/${p}`, { headers: { Accept: 'application/json', Authorization: `Bearer ${await adminToken()}` } });
  if (!res.ok) throw new Error(`admin GET /api/${p}: ${res.status} ${await res.text()}`);
  return res.json();
}
// The API as the page sees it: fetched in the page, with the session cookie.
async function pageApi(page, p) {
  return page.evaluate(async (u) => {
    const res = await fetch(u, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : null };
  }, `/api/${p}`);
}

async function main() {
  fs.mkdirSync(workdir, { recursive: true });
  fs.mkdirSync(shots, { recursive: true });
  for (const f of fs.readdirSync(workdir)) if (f.startsWith('e2e.db')) fs.rmSync(path.join(workdir, f));
  const usersFile = path.join(workdir, 'users.json');
  fs.writeFileSync(usersFile, '{}');

  const simPort = await freePort();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const provider = await startProvider({
    OIDC_REALM: 'nerc',
    OIDC_REDIRECT_URI: `${base}/callback`,
    OIDC_KEYS_FILE: path.join(workdir, 'keys.json'),
    OIDC_USERS_FILE: usersFile,
  });
  issuer = provider.issuer;
  const secretFile = path.join(workdir, 'client_secret');
  fs.writeFileSync(secretFile, 'ai-telemetry-secret\n', { mode: 0o600 });

  start('simulate', binary, ['simulate', '--gpus', '64', '--seed', '3', '--listen', `127.0.0.1:${simPort}`]);
  const config = path.join(workdir, 'config.yaml');
  fs.writeFileSync(config, [
    `listen: 127.0.0.1:${port}`,
    `db: sqlite:${path.join(workdir, 'e2e.db')}`,
    'interval: 30s',
    'auth:',
    `  issuer: "${issuer}"`,
    '  client_id: ai-telemetry',
    `  client_secret_file: "${secretFile}"`,
    '  audience: ai-telemetry',
    `  redirect_url: "${base}/callback"`,
    'hubs:',
    '  - name: moc',
    `    exporters: [{url: "http://127.0.0.1:${simPort}/metrics"}]`,
    '',
  ].join('\n'));
  start('all', binary, ['all', '--config', config]);

  await waitFor('the server', async () => (await fetch(`${base}/readyz`)).ok);
  const anonymous = await fetch(`${base}/api/gpu?rows=0`, { headers: { Accept: 'application/json' } });
  check(anonymous.status === 401, `without a session the API answers 401 (${anonymous.status})`);
  await waitFor('the first sync (GPUs in the API)', async () => (await adminApi('gpu?rows=0')).foundNum > 0, 90000);

  // The researcher's project: the project holding the most GPUs; another project for the 404.
  const projects = (await adminApi(`project?${q({ rows: 1000, fq: '-state:gone' })}`)).list;
  const counted = await Promise.all(projects.map(async (p) => ({
    p,
    n: (await adminApi(`gpu?${q({ rows: 0, fq: ['-state:gone', `hub:${p.hub}`, `cluster:${p.cluster}`, `project:${p.namespace}`] })}`)).foundNum,
  })));
  counted.sort((a, b) => b.n - a.n);
  const mine = counted[0].p;
  const other = counted.find((c) => c.p.key !== mine.key && c.n > 0)?.p ?? counted.find((c) => c.p.key !== mine.key).p;
  console.log(`researcher's project: ${mine.key} (${counted[0].n} GPUs); another: ${other.key}`);
  check(counted[0].n > 0, `the simulated fleet has a project holding GPUs (${counted[0].n})`);
  fs.writeFileSync(usersFile, JSON.stringify({
    [RESEARCHER]: { groups: [`/HUB-${mine.hub}-CLUSTER-${mine.cluster}-PROJECT-${mine.namespace}-GET`], roles: [] },
  }));
  const adminAll = await adminApi(`gpu?${q({ rows: 0, fq: '-state:gone' })}`);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const axeSource = fs.readFileSync(path.join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark', bypassCSP: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    // Expected: the 404 of another project's API, and the provider's pages.
    if (m.type() === 'error' && m.location()?.url?.startsWith(base) && !/404/.test(m.text())) errors.push(m.text());
  });

  // Sign in: / sends the browser to the provider, whose login form takes any password.
  console.log('sign-in');
  await page.goto(`${base}/`);
  await page.waitForURL((u) => u.href.startsWith(issuer), { timeout: 15000 });
  check(page.url().startsWith(`${issuer}/`), `/ redirects to the provider (${new URL(page.url()).pathname})`);
  await page.fill('input[name="login"]', RESEARCHER);
  await page.fill('input[name="password"]', 'any-password');
  await page.screenshot({ path: path.join(shots, 'researcher-login.png') });
  await page.click('button[type="submit"]');
  // A consent step, if the provider asks (it implies consent, but older versions still prompt).
  await page.waitForURL((u) => u.href.startsWith(base) || /consent|interaction/.test(u.href), { timeout: 15000 });
  if (!page.url().startsWith(base)) {
    const submit = page.locator('button[type="submit"]');
    if (await submit.count()) await submit.first().click();
  }
  await page.waitForURL((u) => u.href.startsWith(base), { timeout: 15000 });
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForTimeout(300);
  check(new URL(page.url()).pathname === '/', `back on the fleet page, signed in (${page.url()})`);
  const cookies = await context.cookies(base);
  // Host-wide (cookies ignore ports): the provider's cookies are here too, so pick ours by name.
  const session = cookies.find((c) => c.name === 'aitelemetry_session' && c.value);
  check(Boolean(session?.httpOnly) && session?.sameSite === 'Lax', `an HttpOnly, SameSite=Lax session cookie is set (${session?.name})`);
  const me = await pageApi(page, 'me');
  check(me.status === 200 && me.body?.name === RESEARCHER && !me.body.admin && !me.body.manager,
    `/api/me with the cookie names the researcher (${me.status} ${me.body?.name})`);
  await page.waitForSelector('#user .who', { timeout: 10000 }).catch(() => {});
  const who = (await page.locator('#user .who').first().innerText().catch(() => '')).trim();
  const role = (await page.locator('#user .role').first().innerText().catch(() => '')).trim();
  check(who === RESEARCHER, `the header shows the user (${who})`);
  check(role === 'researcher', `the header shows the role researcher (${role})`);
  check((await page.locator('#user a.signout').count()) === 1, 'the header offers Sign out');

  // The fleet page: the funnel counts only the project's GPUs.
  console.log('fleet');
  const [all, allocated, active] = await Promise.all([
    pageApi(page, `gpu?${q({ rows: 0, fq: '-state:gone' })}`),
    pageApi(page, `gpu?${q({ rows: 0, fq: ['-state:gone', 'state:(allocated-idle OR active)'] })}`),
    pageApi(page, `gpu?${q({ rows: 0, fq: ['-state:gone', 'state:active'] })}`),
  ]);
  const mineAdmin = await adminApi(`gpu?${q({ rows: 0, fq: ['-state:gone', `hub:${mine.hub}`, `cluster:${mine.cluster}`, `project:${mine.namespace}`] })}`);
  check(all.status === 200 && all.body.foundNum === mineAdmin.foundNum,
    `the researcher's API sees exactly the project's GPUs (${all.body?.foundNum} = admin's count for ${mine.namespace}, ${mineAdmin.foundNum})`);
  check(all.body.foundNum < adminAll.foundNum, `the admin sees more GPUs than the researcher (${adminAll.foundNum} > ${all.body.foundNum})`);
  const text = async (sel) => (await page.locator(sel).first().innerText()).trim();
  check(await text('#funnel-total .big') === intText(all.body.foundNum), `fleet: total GPUs = the researcher's API (${all.body.foundNum})`);
  check(await text('#funnel-allocated .big') === intText(allocated.body.foundNum), `fleet: allocated = the researcher's API (${allocated.body.foundNum})`);
  check(await text('#funnel-active .big') === intText(active.body.foundNum), `fleet: active = the researcher's API (${active.body.foundNum})`);
  check(await text('#funnel-total .big') !== intText(adminAll.foundNum), `fleet: total is not the admin's (${adminAll.foundNum})`);
  const facets = await pageApi(page, `gpu?${q({ rows: 0, fq: '-state:gone', 'facet.field': ['project', 'cluster', 'hub'] })}`);
  const nonZero = (f) => Object.entries(facets.body.facet_counts.facet_fields[f] ?? {}).filter(([, n]) => n > 0).map(([k]) => k);
  check(JSON.stringify(nonZero('project')) === JSON.stringify([mine.namespace]) &&
    JSON.stringify(nonZero('cluster')) === JSON.stringify([mine.cluster]),
    `the researcher's GPUs are all in ${mine.cluster}/${mine.namespace} (${nonZero('cluster')} / ${nonZero('project')})`);
  check((await page.locator('.state.error').count()) === 0, 'fleet: no region failed to load');
  await page.addScriptTag({ content: axeSource });
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  check(axe.length === 0, `fleet (signed in): axe finds no serious/critical violations${axe.length ? `: ${axe.join('; ')}` : ''}`);
  await page.screenshot({ path: path.join(shots, 'researcher-fleet.png') });

  // The GPU search lists only the project's GPUs.
  console.log('search');
  await page.goto(`${base}/search/gpu`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  await page.waitForLoadState('networkidle').catch(() => {});
  const searchApi = await pageApi(page, 'gpu?rows=0');
  const found = Number(await page.locator('#result-count').getAttribute('data-found'));
  check(found === searchApi.body.foundNum, `search: count = the researcher's API (${found})`);
  check(found < (await adminApi('gpu?rows=0')).foundNum, 'search: count is below the admin\'s');
  const projectBoxes = await page.locator('input[data-facet="project"]').evaluateAll((els) => els.map((e) => e.dataset.value));
  check(projectBoxes.length > 0 && projectBoxes.every((v) => v === mine.namespace),
    `search: the project facet offers only ${mine.namespace} (${projectBoxes.join(', ')})`);
  const clusterBoxes = await page.locator('input[data-facet="cluster"]').evaluateAll((els) => els.map((e) => e.dataset.value));
  check(clusterBoxes.every((v) => v === mine.cluster), `search: the cluster facet offers only ${mine.cluster} (${clusterBoxes.join(', ')})`);
  const rows = await page.locator('table.data tbody tr').count();
  check(rows > 0 && (found > 25 ? rows <= found : rows === found), `search: the table lists the project's GPUs (${rows} rows)`);
  await page.screenshot({ path: path.join(shots, 'researcher-search.png') });

  // Another project's page shows nothing of it.
  console.log('another project');
  const otherApi = await pageApi(page, `project/${encodeURIComponent(other.key)}`);
  check(otherApi.status === 404, `GET /api/project/{another} with the cookie answers 404 (${otherApi.status})`);
  const otherGpus = await pageApi(page, `gpu?${q({ rows: 0, fq: [`cluster:${other.cluster}`, `project:${other.namespace}`] })}`);
  check(otherGpus.body?.foundNum === 0, `the researcher's API finds no GPU of ${other.key} (${otherGpus.body?.foundNum})`);
  await page.goto(`${base}/projects/${encodeURIComponent(other.key)}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForTimeout(300);
  const body = await page.locator('main').innerText().catch(async () => page.locator('body').innerText());
  check(/Not found\./.test(body), 'another project\'s page says Not found');
  check((await page.locator('.state.empty').count()) > 0, 'another project\'s page shows the empty state');
  check(!(other.display_name && body.includes(other.display_name)), 'another project\'s page does not show its display name');
  check((await page.locator('.gpu-tile').count()) === 0 && (await page.locator('table.data tbody tr').count()) === 0,
    'another project\'s page lists no GPU and no row');
  await page.screenshot({ path: path.join(shots, 'researcher-other-project.png') });

  // The researcher's own project page loads.
  await page.goto(`${base}/projects/${encodeURIComponent(mine.key)}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  await page.waitForLoadState('networkidle').catch(() => {});
  check((await page.locator('.state.error').count()) === 0 && !/Not found\./.test(await page.locator('body').innerText()),
    'the researcher\'s own project page loads');
  check(errors.length === 0, `no console errors from the dashboards${errors.length ? `: ${errors.join(' | ')}` : ''}`);

  // Sign out: the session ends here and at the provider.
  console.log('sign-out');
  await page.goto(`${base}/`);
  await page.waitForSelector('#user a.signout', { timeout: 20000 });
  await page.click('#user a.signout');
  // The page posts the logout (with its CSRF token) and then goes to the provider's logout.
  await page.waitForURL((u) => u.href.startsWith(issuer), { timeout: 15000 }).catch(() => {});
  await page.waitForLoadState('load');
  if (page.url().startsWith(issuer)) {
    // The provider's end-session page asks to confirm.
    const yes = page.locator('button[name="logout"][value="yes"], button[value="yes"], button[type="submit"]');
    if (await yes.count()) await yes.first().click();
    await page.waitForLoadState('load');
  }
  await page.waitForTimeout(500);
  const after = await context.request.get(`${base}/api/me`, { headers: { Accept: 'application/json' } });
  check(after.status() === 401, `after sign-out /api/me answers 401 (${after.status()})`);
  const left = (await context.cookies(base)).find((c) => c.name === 'aitelemetry_session' && c.value);
  check(!left, 'after sign-out the session cookie is gone');
  const old = await fetch(`${base}/api/me`, { headers: { Accept: 'application/json', Cookie: `${session?.name}=${session?.value}` } });
  check(old.status === 401, `the old session cookie no longer works (${old.status})`);
  await page.goto(`${base}/`);
  await page.waitForURL((u) => u.href.startsWith(issuer), { timeout: 15000 }).catch(() => {});
  check(page.url().startsWith(issuer), 'after sign-out / asks the provider to sign in again');
  await page.screenshot({ path: path.join(shots, 'researcher-signed-out.png') });
  await context.close();
  await browser.close();
}

const t0 = Date.now();
try {
  await main();
} catch (e) {
  console.log(`FAIL ${e.stack || e}`);
  failures.push(String(e));
} finally {
  for (const c of children) c.kill('SIGTERM');
}
console.log(`\n(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
if (failures.length) {
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
