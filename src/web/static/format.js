// Number, unit and time formatting. Every number on a page goes through here so it carries its
// unit; unknown values (null) read as an em dash with an explanation, never as zero.

export const UNKNOWN = '—';

const nf = (digits) => new Intl.NumberFormat('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

export function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

// 1234.5 -> "1,234.5" (up to `digits` fraction digits).
export function num(v, digits = 1) {
  return isNum(v) ? nf(digits).format(v) : UNKNOWN;
}

export function int(v) {
  return isNum(v) ? nf(0).format(Math.round(v)) : UNKNOWN;
}

// A ratio 0..1 as a percentage: 0.873 -> "87.3 %".
export function pct(ratio, digits = 0) {
  return isNum(ratio) ? `${nf(digits).format(ratio * 100)} %` : UNKNOWN;
}

// Part of a whole as a percentage, safe for a zero whole.
export function share(part, whole, digits = 0) {
  return isNum(part) && isNum(whole) && whole > 0 ? pct(part / whole, digits) : UNKNOWN;
}

export function bytes(v) {
  if (!isNum(v)) return UNKNOWN;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${nf(i >= 3 ? 1 : 0).format(x)} ${units[i]}`;
}

export const watts = (v) => (isNum(v) ? `${nf(0).format(v)} W` : UNKNOWN);
export const celsius = (v) => (isNum(v) ? `${nf(0).format(v)} °C` : UNKNOWN);
export const gpuHours = (v) => (isNum(v) ? `${nf(v < 10 ? 2 : v < 100 ? 1 : 0).format(v)} GPU·h` : UNKNOWN);
export const gpus = (v) => (isNum(v) ? `${nf(2).format(v)} GPU` : UNKNOWN);
export const hz = (v) => (isNum(v) ? `${nf(0).format(v / 1e6)} MHz` : UNKNOWN);

export function energy(joules) {
  if (!isNum(joules)) return UNKNOWN;
  const kwh = joules / 3.6e6;
  return kwh >= 1 ? `${nf(1).format(kwh)} kWh` : `${nf(0).format(joules / 3600)} Wh`;
}

// A duration in seconds: 42 s, 17 min, 3 h 12 min, 4 d 6 h.
export function duration(seconds) {
  if (!isNum(seconds)) return UNKNOWN;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export function toDate(v) {
  if (v === null || v === undefined || v === '') return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

// Seconds from `v` (an RFC 3339 time) to now; null when unknown.
export function ageSeconds(v, now = Date.now()) {
  const d = toDate(v);
  return d ? (now - d.getTime()) / 1000 : null;
}

export function ago(v) {
  const s = ageSeconds(v);
  return s === null ? UNKNOWN : `${duration(s)} ago`;
}

// "2024-05-02 14:03 UTC": dashboards compare across time zones, so times are shown in UTC.
export function dateTime(v) {
  const d = toDate(v);
  if (!d) return UNKNOWN;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function day(v) {
  const d = toDate(v);
  return d ? d.toISOString().slice(0, 10) : UNKNOWN;
}

export function clock(d = new Date()) {
  return d.toISOString().slice(11, 19) + ' UTC';
}

// Formats a registry field's value by its type and unit.
export function byField(field, v) {
  if (v === null || v === undefined) return UNKNOWN;
  if (field.type === 'date-time') return dateTime(v);
  if (field.type === 'boolean') return v ? 'yes' : 'no';
  if (field.type !== 'integer' && field.type !== 'number') return String(v);
  switch (field.unit) {
    case 'ratio':
      return pct(v, 1);
    case 'bytes':
      return bytes(v);
    case 'W':
      return watts(v);
    case '°C':
      return celsius(v);
    case 'J':
      return energy(v);
    case 'Hz':
      return hz(v);
    case 's':
      return duration(v);
    case 'GPU':
      return gpus(v);
    default:
      return field.type === 'integer' ? int(v) : num(v, 2);
  }
}

// A column heading's unit suffix for a field: "Power (W)".
export function unitLabel(field) {
  const u = { ratio: '%', bytes: '', 's': '' }[field.unit] ?? field.unit;
  return u ? ` (${u})` : field.type === 'date-time' ? ' (UTC)' : '';
}

// "power_watts" -> "Power watts"; the registry names read well enough as labels.
export function label(name) {
  const s = name
    .replace(/_(ratio|bytes|watts|celsius|hz|joules|seconds)$/, '')
    .replace(/_at$/, '')
    .replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
