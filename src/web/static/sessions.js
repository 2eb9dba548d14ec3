// GPU sessions: the search view over sessions, with a link to each trace in the tracing UI when
// the server has a tracing_ui_url template.

import { el, link, hrefFor, projectKey, stateBadge, traceUrl, setTitle, ctx } from './core.js';
import { dateTime, duration, num, energy, bytes, int } from './format.js';
import { mount as mountSearch } from './search.js';

export async function mount(root) {
  setTitle('GPU sessions', [{ text: 'Sessions' }]);
  const columns = [
    { label: 'Started', unit: 'UTC', value: (s) => dateTime(s.started_at) },
    { label: 'Duration', num: true, value: (s) => duration(((s.ended_at ? Date.parse(s.ended_at) : Date.now()) - Date.parse(s.started_at)) / 1000) },
    { label: 'Status', value: (s) => stateBadge(s.status) },
    { label: 'Project', value: (s) => (s.project ? link(hrefFor.project(projectKey(s.hub, s.cluster, s.project)), s.project) : '—') },
    { label: 'Pod', value: (s) => s.pod ?? '—' },
    { label: 'Active', unit: 'GPU·h', num: true, value: (s) => num((s.active_gpu_seconds ?? NaN) / 3600, 2) },
    { label: 'Energy', num: true, value: (s) => energy(s.energy_joules) },
    { label: 'Peak memory', num: true, value: (s) => bytes(s.peak_memory_bytes) },
    { label: 'XID', num: true, value: (s) => int(s.xid_count) },
    { label: 'Trace', value: (s) => {
      const url = traceUrl(s.trace_id);
      if (url) return el('a', { href: url, target: '_blank', rel: 'noopener', class: 'trace-link' }, 'Trace ↗');
      return s.trace_id ? el('code', { title: 'Set tracing_ui_url to link traces' }, s.trace_id.slice(0, 16)) : '—';
    } },
  ];
  await mountSearch(root, ctx, { columns, title: true, hideModels: true, resultsTitle: ctx.tracingUiUrl ? 'Sessions and traces' : 'Sessions' });
}
