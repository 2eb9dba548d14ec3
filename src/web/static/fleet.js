// Fleet overview: the GPU funnel (total -> allocated -> active -> effective), allocated-but-idle
// GPUs and slices with how long they have been idle and who holds them, the split by GPU model and
// by cluster, and the last 24 hours of GPU-hours.

import { api, el, fill, section, tile, failure, onChange, fq, hrefFor, clusterKey, projectKey, link, stateBadge } from './core.js';
import { int, num, pct, share, duration, ageSeconds, gpuHours, bytes, dateTime } from './format.js';
import { table, tableFooter } from './table.js';
import { timeChart } from './charts.js';

const PRESENT = '-state:gone';
const ALLOCATED = 'state:(allocated-idle OR active)';
// fl names must exist on the model asked (the API refuses unknown fields), so each has its own list.
const IDLE_COMMON = 'key,hub,cluster,node,model_name,project,pod,state,last_active_at,first_seen_at,memory_used_bytes';
const IDLE_FIELDS = { gpu: `${IDLE_COMMON},gpu_index`, 'gpu-slice': `${IDLE_COMMON},gpu_key,gpu_i_id,profile` };

export async function mount(root) {
  const funnel = section('GPU funnel', { subtitle: 'Present GPUs, now. Effective = Σ engine activity, in GPU-equivalents.', wide: true });
  const idle = section('Allocated but idle', { subtitle: 'GPUs and MIG slices held by a pod with zero engine activity, longest idle first. Idle for = now − last activity.', wide: true });
  const byModel = section('By GPU model', { subtitle: 'Present GPUs, now.' });
  const byCluster = section('By cluster', { subtitle: 'Present GPUs, now.' });
  const usage = section('GPU-hours, last 24 hours', { subtitle: 'Allocated vs activity-weighted GPU-hours per UTC hour, all hubs.', wide: true });
  fill(root, el('div', { class: 'grid' }, funnel.section, idle.section, byModel.section, byCluster.section, usage.section));

  const refresh = async () => {
    await Promise.all([
      drawCounts(funnel.body, byModel.body, byCluster.body).catch((e) => [funnel, byModel, byCluster].forEach((s) => fill(s.body, failure(e)))),
      drawIdle(idle.body).catch((e) => fill(idle.body, failure(e))),
      drawUsage(usage.body).catch((e) => fill(usage.body, failure(e))),
    ]);
  };
  await refresh();
  onChange(['gpu', 'gpu-slice', 'cluster', 'hub'], refresh);
}

const facetOf = (res, field) => res.facet_counts?.facet_fields?.[field] || {};

async function drawCounts(funnelBody, modelBody, clusterBody) {
  const facets = ['model_name', 'cluster'];
  const [all, allocated, active, clusters] = await Promise.all([
    api('gpu', { rows: 0, fq: PRESENT, 'facet.field': [...facets, 'state'], 'stats.field': ['activity_ratio', 'power_watts', 'memory_used_bytes', 'memory_total_bytes'] }),
    api('gpu', { rows: 0, fq: [PRESENT, ALLOCATED], 'facet.field': facets }),
    api('gpu', { rows: 0, fq: [PRESENT, 'state:active'], 'facet.field': facets }),
    api('cluster', { rows: 1000, fl: 'key,hub,name,display_name,state', sort: 'name asc' }),
  ]);
  const total = all.foundNum;
  const effective = all.stats?.stats_fields?.activity_ratio?.sum ?? null;
  const steps = [
    { id: 'funnel-total', label: 'Total', value: total, text: int(total), note: 'GPUs present' },
    { id: 'funnel-allocated', label: 'Allocated', value: allocated.foundNum, text: int(allocated.foundNum), note: `GPUs held by a pod · ${share(allocated.foundNum, total)} of total` },
    { id: 'funnel-active', label: 'Active', value: active.foundNum, text: int(active.foundNum), note: `GPUs with engine activity > 0 · ${share(active.foundNum, total)} of total` },
    { id: 'funnel-effective', label: 'Effective', value: effective, text: num(effective, 1), note: `GPU-equivalents of engine activity · ${share(effective, total)} of total` },
  ];
  const power = all.stats?.stats_fields?.power_watts;
  const memUsed = all.stats?.stats_fields?.memory_used_bytes?.sum;
  const memTotal = all.stats?.stats_fields?.memory_total_bytes?.sum;
  fill(funnelBody,
    total === 0 ? el('div', { class: 'state empty' }, el('strong', {}, 'No GPUs yet.'), el('span', {}, 'The collector has not seen any GPU, or your grants include none.')) : null,
    el('ol', { class: 'funnel' }, steps.map((s) =>
      el('li', { id: s.id, class: 'funnel-step' },
        el('div', { class: 'funnel-label' }, s.label),
        el('div', { class: 'funnel-bar', 'aria-hidden': 'true' }, el('span', { style: { width: `${total > 0 && s.value !== null ? Math.max(0.5, (100 * s.value) / total) : 0}%` } })),
        el('div', { class: 'funnel-value' }, el('span', { class: 'big', 'data-value': '' }, s.text), el('span', { class: 'unit' }, s.label === 'Effective' ? ' GPU-eq.' : ' GPU')),
        el('div', { class: 'funnel-note' }, s.note)))),
    el('div', { class: 'tiles' },
      tile('Power draw', power?.sum != null ? `${int(power.sum)} W` : '—', 'now, all present GPUs', { detail: power?.mean != null ? `mean ${int(power.mean)} W per GPU` : '' }),
      tile('Memory in use', bytes(memUsed), 'now', { detail: `${share(memUsed, memTotal)} of ${bytes(memTotal)}` }),
      tile('Idle holders', int(facetOf(all, 'state')['allocated-idle'] ?? 0), 'GPUs allocated with 0 % activity, now', { tone: (facetOf(all, 'state')['allocated-idle'] ?? 0) > 0 ? 'warn' : '' })));

  const rowsOf = (field, keys) => keys.map((k) => ({
    name: k,
    total: facetOf(all, field)[k] ?? 0,
    allocated: facetOf(allocated, field)[k] ?? 0,
    active: facetOf(active, field)[k] ?? 0,
  })).sort((a, b) => b.total - a.total);
  const countCols = (first) => [
    first,
    { label: 'GPUs', num: true, value: (r) => int(r.total) },
    { label: 'Allocated', num: true, value: (r) => int(r.allocated) },
    { label: 'Active', num: true, value: (r) => int(r.active) },
    { label: 'Allocated', unit: '% of GPUs', num: true, value: (r) => share(r.allocated, r.total) },
    { label: 'Active', unit: '% of allocated', num: true, value: (r) => share(r.active, r.allocated) },
  ];
  fill(modelBody, table(countCols({ label: 'GPU model', value: (r) => link(`/search/gpu?fq=${encodeURIComponent(fq('model_name', r.name))}`, r.name || 'unknown') }),
    rowsOf('model_name', Object.keys(facetOf(all, 'model_name'))), { caption: 'GPUs by model', emptyTitle: 'No GPUs yet.' }));
  const clusterRows = rowsOf('cluster', Object.keys(facetOf(all, 'cluster')));
  const keyOf = new Map(clusters.list.map((c) => [c.name, c]));
  fill(clusterBody, table(countCols({ label: 'Cluster', value: (r) => {
    const c = keyOf.get(r.name);
    return c ? link(hrefFor.cluster(c.key), c.display_name || c.name) : r.name;
  } }), clusterRows, { caption: 'GPUs by cluster', emptyTitle: 'No clusters yet.' }));
}

async function drawIdle(body) {
  // A MIG parent takes the busiest state of its slices; its idle slices are listed themselves.
  const params = (model) => ({ fq: model === 'gpu' ? ['state:allocated-idle', '-mig_enabled:true'] : 'state:allocated-idle', sort: 'last_active_at asc', rows: 50, fl: IDLE_FIELDS[model] });
  const [gpus, slices] = await Promise.all([api('gpu', params('gpu')), api('gpu-slice', params('gpu-slice'))]);
  const rows = [...gpus.list.map((g) => ({ ...g, kind: 'GPU', gpuKey: g.key })), ...slices.list.map((s) => ({ ...s, kind: `Slice ${s.profile || s.gpu_i_id}`, gpuKey: s.gpu_key }))];
  // Idle since the last activity; never active: since it was first seen.
  for (const r of rows) r.idleFor = ageSeconds(r.last_active_at ?? r.first_seen_at);
  rows.sort((a, b) => (b.idleFor ?? -1) - (a.idleFor ?? -1));
  fill(body,
    table([
      { label: 'Device', value: (r) => link(hrefFor.gpu(r.gpuKey), `${r.node} · GPU ${r.gpu_index ?? ''}`.trim()) },
      { label: 'Kind', value: (r) => r.kind },
      { label: 'Model', value: (r) => r.model_name ?? '—' },
      { label: 'Held by', value: (r) => el('span', {}, r.project ? link(hrefFor.project(projectKey(r.hub, r.cluster, r.project)), r.project) : el('span', { class: 'muted' }, 'unknown project'), r.pod ? el('span', { class: 'muted' }, ` / ${r.pod}`) : '') },
      { label: 'Idle for', unit: 'now − last activity', num: true, value: (r) => el('span', { class: 'idle-for' }, r.last_active_at ? duration(r.idleFor) : `> ${duration(r.idleFor)}`), title: (r) => r.last_active_at ? `last active ${dateTime(r.last_active_at)}` : 'no activity since first seen' },
      { label: 'Memory held', num: true, value: (r) => bytes(r.memory_used_bytes) },
      { label: 'State', value: (r) => stateBadge(r.state) },
    ], rows, { caption: 'Allocated but idle devices', emptyTitle: 'No idle holders.', emptyHint: 'Every allocated GPU and slice shows engine activity right now.', rowClass: () => 'flag-row' }),
    rows.length ? el('div', { class: 'table-foot-row' },
      tableFooter({ returned: gpus.returnedNum, found: gpus.foundNum, csv: { path: 'gpu', params: params('gpu') } }),
      tableFooter({ returned: slices.returnedNum, found: slices.foundNum, csv: { path: 'gpu-slice', params: params('gpu-slice') } })) : null);
}

async function drawUsage(body) {
  const to = new Date();
  const from = new Date(to.getTime() - 24 * 3600 * 1000);
  from.setUTCMinutes(0, 0, 0);
  const res = await api('usage', { groupBy: 'hub', from: from.toISOString(), to: to.toISOString(), step: 'hour' });
  const byTime = new Map();
  for (const r of res.rows) {
    const t = Date.parse(r.time) / 1000;
    const agg = byTime.get(t) || { alloc: 0, active: 0 };
    agg.alloc += r.gpu_equivalent_hours ?? r.allocated_gpu_hours ?? 0;
    agg.active += r.active_gpu_hours ?? 0;
    byTime.set(t, agg);
  }
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const alloc = times.map((t) => byTime.get(t).alloc);
  const act = times.map((t) => byTime.get(t).active);
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  fill(body,
    el('div', { class: 'tiles' },
      tile('Allocated', gpuHours(sum(alloc)), 'last 24 h', { detail: 'GPU-equivalent hours held' }),
      tile('Active', gpuHours(sum(act)), 'last 24 h', { detail: 'activity-weighted' }),
      tile('Efficiency', sum(alloc) > 0 ? pct(sum(act) / sum(alloc)) : '—', 'last 24 h', { detail: 'active ÷ allocated' })),
    timeChart(times, [
      { label: 'Allocated', unit: 'GPU·h per h', values: alloc, fmt: (v) => num(v, 2), fill: true },
      { label: 'Active', unit: 'GPU·h per h', values: act, fmt: (v) => num(v, 2), fill: true },
    ], { ariaLabel: 'Allocated and active GPU-hours per hour over the last 24 hours', emptyTitle: 'No usage recorded in the last 24 hours.', emptyHint: 'Usage rollups appear after the collector has run for an hour.' }));
}
