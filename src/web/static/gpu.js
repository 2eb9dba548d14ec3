// One GPU: its readings now, activity and power history from the hourly usage rollups, live
// readings since the page opened, its MIG slices and holders, and its health events.

import { api, el, fill, section, tile, failure, onChange, fq, hrefFor, clusterKey, nodeKey, projectKey, link, setTitle, stateBadge, ctx } from './core.js';
import { int, num, pct, bytes, watts, celsius, ago, dateTime, duration, ageSeconds, energy, hz, gpus as gpuEq } from './format.js';
import { table, tableFooter } from './table.js';
import { timeChart } from './charts.js';

const HISTORY_DAYS = 7;

export async function mount(root) {
  const key = ctx.key;
  let gpu = await api(`gpu/${encodeURIComponent(key)}`);
  setTitle(`GPU ${gpu.gpu_index ?? ''} on ${gpu.node}`, [
    { text: 'Fleet', href: '/' },
    { text: `cluster ${gpu.cluster}`, href: hrefFor.cluster(clusterKey(gpu.hub, gpu.cluster)) },
    { text: `node ${gpu.node}`, href: hrefFor.node(nodeKey(gpu.hub, gpu.cluster, gpu.node)) },
  ]);
  const now = section('Now', { subtitle: `${gpu.model_name || 'Unknown model'} · ${gpu.uuid} · driver ${gpu.driver_version || 'unknown'}`, wide: true });
  const history = section(`History, last ${HISTORY_DAYS} days`, { subtitle: 'From the hourly usage rollups: mean engine activity and mean power per UTC hour.', wide: true });
  const live = section('Live readings', { subtitle: 'Sampled from this GPU\'s record on every update since this page opened.', wide: true });
  const slices = section('MIG slices and holders', { subtitle: 'Open allocations of this GPU and its slices, now.', wide: true });
  const health = section('Health events', { subtitle: 'XID errors, remapped rows, thermal and health alerts, newest first.', wide: true });
  fill(root, el('div', { class: 'grid' }, now.section, history.section, live.section, slices.section, health.section));

  const samples = [];
  const drawNow = () => {
    const idleFor = ageSeconds(gpu.last_active_at);
    fill(now.body, el('div', { class: 'tiles' },
      tile('State', stateBadge(gpu.state), 'now', { id: 'tile-state', detail: gpu.state === 'allocated-idle' ? `idle for ${gpu.last_active_at ? duration(idleFor) : 'its whole allocation'}` : '' }),
      tile('Engine activity', pct(gpu.activity_ratio, 1), 'now', { id: 'tile-activity', detail: `utilisation ${pct(gpu.utilization_ratio)}` }),
      tile('Memory in use', bytes(gpu.memory_used_bytes), 'now', { id: 'tile-memory', detail: `of ${bytes(gpu.memory_total_bytes)}` }),
      tile('Power draw', watts(gpu.power_watts), 'now', { id: 'tile-power' }),
      tile('Temperature', celsius(gpu.temperature_celsius), 'now', { id: 'tile-temperature' }),
      tile('SM clock', hz(gpu.sm_clock_hz), 'now'),
      tile('Held by', gpu.project ? link(hrefFor.project(projectKey(gpu.hub, gpu.cluster, gpu.project)), gpu.project) : 'nobody', 'now', { detail: gpu.pod ? `pod ${gpu.pod}` : '' }),
      tile('Last active', gpu.last_active_at ? ago(gpu.last_active_at) : '—', 'engine activity > 0', { detail: gpu.last_active_at ? dateTime(gpu.last_active_at) : 'no activity recorded' }),
      tile('Last seen', ago(gpu.last_seen_at), 'by the collector', { detail: gpu.stale_since ? `stale since ${dateTime(gpu.stale_since)}` : '' })));
  };
  const drawLive = () => {
    samples.push({ t: Date.now() / 1000, a: gpu.activity_ratio, m: gpu.memory_used_bytes, p: gpu.power_watts, c: gpu.temperature_celsius });
    if (samples.length > 720) samples.shift();
    const times = samples.map((s) => s.t);
    fill(live.body, samples.length < 2
      ? el('div', { class: 'state empty' }, el('strong', {}, 'Collecting…'), el('span', {}, `A point is added each time the collector updates this GPU (every ${duration(ctx.intervalSeconds)}).`))
      : el('div', { class: 'charts-2' },
        timeChart(times, [{ label: 'Activity', unit: '%', values: samples.map((s) => (s.a == null ? null : s.a * 100)), color: 1, fmt: (v) => `${num(v, 1)} %` }], { height: 160, ariaLabel: 'Engine activity in percent since this page opened', yRange: [0, 100] }),
        timeChart(times, [{ label: 'Memory used', unit: 'GiB', values: samples.map((s) => (s.m == null ? null : s.m / 2 ** 30)), fmt: (v) => `${num(v, 1)} GiB` }], { height: 160, ariaLabel: 'Memory used in GiB since this page opened' }),
        timeChart(times, [{ label: 'Power', unit: 'W', values: samples.map((s) => s.p), color: 2, fmt: (v) => `${num(v, 0)} W` }], { height: 160, ariaLabel: 'Power draw in watts since this page opened' }),
        timeChart(times, [{ label: 'Temperature', unit: '°C', values: samples.map((s) => s.c), color: 3, fmt: (v) => `${num(v, 0)} °C` }], { height: 160, ariaLabel: 'Temperature in degrees Celsius since this page opened' })));
  };
  const drawHistory = async () => {
    const to = new Date();
    const from = new Date(to.getTime() - HISTORY_DAYS * 86400e3);
    from.setUTCMinutes(0, 0, 0);
    const res = await api('usage', { groupBy: 'gpu', from: from.toISOString(), to: to.toISOString(), step: 'hour', hub: gpu.hub, cluster: gpu.cluster });
    const rows = res.rows.filter((r) => r.key === gpu.key || r.key === gpu.uuid).sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    const times = rows.map((r) => Date.parse(r.time) / 1000);
    const historyRange = [from.getTime() / 1000, to.getTime() / 1000];  // the whole window, even with few points
    const totalEnergy = rows.reduce((s, r) => s + (r.energy_joules || 0), 0);
    const alloc = rows.reduce((s, r) => s + (r.allocated_gpu_hours || 0), 0);
    const active = rows.reduce((s, r) => s + (r.active_gpu_hours || 0), 0);
    fill(history.body,
      el('div', { class: 'tiles' },
        tile('Allocated', `${num(alloc, 1)} GPU·h`, `last ${HISTORY_DAYS} days`),
        tile('Active', `${num(active, 1)} GPU·h`, `last ${HISTORY_DAYS} days`, { detail: 'activity-weighted' }),
        tile('Energy', energy(totalEnergy), `last ${HISTORY_DAYS} days`)),
      el('div', { class: 'charts-2' },
        timeChart(times, [{ label: 'Mean activity', unit: '%', values: rows.map((r) => (r.active_gpu_hours ?? 0) * 100), color: 1, fill: true, fmt: (v) => `${num(v, 1)} %` }], { height: 180, xRange: historyRange, ariaLabel: `Mean engine activity per hour over the last ${HISTORY_DAYS} days, in percent`, emptyTitle: 'No usage history yet.', emptyHint: 'Hourly rollups appear after the collector has seen this GPU for an hour.' }),
        timeChart(times, [{ label: 'Mean power', unit: 'W', values: rows.map((r) => (r.energy_joules ?? 0) / 3600), color: 2, fill: true, fmt: (v) => `${num(v, 0)} W` }], { height: 180, xRange: historyRange, ariaLabel: `Mean power per hour over the last ${HISTORY_DAYS} days, in watts`, emptyTitle: 'No energy history yet.' })));
  };
  const drawSlices = async () => {
    const [sl, allocs] = await Promise.all([
      api('gpu-slice', { fq: fq('gpu_key', gpu.key), rows: 100, sort: 'gpu_i_id asc' }),
      api('allocation', { fq: [fq('gpu_uuid', gpu.uuid), 'state:open'], rows: 100, sort: 'started_at asc' }),
    ]);
    fill(slices.body,
      sl.list.length ? table([
        { label: 'Slice', value: (s) => `${s.gpu_i_id}` },
        { label: 'Profile', value: (s) => s.profile ?? '—' },
        { label: 'Share', unit: 'GPU', num: true, value: (s) => num(s.compute_share, 3) },
        { label: 'State', value: (s) => stateBadge(s.state) },
        { label: 'Activity', unit: 'now', num: true, value: (s) => pct(s.activity_ratio, 1) },
        { label: 'Memory', unit: 'now', num: true, value: (s) => `${bytes(s.memory_used_bytes)} / ${bytes(s.memory_total_bytes)}` },
        { label: 'Held by', value: (s) => (s.project ? el('span', {}, link(hrefFor.project(projectKey(s.hub, s.cluster, s.project)), s.project), ` / ${s.pod ?? ''}`) : 'nobody') },
        { label: 'Idle for', num: true, value: (s) => (s.state === 'allocated-idle' ? duration(ageSeconds(s.last_active_at ?? s.first_seen_at)) : '—') },
      ], sl.list, { caption: 'MIG slices', rowClass: (s) => (s.state === 'allocated-idle' ? 'flag-row' : '') }) : el('p', { class: 'muted' }, gpu.mig_enabled ? 'MIG is enabled but no slices are present.' : 'MIG is not enabled on this GPU: it is allocated whole.'),
      el('h3', {}, 'Open allocations'),
      table([
        { label: 'Project', value: (a) => link(hrefFor.project(projectKey(a.hub, a.cluster, a.project)), a.project) },
        { label: 'Pod', value: (a) => a.pod },
        { label: 'Container', value: (a) => a.container ?? '—' },
        { label: 'Device', value: (a) => (a.gpu_i_id ? `slice ${a.gpu_i_id} (${a.profile ?? ''})` : 'whole GPU') },
        { label: 'GPU-equivalents', num: true, value: (a) => gpuEq(a.gpu_equivalents) },
        { label: 'Since', value: (a) => dateTime(a.started_at), title: (a) => ago(a.started_at) },
      ], allocs.list, { caption: 'Open allocations', emptyTitle: 'Nobody holds this GPU now.' }));
  };
  const drawHealth = async () => {
    const params = { fq: fq('gpu_uuid', gpu.uuid), sort: 'observed_at desc', rows: 50 };
    const ev = await api('health-event', params);
    fill(health.body,
      table([
        { label: 'Observed', value: (e) => dateTime(e.observed_at) },
        { label: 'Kind', value: (e) => e.kind },
        { label: 'Code', num: true, value: (e) => int(e.code) },
        { label: 'Message', value: (e) => e.message ?? '' },
        { label: 'Ended', value: (e) => (e.ended_at ? dateTime(e.ended_at) : e.kind === 'alert' ? 'ongoing' : '—') },
      ], ev.list, { caption: 'Health events', emptyTitle: 'No health events.', emptyHint: 'No XID errors, remapped rows or health alerts recorded for this GPU.' }),
      ev.list.length ? tableFooter({ returned: ev.returnedNum, found: ev.foundNum, csv: { path: 'health-event', params } }) : null);
  };
  const guard = (s, f) => f().catch((e) => fill(s.body, failure(e)));
  drawNow();
  drawLive();
  await Promise.all([guard(history, drawHistory), guard(slices, drawSlices), guard(health, drawHealth)]);
  onChange(['gpu'], async () => {
    gpu = await api(`gpu/${encodeURIComponent(key)}`);
    drawNow();
    drawLive();
  });
  onChange(['gpu-slice', 'allocation'], () => guard(slices, drawSlices));
  onChange(['health-event'], () => guard(health, drawHealth));
}
