// Search any model with the API's Solr-style parameters: free text, facets that filter on click,
// active filters as removable chips, sort, paging, stats of numeric fields, CSV export. The whole
// view lives in the query string, so every filtered view is a shareable URL.

import { api, el, fill, section, failure, empty, onChange, fqValue, hrefFor, modelInfo, readState, writeState, shareButton, pageActions, setTitle, link, ctx, stateBadge } from './core.js';
import { byField, unitLabel, label, int } from './format.js';
import { table, tableFooter, csvLink } from './table.js';

// Columns worth a glance per model; other models show their first fields.
const COLUMNS = {
  hub: ['name', 'display_name', 'state', 'last_sync_ok_at', 'last_error'],
  cluster: ['name', 'hub', 'display_name', 'state', 'last_seen_at'],
  node: ['name', 'cluster', 'gpu_product', 'gpu_count', 'mig_strategy', 'state', 'last_seen_at'],
  project: ['namespace', 'cluster', 'display_name', 'owner', 'gpus_allocated', 'state'],
  gpu: ['node', 'gpu_index', 'model_name', 'cluster', 'state', 'activity_ratio', 'memory_used_bytes', 'power_watts', 'temperature_celsius', 'project', 'pod'],
  'gpu-slice': ['node', 'gpu_i_id', 'profile', 'model_name', 'state', 'activity_ratio', 'memory_used_bytes', 'project', 'pod'],
  allocation: ['project', 'pod', 'node', 'model_name', 'profile', 'gpu_equivalents', 'started_at', 'ended_at', 'state'],
  usage: ['hour', 'project', 'node', 'model_name', 'allocated_seconds', 'active_seconds', 'energy_joules'],
  session: ['started_at', 'ended_at', 'status', 'project', 'pod', 'alert_name', 'active_gpu_seconds', 'energy_joules'],
  'health-event': ['observed_at', 'kind', 'code', 'node', 'project', 'message'],
};

const ROWS = 50;

// Where a row of `model` links to.
function rowHref(model, r) {
  switch (model) {
    case 'cluster': return hrefFor.cluster(r.key);
    case 'node': return hrefFor.node(r.key);
    case 'gpu': return hrefFor.gpu(r.key);
    case 'gpu-slice': return r.gpu_key ? hrefFor.gpu(r.gpu_key) : '';
    case 'project': return hrefFor.project(r.key);
    default: {
      const m = /^(HUB-.+-GPU-[^-]+(?:-[^-]+)*?)(?:-SLICE-.*)?$/.exec(r.device_key || '');
      return m ? hrefFor.gpu(m[1]) : '';
    }
  }
}

// Splits "field:value" / "field:(a OR b)" / "-field:v" into parts for chips and facet state.
export function parseFq(s) {
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const i = body.indexOf(':');
  if (i < 0) return { field: '', values: [body], neg, raw: s };
  const field = body.slice(0, i);
  let v = body.slice(i + 1);
  let values = [v];
  if (v.startsWith('(') && v.endsWith(')')) values = v.slice(1, -1).split(/\s+OR\s+/);
  values = values.map((x) => (x.startsWith('"') && x.endsWith('"') ? x.slice(1, -1).replace(/\\(.)/g, '$1') : x));
  return { field, values, neg, raw: s };
}

function buildFq(field, values) {
  return values.length === 1 ? `${field}:${fqValue(values[0])}` : `${field}:(${values.map(fqValue).join(' OR ')})`;
}

// extra: {columns?: [column], title?} for pages built on search (sessions).
export async function mount(root, _ctx, extra = {}) {
  const modelName = ctx.model || 'gpu';
  const model = modelInfo(modelName);
  if (!model) {
    fill(root, empty('Unknown model.', modelName));
    return;
  }
  const fields = new Map(model.fields.map((f) => [f.name, f]));
  const facetFields = model.fields.filter((f) => f.facet).map((f) => f.name);
  const statFields = model.fields.filter((f) => f.stat).map((f) => f.name).slice(0, 6);
  const sortable = model.fields.filter((f) => f.sort);
  const columns = (COLUMNS[modelName] || model.fields.slice(1, 9).map((f) => f.name)).filter((n) => fields.has(n));

  if (!extra.title) {
    setTitle(`Search: ${model.type}`, [{ text: 'Search' }]);
  }
  const modelNav = extra.hideModels ? null : el('nav', { class: 'model-tabs', 'aria-label': 'Models' },
    ctx.models.filter((m) => m.name !== 'usage').map((m) => el('a', { href: `/search/${m.name}`, 'aria-current': m.name === modelName ? 'page' : null }, m.type)));

  const st = readState();
  const state = {
    q: st.get('q'),
    fq: st.all('fq'),
    sort: st.get('sort', model.time_field ? `${model.time_field} desc` : ''),
    start: Number(st.get('start', '0')) || 0,
  };

  const qInput = el('input', { type: 'search', id: 'q', name: 'q', value: state.q, placeholder: `Search ${model.type} text fields`, autocomplete: 'off' });
  const sortSelect = el('select', { id: 'sort', name: 'sort' },
    el('option', { value: '' }, 'Relevance / key'),
    sortable.flatMap((f) => ['desc', 'asc'].map((dir) => el('option', { value: `${f.name} ${dir}`, selected: state.sort === `${f.name} ${dir}` ? true : null }, `${label(f.name)} ${dir === 'desc' ? '↓' : '↑'}`))));
  const form = el('form', { class: 'search-form', role: 'search' },
    el('label', { for: 'q', class: 'visually-hidden' }, `Search ${model.type}`),
    qInput,
    el('label', { for: 'sort' }, 'Sort'),
    sortSelect,
    el('button', { type: 'submit', class: 'button' }, 'Search'));
  const chips = el('div', { class: 'chips', 'aria-label': 'Active filters' });
  const facetsBox = el('aside', { class: 'facets', 'aria-label': 'Facets' }, el('div', { class: 'state loading' }, 'Loading facets…'));
  const results = section(extra.resultsTitle || 'Results', { subtitle: model.description, wide: true });
  const statsBox = el('div', { class: 'tiles stats' });
  fill(root, modelNav, form, chips, el('div', { class: 'search-layout' }, facetsBox, el('div', { class: 'search-main' }, statsBox, results.section)));
  pageActions(shareButton());

  const params = () => ({
    q: state.q || undefined,
    fq: state.fq,
    sort: state.sort || undefined,
    start: state.start || undefined,
    rows: ROWS,
  });
  const sync = (push) => writeState({ q: state.q, fq: state.fq, sort: state.sort === (model.time_field ? `${model.time_field} desc` : '') ? '' : state.sort, start: state.start || '' }, { push });

  const toggle = (field, value) => {
    const existing = state.fq.map(parseFq).find((p) => p.field === field && !p.neg);
    let values = existing ? existing.values.slice() : [];
    values = values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
    state.fq = state.fq.filter((s) => s !== existing?.raw);
    if (values.length) state.fq.push(buildFq(field, values));
    state.start = 0;
    sync(true);
    refresh();
  };

  const drawChips = () => fill(chips, state.fq.length || state.q ? [
    state.q ? el('button', { type: 'button', class: 'chip', 'aria-label': `Remove text search ${state.q}`, onclick: () => { state.q = ''; qInput.value = ''; sync(true); refresh(); } }, `“${state.q}”`, el('span', { 'aria-hidden': 'true' }, ' ×')) : null,
    state.fq.map((s) => {
      const p = parseFq(s);
      return el('button', { type: 'button', class: 'chip', 'aria-label': `Remove filter ${s}`, onclick: () => { state.fq = state.fq.filter((x) => x !== s); state.start = 0; sync(true); refresh(); } },
        `${p.neg ? 'not ' : ''}${label(p.field)}: ${p.values.join(' or ')}`, el('span', { 'aria-hidden': 'true' }, ' ×'));
    }),
    el('button', { type: 'button', class: 'chip clear', onclick: () => { state.fq = []; state.q = ''; qInput.value = ''; state.start = 0; sync(true); refresh(); } }, 'Clear all'),
  ] : el('span', { class: 'muted' }, 'No filters. Pick facet values on the left to narrow the list.'));

  const drawFacets = (res) => {
    const ff = res.facet_counts?.facet_fields || {};
    const active = new Map(state.fq.map(parseFq).filter((p) => !p.neg).map((p) => [p.field, p.values]));
    fill(facetsBox, facetFields.map((name) => {
      const counts = Object.entries(ff[name] || {});
      const chosen = active.get(name) || [];
      for (const v of chosen) if (!counts.some(([k]) => k === v)) counts.push([v, 0]);
      return el('fieldset', { class: 'facet' },
        el('legend', {}, label(name)),
        counts.length ? counts.slice(0, 12).map(([value, count]) => {
          const id = `f-${name}-${value}`.replace(/[^A-Za-z0-9_-]/g, '_');
          return el('div', { class: 'facet-value' },
            el('input', { type: 'checkbox', id, 'data-facet': name, 'data-value': value, checked: chosen.includes(value) ? true : null, onchange: () => toggle(name, value) }),
            el('label', { for: id }, value === '' ? el('em', {}, 'none') : value),
            el('span', { class: 'facet-count' }, int(count)));
        }) : el('span', { class: 'muted small' }, 'no values'));
    }));
  };

  const refresh = async () => {
    drawChips();
    try {
      // Facet counts come from the same filtered query, so they say what a further click leaves.
      const res = await api(model.name, { ...params(), 'facet.field': facetFields, 'stats.field': statFields });
      drawFacets(res);
      const sf = res.stats?.stats_fields || {};
      fill(statsBox, statFields.filter((n) => sf[n] && sf[n].count > 0).slice(0, 4).map((n) =>
        el('div', { class: 'tile' },
          el('div', { class: 'tile-label' }, label(n)),
          el('div', { class: 'tile-value' }, byField(fields.get(n), sf[n].mean)),
          el('div', { class: 'tile-window' }, `mean of ${int(sf[n].count)} matching · min ${byField(fields.get(n), sf[n].min)} · max ${byField(fields.get(n), sf[n].max)}`))));
      const cols = extra.columns || columns.map((n, i) => {
        const f = fields.get(n);
        const numeric = f.type === 'integer' || f.type === 'number';
        return {
          label: label(n),
          unit: unitLabel(f).replace(/^ \(|\)$/g, ''),
          num: numeric,
          value: (r) => {
            if (n === 'state' || n === 'status') return stateBadge(r[n]);
            const text = byField(f, r[n]);
            return i === 0 ? link(rowHref(model.name, r), text) : text;
          },
        };
      });
      fill(results.body,
        el('p', { class: 'result-count', id: 'result-count', 'data-found': String(res.foundNum) }, `${int(res.foundNum)} ${res.foundNum === 1 ? 'record matches' : 'records match'}`, el('span', { class: 'muted' }, ' · now')),
        table(cols, res.list, { caption: `${model.type} results`, emptyTitle: 'Nothing matches.', emptyHint: state.fq.length || state.q ? 'Remove a filter or change the text search.' : 'No records yet, or your grants include none.' }),
        el('div', { class: 'table-foot' },
          el('span', { class: 'count' }, res.foundNum ? `Rows ${int(state.start + 1)}–${int(state.start + res.returnedNum)} of ${int(res.foundNum)}` : ''),
          el('div', { class: 'pager' },
            el('button', { type: 'button', class: 'button ghost small', disabled: state.start === 0 ? true : null, onclick: () => { state.start = Math.max(0, state.start - ROWS); sync(true); refresh(); } }, '← Previous'),
            el('button', { type: 'button', class: 'button ghost small', disabled: state.start + res.returnedNum >= res.foundNum ? true : null, onclick: () => { state.start += ROWS; sync(true); refresh(); } }, 'Next →')),
          csvLink(model.name, { q: state.q || undefined, fq: state.fq, sort: state.sort || undefined })));
    } catch (e) {
      fill(results.body, failure(e));
      fill(facetsBox, '');
    }
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    state.q = qInput.value.trim();
    state.sort = sortSelect.value;
    state.start = 0;
    sync(true);
    refresh();
  });
  sortSelect.addEventListener('change', () => {
    state.sort = sortSelect.value;
    state.start = 0;
    sync(true);
    refresh();
  });
  window.addEventListener('popstate', () => {
    const s = readState();
    state.q = s.get('q');
    state.fq = s.all('fq');
    state.sort = s.get('sort', model.time_field ? `${model.time_field} desc` : '');
    state.start = Number(s.get('start', '0')) || 0;
    qInput.value = state.q;
    sortSelect.value = state.sort;
    refresh();
  });
  await refresh();
  onChange([model.name], refresh);
}
