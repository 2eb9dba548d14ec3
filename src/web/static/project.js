// One project: GPU-hours this month and per day, efficiency, usage by GPU model, its sessions as a
// timeline, and the GPUs and slices it holds now with idle holders flagged.

import { api, el, fill, section, tile, failure, onChange, fq, hrefFor, clusterKey, link, setTitle, stateBadge, traceUrl, ctx } from './core.js';
import { int, num, pct, bytes, gpuHours, energy, ago, dateTime, duration, ageSeconds, day } from './format.js';
import { table, tableFooter } from './table.js';
import { timeChart } from './charts.js';

export async function mount(root) {
  const p = await api(`project/${encodeURIComponent(ctx.key)}`);
  const scope = { hub: p.hub, cluster: p.cluster, project: p.namespace };
  const fqs = [fq('hub', p.hub), fq('cluster', p.cluster), fq('project', p.namespace)];
  setTitle(`Project ${p.display_name || p.namespace}`, [
    { text: 'Fleet', href: '/' },
    { text: `cluster ${p.cluster}`, href: hrefFor.cluster(clusterKey(p.hub, p.cluster)) },
  ]);
  const now = new Date();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const monthName = monthStart.toLocaleString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const month = section(`GPU-hours, ${monthName}`, { subtitle: `UTC days from ${day(monthStart)} to now. Allocated = GPU-equivalent hours held; active = activity-weighted.`, wide: true });
  const models = section('By GPU model', { subtitle: `${monthName}, UTC.`, wide: true });
  const holds = section('Holding now', { subtitle: 'GPUs and MIG slices this project holds, now. Idle holders are flagged.', wide: true });
  const sessions = section('Sessions', { subtitle: `GPU sessions started since ${day(monthStart)} (UTC), newest 200.`, wide: true });
  fill(root,
    el('p', { class: 'lede' }, `Namespace ${p.namespace} on ${p.cluster}`, p.owner ? ` · owner ${p.owner}` : '', p.description ? ` · ${p.description}` : ''),
    el('div', { class: 'grid' }, month.section, holds.section, models.section, sessions.section));

  const drawMonth = async () => {
    const window = { groupBy: 'project', from: monthStart.toISOString(), to: new Date().toISOString(), ...scope };
    const [res, whole] = await Promise.all([api('usage', { ...window, step: 'day' }), api('usage', window)]);
    const rows = res.rows.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    // Completeness of the month: the share of its held time that samples covered.
    const observed = whole.rows.length ? whole.rows[0].observed_fraction : null;
    const sum = (f) => rows.reduce((s, r) => s + (r[f] || 0), 0);
    const alloc = sum('gpu_equivalent_hours');
    const active = sum('active_gpu_hours');
    const idle = sum('idle_gpu_hours');
    fill(month.body,
      el('div', { class: 'tiles' },
        tile('Allocated', gpuHours(alloc), `${monthName} to date`, { id: 'tile-month-allocated' }),
        tile('Active', gpuHours(active), `${monthName} to date`, { id: 'tile-month-active', detail: 'activity-weighted' }),
        tile('Efficiency', alloc > 0 ? pct(active / alloc) : '—', `${monthName} to date`, { id: 'tile-month-efficiency', detail: 'active ÷ allocated', tone: alloc > 0 && active / alloc < 0.2 ? 'warn' : '' }),
        tile('Idle held', gpuHours(idle), `${monthName} to date`, { detail: 'allocated with 0 % activity', tone: idle > 0 ? 'warn' : '' }),
        tile('Energy', energy(sum('energy_joules')), `${monthName} to date`),
        tile('Holding now', num(p.gpus_allocated, 2), 'GPU-equivalents, now'),
        tile('Observed', observed == null ? '—' : pct(observed, 1), `${monthName} to date`, { id: 'tile-month-observed', detail: 'share of the time samples covered; the rest is in no GPU-hours', tone: observed != null && observed < 0.99 ? 'warn' : '' })),
      timeChart(rows.map((r) => Date.parse(r.time) / 1000), [
        { label: 'Allocated', unit: 'GPU·h per day', values: rows.map((r) => r.gpu_equivalent_hours ?? 0), bars: true, fmt: (v) => num(v, 1) },
        { label: 'Active', unit: 'GPU·h per day', values: rows.map((r) => r.active_gpu_hours ?? 0), bars: true, fmt: (v) => num(v, 1) },
      ], { height: 220, xRange: [monthStart.getTime() / 1000, new Date(Date.UTC(monthStart.getUTCFullYear(), monthStart.getUTCMonth() + 1, 1)).getTime() / 1000], ariaLabel: `Allocated and active GPU-hours per day in ${monthName}`, emptyTitle: 'No usage this month yet.', emptyHint: 'This project has not held a GPU since the month began.' }));
  };
  const drawModels = async () => {
    const res = await api('usage', { groupBy: 'model', from: monthStart.toISOString(), to: new Date().toISOString(), step: 'month', ...scope });
    fill(models.body, table([
      { label: 'GPU model', value: (r) => r.key || 'unknown' },
      { label: 'Allocated', unit: 'GPU·h', num: true, value: (r) => num(r.gpu_equivalent_hours, 1) },
      { label: 'Active', unit: 'GPU·h', num: true, value: (r) => num(r.active_gpu_hours, 1) },
      { label: 'Efficiency', unit: '%', num: true, value: (r) => pct(r.efficiency) },
      { label: 'Observed', unit: '%', num: true, value: (r) => (r.observed_fraction == null ? '—' : pct(r.observed_fraction)) },
    ], res.rows, { caption: 'GPU-hours by GPU model', emptyTitle: 'No usage this month yet.' }));
  };
  const drawHolds = async () => {
    const params = { fq: fqs, rows: 200, sort: 'last_active_at asc' };
    const [g, s] = await Promise.all([api('gpu', params), api('gpu-slice', params)]);
    const rows = [...g.list.map((x) => ({ ...x, gpuKey: x.key, what: 'whole GPU' })), ...s.list.map((x) => ({ ...x, gpuKey: x.gpu_key, what: `slice ${x.profile ?? x.gpu_i_id}` }))];
    fill(holds.body, table([
      { label: 'Device', value: (r) => link(hrefFor.gpu(r.gpuKey), `${r.node} · ${r.what}`) },
      { label: 'Pod', value: (r) => r.pod ?? '—' },
      { label: 'State', value: (r) => stateBadge(r.state) },
      { label: 'Activity', unit: 'now', num: true, value: (r) => pct(r.activity_ratio) },
      { label: 'Idle for', num: true, value: (r) => (r.state === 'allocated-idle' ? el('span', { class: 'idle-for' }, duration(ageSeconds(r.last_active_at ?? r.first_seen_at))) : '—') },
    ], rows, { caption: 'Devices held now', emptyTitle: 'Holding no GPU now.', rowClass: (r) => (r.state === 'allocated-idle' ? 'flag-row' : '') }),
    rows.length ? tableFooter({ returned: g.returnedNum + s.returnedNum, found: g.foundNum + s.foundNum, csv: { path: 'gpu', params } }) : null);
  };
  const drawSessions = async () => {
    const params = { fq: [...fqs, `started_at:[${monthStart.toISOString()} TO *]`], sort: 'started_at desc', rows: 200 };
    const res = await api('session', params);
    fill(sessions.body,
      res.list.length ? timeline(res.list, monthStart, new Date()) : null,
      table([
        { label: 'Started', value: (s) => dateTime(s.started_at) },
        { label: 'Pod', value: (s) => s.pod ?? '—' },
        { label: 'Duration', num: true, value: (s) => duration(((s.ended_at ? Date.parse(s.ended_at) : Date.now()) - Date.parse(s.started_at)) / 1000) },
        { label: 'Status', value: (s) => stateBadge(s.status) },
        { label: 'Active', unit: 'GPU·h', num: true, value: (s) => num((s.active_gpu_seconds ?? NaN) / 3600, 2) },
        { label: 'Energy', num: true, value: (s) => energy(s.energy_joules) },
        { label: 'Trace', value: (s) => (traceUrl(s.trace_id) ? el('a', { href: traceUrl(s.trace_id), target: '_blank', rel: 'noopener' }, 'Open trace') : s.trace_id ? el('code', {}, s.trace_id.slice(0, 12)) : '—') },
      ], res.list, { caption: 'Sessions', emptyTitle: 'No sessions this month.', emptyHint: 'Sessions come from the GPU-usage alerts Alertmanager sends.' }),
      res.list.length ? tableFooter({ returned: res.returnedNum, found: res.foundNum, csv: { path: 'session', params } }) : null);
  };
  const guard = (s, f) => f().catch((e) => fill(s.body, failure(e)));
  await Promise.all([guard(month, drawMonth), guard(models, drawModels), guard(holds, drawHolds), guard(sessions, drawSessions)]);
  onChange(['project'], async () => {
    const q = await api(`project/${encodeURIComponent(ctx.key)}`);
    setTitle(`Project ${q.display_name || q.namespace}`, [
      { text: 'Fleet', href: '/' },
      { text: `cluster ${q.cluster}`, href: hrefFor.cluster(clusterKey(q.hub, q.cluster)) },
    ]);
  });
  onChange(['gpu', 'gpu-slice'], () => guard(holds, drawHolds));
  onChange(['session'], () => guard(sessions, drawSessions));
  onChange(['usage'], () => Promise.all([guard(month, drawMonth), guard(models, drawModels)]));
}

// Sessions as bars on a time axis, one lane per pod (HTML, positioned in percent, so text stays crisp).
function timeline(list, from, to) {
  const lanes = [...new Set(list.map((s) => s.pod || s.key))].slice(0, 24);
  const t0 = from.getTime();
  const t1 = Math.max(to.getTime(), t0 + 3600e3);
  const x = (t) => (100 * (Math.min(Math.max(t, t0), t1) - t0)) / (t1 - t0);
  const days = [];
  for (let d = new Date(from); d <= to; d = new Date(d.getTime() + 86400e3)) days.push(d);
  const step = Math.max(1, Math.ceil(days.length / 10));
  return el('figure', { class: 'timeline' },
    el('figcaption', { class: 'visually-hidden' }, `Timeline of ${list.length} sessions by pod from ${day(from)} to now (UTC)`),
    lanes.map((lane) => el('div', { class: 'tl-lane' },
      el('div', { class: 'tl-label', title: lane }, lane),
      el('div', { class: 'tl-track' }, list.filter((s) => (s.pod || s.key) === lane).map((s) => {
        const start = Date.parse(s.started_at);
        const end = s.ended_at ? Date.parse(s.ended_at) : Date.now();
        return el('span', { class: `tl-bar ${s.ended_at ? 'closed' : 'open'}`, style: { left: `${x(start)}%`, width: `max(3px, ${x(end) - x(start)}%)` },
          title: `${s.pod}: ${dateTime(s.started_at)} – ${s.ended_at ? dateTime(s.ended_at) : 'open'}` });
      })))),
    el('div', { class: 'tl-lane tl-axis', 'aria-hidden': 'true' },
      el('div', { class: 'tl-label' }, 'UTC'),
      el('div', { class: 'tl-track' }, days.filter((_, i) => i % step === 0).map((d) => el('span', { class: 'tl-tick', style: { left: `${x(d.getTime())}%` } }, d.toISOString().slice(5, 10))))));
}
