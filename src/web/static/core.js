// What every page shares: the API client, DOM helpers, designed empty/loading/error states, the
// signed-in user, the colour theme, live updates over /api/events and the stale-data banner.
// Pages call only the public JSON API; what it returns is what the caller may see.

import { ageSeconds, clock, duration, dateTime } from './format.js';

const body = document.body;

// Settings the server put in the shell.
export const ctx = {
  page: body.dataset.page,
  key: body.dataset.key || '',
  model: body.dataset.model || '',
  tracingUiUrl: body.dataset.tracingUiUrl || '',
  intervalSeconds: Number(body.dataset.intervalSeconds) || 30,
  models: JSON.parse(document.getElementById('models')?.textContent || '[]'),
  me: null,
};

export function modelInfo(name) {
  return ctx.models.find((m) => m.name === name);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Builds /api/{path}?... from a params object; array values repeat the parameter (fq, facet.field).
export function apiUrl(path, params = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
  }
  const s = qs.toString();
  return `/api/${path}${s ? `?${s}` : ''}`;
}

// Fetches JSON from the API. Throws ApiError with the problem's detail on a non-2xx answer.
export async function api(path, params = {}) {
  const res = await fetch(apiUrl(path, params), {
    headers: { Accept: 'application/json' },
    credentials: 'same-origin',
  });
  if (!res.ok) {
    let detail = res.statusText;
    try {
      const p = await res.json();
      detail = p.detail || p.title || detail;
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, detail);
  }
  return res.json();
}

// A filter-query value, quoted when it holds characters the fq syntax gives meaning to.
export function fqValue(v) {
  const s = String(v);
  return /^[A-Za-z0-9_.@\/-]+$/.test(s) && !s.startsWith('-') ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`;
}
export const fq = (field, value) => `${field}:${fqValue(value)}`;
export const fqAny = (field, values) =>
  values.length === 1 ? fq(field, values[0]) : `${field}:(${values.map(fqValue).join(' OR ')})`;

// The fq list that scopes a query to one hub/cluster (names, not keys).
export const inCluster = (hub, cluster) => [fq('hub', hub), fq('cluster', cluster)];

// el('a', {href: '/x', class: 'c'}, 'text', child): builds DOM without parsing HTML, so values
// from the API can never become markup.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElementNS(
    tag === 'svg' || attrs.svg ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml',
    tag,
  );
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false || k === 'svg') continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'style' && typeof v === 'object') for (const [p, x] of Object.entries(v)) e.style.setProperty(p, x);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

export const svg = (tag, attrs = {}, ...children) => el(tag, { ...attrs, svg: true }, ...children);

function append(parent, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function fill(target, ...children) {
  target.replaceChildren();
  append(target, children);
  return target;
}

// Designed states for a region: loading, empty (with what would fill it), error (with the cause).
export function loading(text = 'Loading…') {
  return el('div', { class: 'state loading', role: 'status' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}
export function empty(title, hint = '') {
  return el('div', { class: 'state empty' }, el('strong', {}, title), hint ? el('span', {}, hint) : null);
}
export function failure(err) {
  if (err instanceof ApiError && err.status === 401) {
    return el('div', { class: 'state error', role: 'alert' }, el('strong', {}, 'Sign in to see this.'),
      el('a', { href: `/login?next=${encodeURIComponent(location.pathname + location.search)}` }, 'Sign in'));
  }
  if (err instanceof ApiError && err.status === 404) {
    return el('div', { class: 'state empty', role: 'status' }, el('strong', {}, 'Not found.'),
      el('span', {}, 'It does not exist, is gone, or your grants do not include it.'));
  }
  return el('div', { class: 'state error', role: 'alert' }, el('strong', {}, 'Could not load this.'), el('span', {}, err.message || String(err)));
}

// A section with a heading and a body that refreshes fill; returns {section, body, actions}.
export function section(title, { subtitle = '', id = '', wide = false } = {}) {
  const actions = el('div', { class: 'section-actions' });
  const bodyEl = el('div', { class: 'section-body' }, loading());
  const headingId = `h-${Math.random().toString(36).slice(2, 9)}`;
  const s = el('section', { class: `panel${wide ? ' wide' : ''}`, id: id || null, 'aria-labelledby': headingId },
    el('div', { class: 'panel-head' },
      el('div', {}, el('h2', { id: headingId }, title), subtitle ? el('p', { class: 'sub' }, subtitle) : null),
      actions),
    bodyEl);
  return { section: s, body: bodyEl, actions };
}

// A summary tile: a number with its unit and the time window it describes.
export function tile(labelText, value, window, { tone = '', detail = '', id = null } = {}) {
  return el('div', { class: `tile ${tone}`, id },
    el('div', { class: 'tile-label' }, labelText),
    el('div', { class: 'tile-value', 'data-value': '' }, value),
    el('div', { class: 'tile-window' }, window, detail ? ` · ${detail}` : ''));
}

export function badge(text, tone = '') {
  return el('span', { class: `badge ${tone}` }, text);
}

export function stateBadge(state) {
  const tone = { active: 'ok', 'allocated-idle': 'warn', idle: 'muted', gone: 'bad', stale: 'warn', open: 'ok', closed: 'muted' }[state] || '';
  return badge(state ?? 'unknown', tone);
}

// Links to the pages of entities.
export const hrefFor = {
  cluster: (key) => `/clusters/${encodeURIComponent(key)}`,
  node: (key) => `/nodes/${encodeURIComponent(key)}`,
  gpu: (key) => `/gpus/${encodeURIComponent(key)}`,
  project: (key) => `/projects/${encodeURIComponent(key)}`,
};
export const clusterKey = (hub, cluster) => `HUB-${hub}-CLUSTER-${cluster}`;
export const nodeKey = (hub, cluster, node) => `${clusterKey(hub, cluster)}-NODE-${node}`;
export const projectKey = (hub, cluster, ns) => `${clusterKey(hub, cluster)}-PROJECT-${ns}`;

export function link(href, text, attrs = {}) {
  return href ? el('a', { href, ...attrs }, text) : text;
}

export function traceUrl(traceId) {
  if (!ctx.tracingUiUrl || !traceId) return '';
  return ctx.tracingUiUrl.replaceAll('{trace_id}', encodeURIComponent(traceId));
}

// ---- page state in the query string (shareable filtered views) ----

export function readState() {
  const p = new URLSearchParams(location.search);
  return {
    get: (k, d = '') => p.get(k) ?? d,
    all: (k) => p.getAll(k),
  };
}

export function writeState(params, { push = true } = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
  }
  const url = `${location.pathname}${qs.toString() ? `?${qs}` : ''}`;
  if (url !== location.pathname + location.search) history[push ? 'pushState' : 'replaceState'](null, '', url);
}

// ---- shell: user, theme, live updates, stale banner ----

let lastUpdatedAt = null;

export function markUpdated() {
  lastUpdatedAt = new Date();
  renderUpdated();
}

function renderUpdated() {
  const e = document.getElementById('last-updated');
  if (!e) return;
  if (!lastUpdatedAt) return;
  const age = (Date.now() - lastUpdatedAt.getTime()) / 1000;
  e.textContent = `Updated ${clock(lastUpdatedAt)}${age >= 60 ? ` (${duration(age)} ago)` : ''}`;
  e.dataset.updatedAt = lastUpdatedAt.toISOString();
}

function initTheme() {
  const saved = localStorage.getItem('theme');
  if (saved === 'dark' || saved === 'light') document.documentElement.dataset.theme = saved;
  const button = document.getElementById('theme-toggle');
  const current = () =>
    document.documentElement.dataset.theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  const label = () => {
    const next = current() === 'dark' ? 'light' : 'dark';
    button.setAttribute('aria-label', `Switch to ${next} theme`);
    button.title = `Switch to ${next} theme`;
    button.textContent = current() === 'dark' ? '☀' : '☾';
  };
  button?.addEventListener('click', () => {
    const next = current() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('theme', next);
    label();
    window.dispatchEvent(new CustomEvent('themechange'));
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    label();
    window.dispatchEvent(new CustomEvent('themechange'));
  });
  if (button) label();
}

// Logout is a POST carrying the session's CSRF token (a GET only shows a confirmation page), so
// another site cannot sign anyone out. The answer names where to go next (the issuer's logout).
async function signOut(event) {
  if (!ctx.me || !ctx.me.csrf_token) return;  // no session token: the /logout page asks
  event.preventDefault();
  try {
    const res = await fetch('/logout', {
      method: 'POST',
      headers: { Accept: 'application/json', 'X-CSRF-Token': ctx.me.csrf_token },
      credentials: 'same-origin',
    });
    const body = res.ok ? await res.json() : {};
    location.assign(body.location || '/');
  } catch (err) {
    location.assign('/logout');
  }
}

async function initUser() {
  const box = document.getElementById('user');
  try {
    const me = await api('me');
    ctx.me = me;
    const role = me.admin ? 'admin' : me.manager ? 'manager' : 'researcher';
    fill(box,
      el('span', { class: 'who', title: me.subject || '' }, me.name || me.subject || 'signed in'),
      el('span', { class: `role role-${role}` }, role),
      el('a', { href: '/logout', class: 'signout', onclick: signOut }, 'Sign out'));
  } catch (err) {
    ctx.me = null;
    fill(box, el('a', { href: `/login?next=${encodeURIComponent(location.pathname + location.search)}`, class: 'signin' }, 'Sign in'));
  }
}

// The collector writes each hub's last good sync; three intervals without one means the numbers on
// screen may be old.
async function checkStale() {
  const banner = document.getElementById('stale-banner');
  try {
    const hubs = await api('hub', { rows: 100, fl: 'key,name,display_name,last_sync_ok_at,state', fq: '-state:gone' });
    const limit = 3 * ctx.intervalSeconds;
    const stale = hubs.list.filter((h) => {
      const age = ageSeconds(h.last_sync_ok_at);
      return age === null || age > limit;
    });
    if (stale.length === 0) {
      banner.hidden = true;
      banner.replaceChildren();
      return;
    }
    fill(banner, el('strong', {}, 'Stale data. '),
      stale.map((h, i) => [i ? '; ' : '',
        `Hub ${h.display_name || h.name}: `,
        h.last_sync_ok_at ? `last successful sync ${dateTime(h.last_sync_ok_at)} (${duration(ageSeconds(h.last_sync_ok_at))} ago)` : 'no successful sync yet']),
      ` — the collector syncs every ${duration(ctx.intervalSeconds)}; numbers older than ${duration(limit)} are flagged.`);
    banner.hidden = false;
  } catch {
    /* not signed in or no hub access: the page itself says so */
  }
}

// Live updates: one EventSource for the page; refreshes are coalesced so a burst of changes from
// one sync costs one reload of the page's data. Falls back to polling while the stream is down.
const watchers = [];

export function onChange(models, refresh) {
  watchers.push({ models: new Set(models), refresh, pending: false, timer: null });
}

function schedule(w) {
  if (w.timer) return;
  w.timer = setTimeout(async () => {
    w.timer = null;
    try {
      await w.refresh();
      markUpdated();
    } catch {
      /* the region shows its own error */
    }
  }, 750);
}

function initLive() {
  const text = document.getElementById('live-text');
  const box = document.getElementById('live');
  const set = (state, label) => {
    box.dataset.state = state;
    text.textContent = label;
  };
  if (!('EventSource' in window)) {
    set('off', 'polling');
    setInterval(() => watchers.forEach(schedule), ctx.intervalSeconds * 1000);
    return;
  }
  let poll = null;
  const source = new EventSource('/api/events');
  const handle = (ev) => {
    let data = {};
    try {
      data = JSON.parse(ev.data);
    } catch {
      return;
    }
    window.dispatchEvent(new CustomEvent('api-event', { detail: data }));
    for (const w of watchers) if (!data.model || w.models.has(data.model)) schedule(w);
  };
  source.onmessage = handle;
  for (const m of ctx.models) source.addEventListener(m.name, handle);
  for (const name of ['change', 'update', 'upsert', 'delete']) source.addEventListener(name, handle);
  source.onopen = () => {
    set('live', 'live');
    if (poll) clearInterval(poll);
    poll = null;
  };
  source.onerror = () => {
    set('off', 'reconnecting');
    if (!poll) poll = setInterval(() => watchers.forEach(schedule), ctx.intervalSeconds * 1000);
  };
}

export async function initShell() {
  initTheme();
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === ctx.page || (a.dataset.nav === 'fleet' && ['cluster', 'node', 'gpu', 'project'].includes(ctx.page))) {
      a.setAttribute('aria-current', 'page');
    }
  }
  await initUser();
  checkStale();
  setInterval(checkStale, Math.max(5, ctx.intervalSeconds) * 1000);
  setInterval(renderUpdated, 15000);
  initLive();
}

export function setTitle(text, crumbs = []) {
  document.getElementById('title').textContent = text;
  document.title = `${text} · AI Telemetry`;
  fill(document.getElementById('crumbs'), crumbs.map((c, i) => [i ? el('span', { class: 'sep', 'aria-hidden': 'true' }, '/') : null, c.href ? el('a', { href: c.href }, c.text) : c.text]));
}

export function pageActions(...nodes) {
  fill(document.getElementById('page-actions'), nodes);
}

// A "copy link" button for the current filtered view.
export function shareButton() {
  const b = el('button', { type: 'button', class: 'button ghost' }, 'Copy link');
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      b.textContent = 'Link copied';
    } catch {
      b.textContent = 'Copy the address bar';
    }
    setTimeout(() => (b.textContent = 'Copy link'), 2000);
  });
  return b;
}
