// Cluster and node pages: summary tiles and the GPU/MIG heat map coloured by activity, with memory
// and power, plus the projects that hold GPUs there.

import { api, el, fill, section, tile, failure, onChange, fq, hrefFor, clusterKey, projectKey, link, setTitle, pageActions, ctx } from './core.js';
import { int, pct, share, bytes, watts, ago, dateTime } from './format.js';
import { heatmap, heatLegend } from './heatmap.js';
import { table } from './table.js';

const STATS = ['activity_ratio', 'power_watts', 'memory_used_bytes', 'memory_total_bytes'];

export async function mount(root) {
  const isNode = ctx.page === 'node';
  const entity = await api(`${ctx.page}/${encodeURIComponent(ctx.key)}`);
  const hub = entity.hub;
  const cluster = isNode ? entity.cluster : entity.name;
  const scope = isNode ? [fq('node_key', entity.key)] : [fq('hub', hub), fq('cluster', cluster)];
  const sliceScope = isNode ? [fq('hub', hub), fq('cluster', cluster), fq('node', entity.name)] : [fq('hub', hub), fq('cluster', cluster)];
  const crumbs = [{ text: 'Fleet', href: '/' }, { text: `hub ${hub}` }];
  if (isNode) crumbs.push({ text: `cluster ${cluster}`, href: hrefFor.cluster(clusterKey(hub, cluster)) });
  setTitle(isNode ? `Node ${entity.name}` : `Cluster ${entity.display_name || entity.name}`, crumbs);
  pageActions(link(`/search/gpu?${scope.map((f) => `fq=${encodeURIComponent(f)}`).join('&')}`, 'Search these GPUs', { class: 'button ghost' }));

  const summary = section(isNode ? 'Node now' : 'Cluster now', { subtitle: isNode ? `${entity.gpu_product || 'GPU product unknown'} · MIG strategy ${entity.mig_strategy || 'unknown'}` : `State ${entity.state || 'unknown'} · last seen ${ago(entity.last_seen_at)}`, wide: true });
  const map = section('GPU heat map', { subtitle: 'Each tile is a GPU; MIG GPUs are split into their slices, sized by compute share.', wide: true });
  const holders = section('Projects holding GPUs here', { subtitle: 'Present GPUs by holding project, now.', wide: true });
  fill(root, el('div', { class: 'grid' }, summary.section, map.section, holders.section));

  const refresh = async () => {
    try {
      const present = [...scope, '-state:gone'];
      const [gpus, slices, stats] = await Promise.all([
        api('gpu', { fq: present, rows: 1000, sort: 'gpu_index asc' }),
        api('gpu-slice', { fq: [...sliceScope, '-state:gone'], rows: 1000 }),
        api('gpu', { fq: present, rows: 0, 'stats.field': STATS, 'facet.field': ['state', 'project'] }),
      ]);
      const st = stats.stats?.stats_fields || {};
      const states = stats.facet_counts?.facet_fields?.state || {};
      const allocated = (states.active || 0) + (states['allocated-idle'] || 0);
      fill(summary.body, el('div', { class: 'tiles' },
        tile('GPUs', int(stats.foundNum), 'present now', { id: 'tile-gpus' }),
        tile('Allocated', int(allocated), 'now', { detail: `${share(allocated, stats.foundNum)} of GPUs` }),
        tile('Active', int(states.active || 0), 'now', { detail: `${share(states.active || 0, stats.foundNum)} of GPUs` }),
        tile('Idle holders', int(states['allocated-idle'] || 0), 'allocated, 0 % activity, now', { tone: states['allocated-idle'] ? 'warn' : '' }),
        tile('Mean activity', pct(st.activity_ratio?.mean), 'now, per GPU'),
        tile('Power draw', watts(st.power_watts?.sum), 'now, total'),
        tile('Memory in use', bytes(st.memory_used_bytes?.sum), 'now', { detail: `of ${bytes(st.memory_total_bytes?.sum)}` })));
      fill(map.body,
        gpus.list.length ? heatLegend() : null,
        gpus.list.length ? heatmap(gpus.list, slices.list, { showNodes: true }) : el('div', { class: 'state empty' }, el('strong', {}, 'No GPUs here.'), el('span', {}, 'Nothing present, or your grants include none of them.')),
        gpus.foundNum > gpus.returnedNum ? el('p', { class: 'muted' }, `Showing ${gpus.returnedNum} of ${gpus.foundNum} GPUs.`) : null);
      const projects = Object.entries(stats.facet_counts?.facet_fields?.project || {}).filter(([p]) => p !== '');
      fill(holders.body, table([
        { label: 'Project', value: ([p]) => link(hrefFor.project(projectKey(hub, cluster, p)), p) },
        { label: 'GPUs held', num: true, value: ([, n]) => int(n) },
      ], projects, { caption: 'Projects holding GPUs', emptyTitle: 'No project holds a GPU here now.' }));
    } catch (e) {
      fill(map.body, failure(e));
      throw e;
    }
  };
  await refresh();
  onChange(['gpu', 'gpu-slice', 'node', 'cluster'], refresh);
}
