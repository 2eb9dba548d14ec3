// The GPU heat map of a cluster or node: one tile per GPU, grouped by node, coloured by engine
// activity; a MIG GPU's tile is split into its slices, each sized by its compute share and coloured
// by its own activity. Text under each tile gives activity, memory and power, so colour is never
// the only carrier of a number.

import { el, hrefFor, nodeKey, link } from './core.js';
import { pct, bytes, watts, isNum, ago } from './format.js';

function level(ratio) {
  return isNum(ratio) ? Math.max(0, Math.min(1, ratio)) : null;
}

function swatch(ratio, state, title) {
  const l = level(ratio);
  return el('span', {
    class: `heat${l === null ? ' unknown' : ''} state-${state || 'unknown'}`,
    style: l === null ? {} : { '--level': String(l) },
    title,
  });
}

function gpuTile(gpu, slices) {
  const title = `GPU ${gpu.gpu_index ?? ''} ${gpu.model_name || ''}: activity ${pct(gpu.activity_ratio)}, state ${gpu.state}` +
    (gpu.project ? `, held by ${gpu.project}/${gpu.pod || ''}` : '');
  const face = slices.length
    ? el('span', { class: 'heat-split' }, slices.map((s) =>
      el('span', { class: 'slice', style: { 'flex-grow': String(s.compute_share || 1) } },
        swatch(s.activity_ratio, s.state, `Slice ${s.gpu_i_id} ${s.profile || ''}: activity ${pct(s.activity_ratio)}, ${s.state}${s.project ? `, held by ${s.project}/${s.pod || ''}` : ''}`))))
    : swatch(gpu.activity_ratio, gpu.state, title);
  const idle = gpu.state === 'allocated-idle' || slices.some((s) => s.state === 'allocated-idle');
  return el('a', { class: `gpu-tile${idle ? ' flagged' : ''}`, href: hrefFor.gpu(gpu.key), 'data-key': gpu.key, title },
    face,
    el('span', { class: 'tile-text' },
      el('span', { class: 'tile-name' }, `GPU ${gpu.gpu_index ?? '?'}`, slices.length ? el('span', { class: 'mig' }, ` MIG×${slices.length}`) : null),
      el('span', { class: 'tile-num', 'data-field': 'activity_ratio' }, pct(gpu.activity_ratio)),
      el('span', { class: 'tile-sub' }, `${bytes(gpu.memory_used_bytes)} / ${bytes(gpu.memory_total_bytes)}`),
      el('span', { class: 'tile-sub' }, `${watts(gpu.power_watts)}`, idle ? el('span', { class: 'idle-flag' }, ' · idle holder') : null)));
}

// gpus: GPU records; slices: slice records (matched by gpu_key). Returns the heat map element.
export function heatmap(gpus, slices, { showNodes = true } = {}) {
  const byGpu = new Map();
  for (const s of slices) {
    if (!byGpu.has(s.gpu_key)) byGpu.set(s.gpu_key, []);
    byGpu.get(s.gpu_key).push(s);
  }
  for (const list of byGpu.values()) list.sort((a, b) => String(a.gpu_i_id).localeCompare(String(b.gpu_i_id), 'en', { numeric: true }));
  const byNode = new Map();
  for (const g of gpus) {
    if (!byNode.has(g.node)) byNode.set(g.node, []);
    byNode.get(g.node).push(g);
  }
  const nodes = [...byNode.keys()].sort((a, b) => String(a).localeCompare(String(b), 'en', { numeric: true }));
  return el('div', { class: 'heatmap' },
    nodes.map((n) => {
      const list = byNode.get(n).sort((a, b) => (a.gpu_index ?? 0) - (b.gpu_index ?? 0));
      const first = list[0];
      const active = list.filter((g) => g.state === 'active').length;
      return el('div', { class: 'heat-node' },
        showNodes ? el('div', { class: 'heat-node-head' },
          link(hrefFor.node(nodeKey(first.hub, first.cluster, n)), n, { class: 'node-link' }),
          el('span', { class: 'muted' }, ` ${list.length} GPU · ${active} active · seen ${ago(first.last_seen_at)}`)) : null,
        el('div', { class: 'heat-grid' }, list.map((g) => gpuTile(g, byGpu.get(g.key) || []))));
    }));
}

export function heatLegend() {
  return el('div', { class: 'heat-legend' },
    el('span', {}, 'Engine activity, now:'),
    el('span', { class: 'legend-scale', 'aria-hidden': 'true' }),
    el('span', {}, '0 % → 100 %'),
    el('span', { class: 'legend-item' }, el('span', { class: 'heat unknown legend-swatch', 'aria-hidden': 'true' }), ' no reading'),
    el('span', { class: 'legend-item' }, el('span', { class: 'legend-flag', 'aria-hidden': 'true' }), ' allocated but idle'));
}
