// Time-series charts on uPlot (see docs/dashboards.md for why uPlot). Colours come from the CSS
// theme variables and charts redraw when the theme changes. Each chart has a text label for screen
// readers that states what it shows, its unit and its time window.

import uPlot from './vendor/uPlot.esm.js';
import { el, empty } from './core.js';

const charts = new Set();

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function palette() {
  return [cssVar('--series-1'), cssVar('--series-2'), cssVar('--series-3'), cssVar('--series-4')];
}

window.addEventListener('themechange', () => {
  for (const c of charts) c.rebuild();
});

// Draws a time series into a new element and returns it.
//   times: seconds since the epoch; series: [{label, values, unit, fmt?: v => text, bars?: bool}]
//   options: {height, ariaLabel, emptyTitle, yRange?: [min, max]}
export function timeChart(times, series, options = {}) {
  if (!times.length) return empty(options.emptyTitle || 'No data in this window yet.', options.emptyHint || '');
  const box = el('div', { class: 'chart', role: 'img', 'aria-label': options.ariaLabel || series.map((s) => s.label).join(', ') });
  const holder = { plot: null };
  const build = () => {
    holder.plot?.destroy();
    const colors = palette();
    const axisStroke = cssVar('--text-2');
    const grid = cssVar('--grid');
    const width = Math.max(240, box.clientWidth || box.parentElement?.clientWidth || 600);
    const opts = {
      width,
      height: options.height || 220,
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: options.xRange ? { time: true, range: options.xRange } : { time: true }, y: options.yRange ? { range: options.yRange } : { auto: true } },
      axes: [
        { stroke: axisStroke, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        { stroke: axisStroke, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 60,
          values: (u, vals) => vals.map((v) => (series[0].axis ? series[0].axis(v) : v)) },
      ],
      series: [
        { value: (u, v) => (v == null ? '—' : new Date(v * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC') },
        ...series.map((s, i) => ({
          label: s.unit ? `${s.label} (${s.unit})` : s.label,
          stroke: colors[(s.color ?? i) % colors.length],
          fill: s.bars || s.fill ? colors[(s.color ?? i) % colors.length] + (s.bars ? 'cc' : '22') : undefined,
          width: s.bars ? 0 : 2,
          paths: s.bars ? uPlot.paths.bars({ size: [0.7, 40], gap: 1 }) : undefined,
          points: { show: times.length < 3 },
          value: (u, v) => (v == null ? '—' : s.fmt ? s.fmt(v) : String(v)),
        })),
      ],
    };
    holder.plot = new uPlot(opts, [times, ...series.map((s) => s.values)], box);
  };
  const entry = { rebuild: build };
  charts.add(entry);
  // Built once the element is in the document, so it knows its width.
  requestAnimationFrame(() => {
    if (!box.isConnected) return;
    build();
    let last = box.clientWidth;
    new ResizeObserver(() => {
      if (!box.isConnected) {
        charts.delete(entry);
        return;
      }
      if (Math.abs(box.clientWidth - last) > 4 && holder.plot) {
        last = box.clientWidth;
        holder.plot.setSize({ width: box.clientWidth, height: options.height || 220 });
      }
    }).observe(box);
  });
  return box;
}
