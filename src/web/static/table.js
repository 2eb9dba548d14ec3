// Tables with units in their headings, a designed empty state, a row count and a CSV export that
// is the same API query with format=csv.

import { el, empty, apiUrl } from './core.js';

// columns: [{label, unit?, value: row => text|Node, num?: bool, title?: row => string}]
// options: {caption, rows, found?, csv?: {path, params}, emptyTitle, emptyHint, rowClass?: row => string}
export function table(columns, rows, options = {}) {
  if (!rows.length) return empty(options.emptyTitle || 'Nothing here.', options.emptyHint || '');
  const head = el('tr', {}, columns.map((c) =>
    el('th', { scope: 'col', class: c.num ? 'num' : null }, c.label, c.unit ? el('span', { class: 'unit' }, ` (${c.unit})`) : null)));
  const bodyRows = rows.map((r) =>
    el('tr', { class: options.rowClass ? options.rowClass(r) || null : null },
      columns.map((c, i) => {
        const v = c.value(r);
        const attrs = { class: c.num ? 'num' : null, title: c.title ? c.title(r) : null };
        return i === 0 && options.rowHeader !== false ? el('th', { scope: 'row', ...attrs }, v) : el('td', attrs, v);
      })));
  const t = el('table', { class: 'data' },
    options.caption ? el('caption', { class: 'visually-hidden' }, options.caption) : null,
    el('thead', {}, head), el('tbody', {}, bodyRows));
  return el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': options.caption || 'Table' }, t);
}

// The footer under a table: "Showing 50 of 212" and an export link.
export function tableFooter({ returned, found, csv }) {
  return el('div', { class: 'table-foot' },
    el('span', { class: 'count' }, found !== undefined && found > returned ? `Showing ${returned} of ${found}` : `${returned} ${returned === 1 ? 'row' : 'rows'}`),
    csv ? csvLink(csv.path, csv.params) : null);
}

export function csvLink(path, params) {
  return el('a', { class: 'button ghost small', href: apiUrl(path, { ...params, format: 'csv', rows: 1000, start: undefined }), download: `${path}.csv` }, 'Export CSV');
}
