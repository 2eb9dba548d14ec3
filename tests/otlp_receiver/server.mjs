// A protocol-faithful test stand-in for an OpenTelemetry collector's OTLP/HTTP trace receiver,
// following the OTLP/HTTP specification (JSON encoding), because no collector can be installed
// here. Each POST /v1/traces body is decoded with the official message definitions shipped in
// @opentelemetry/otlp-transformer (its generated protobuf root: ExportTraceServiceRequest) after
// applying the OTLP JSON mapping's rules, which protobufjs alone does not enforce:
//   - traceId/spanId/parentSpanId are hex (32/16 digits), not base64: converted to bytes here;
//     non-hex or wrong-length ids are rejected;
//   - enum values (Span.kind, Status.code) must be integers: names are rejected;
//   - keys are lowerCamelCase: the original snake_case field names are rejected (any object key
//     with '_', as every OTLP trace field name with '_' is an original name); other unknown keys
//     are ignored, as the specification requires;
//   - 64-bit integers may be decimal strings or JSON numbers.
// Then the message's own verify() checks every field's type, and fromObject() builds it.
//
// Endpoints:
//   POST /v1/traces  -> 200 {"partialSuccess":{}} | 400 {"code":3,"message":..} | the forced status
//   GET  /spans      -> JSON list of the decoded spans received so far (ids as hex, times as
//                       decimal strings, attributes flattened to {key: value})
//   POST /control    -> {"fail": 503} answers every later export with 503 (Retry-After: 1);
//                       {"fail": 0} recovers; {"reset": true} forgets stored spans
// Usage: node server.mjs [port]   (or OTLP_RECEIVER_PORT; 0 = any free port). Prints
// "listening <port>" on stdout once ready.

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(repoRoot, 'package.json'));
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Long = require('long');

const ExportTraceServiceRequest =
  root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const HEX_ID_KEYS = { traceId: 16, spanId: 8, parentSpanId: 8 };
const ENUM_KEYS = new Set(['kind', 'code']);
// fixed64 fields are unsigned; intValue is a signed int64.
const UINT64_KEYS = new Set(['startTimeUnixNano', 'endTimeUnixNano', 'timeUnixNano',
  'observedTimeUnixNano']);
const INT64_KEYS = new Set(['intValue']);
const MAX_BODY_BYTES = 16 << 20;

class BadRequest extends Error {}

// Applies the OTLP JSON mapping to a parsed body, returning an object protobufjs can verify.
function normalise(value, path) {
  if (Array.isArray(value)) return value.map((v, i) => normalise(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    const here = `${path}.${key}`;
    if (key.includes('_')) {
      throw new BadRequest(`${here}: original field name; OTLP JSON keys are lowerCamelCase`);
    }
    if (key in HEX_ID_KEYS && v !== null && v !== '') {
      const bytes = HEX_ID_KEYS[key];
      if (typeof v !== 'string' || !new RegExp(`^[0-9a-fA-F]{${2 * bytes}}$`).test(v)) {
        throw new BadRequest(`${here}: expected ${2 * bytes} hex digits`);
      }
      out[key] = Buffer.from(v, 'hex');
    } else if (ENUM_KEYS.has(key)) {
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw new BadRequest(`${here}: enum values must be integers`);
      }
      out[key] = v;
    } else if (UINT64_KEYS.has(key) || INT64_KEYS.has(key)) {
      const unsigned = UINT64_KEYS.has(key);
      if (typeof v === 'string') {
        if (!(unsigned ? /^[0-9]{1,20}$/ : /^-?[0-9]{1,19}$/).test(v)) {
          throw new BadRequest(`${here}: not a decimal integer`);
        }
        out[key] = Long.fromString(v, unsigned);
      } else {
        out[key] = v;  // verify() checks it is an integer
      }
    } else if (key === 'doubleValue' && typeof v === 'string') {
      const special = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity }[v];
      if (special === undefined) throw new BadRequest(`${here}: not a number`);
      out[key] = special;
    } else {
      out[key] = normalise(v, here);
    }
  }
  return out;
}

function anyValue(v) {
  if (v == null) return null;
  if (v.stringValue != null && v.stringValue !== '') return v.stringValue;
  if (v.intValue != null && v.intValue !== 0 && v.intValue !== '0') return String(v.intValue);
  if (v.doubleValue != null && v.doubleValue !== 0) {
    return Number.isFinite(v.doubleValue) ? v.doubleValue : String(v.doubleValue);  // JSON has no NaN
  }
  if (v.boolValue != null && v.boolValue !== false) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values || []).map(anyValue);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  // A zero value of whichever kind was set.
  if ('stringValue' in v) return '';
  if ('intValue' in v) return '0';
  if ('doubleValue' in v) return 0;
  if ('boolValue' in v) return false;
  return null;
}

function attributes(list) {
  const out = {};
  for (const kv of list || []) out[kv.key] = anyValue(kv.value);
  return out;
}

const hex = (b) => (b && b.length ? Buffer.from(b).toString('hex') : '');

// Flattens a decoded request into stored span records.
function spansOf(message) {
  const plain = ExportTraceServiceRequest.toObject(message, {
    longs: String, enums: Number, bytes: Array, defaults: true, oneofs: true,
  });
  const spans = [];
  for (const rs of plain.resourceSpans || []) {
    const resource = attributes(rs.resource && rs.resource.attributes);
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        spans.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: s.startTimeUnixNano,
          endTimeUnixNano: s.endTimeUnixNano,
          attributes: attributes(s.attributes),
          events: (s.events || []).map((e) => ({
            timeUnixNano: e.timeUnixNano, name: e.name, attributes: attributes(e.attributes),
          })),
          status: { code: s.status ? s.status.code : 0, message: s.status ? s.status.message : '' },
          resource,
          scope: ss.scope ? ss.scope.name : '',
        });
      }
    }
  }
  return spans;
}

// Decodes one request body. Returns the spans, or throws BadRequest.
export function decodeExportRequest(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new BadRequest(`body: not JSON (${e.message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BadRequest('body: expected an ExportTraceServiceRequest object');
  }
  const normalised = normalise(parsed, '$');
  const problem = ExportTraceServiceRequest.verify(normalised);
  if (problem) throw new BadRequest(`verify: ${problem}`);
  const message = ExportTraceServiceRequest.fromObject(normalised);
  const spans = spansOf(message);
  for (const s of spans) {
    if (s.traceId.length !== 32 || /^0+$/.test(s.traceId)) throw new BadRequest('span without a valid traceId');
    if (s.spanId.length !== 16 || /^0+$/.test(s.spanId)) throw new BadRequest('span without a valid spanId');
  }
  return spans;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
}

const stored = [];
let forcedStatus = 0;
let exportsReceived = 0;

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://receiver');
    if (req.method === 'POST' && url.pathname === '/v1/traces') {
      exportsReceived += 1;
      const contentType = (req.headers['content-type'] || '').split(';')[0].trim();
      const text = await readBody(req);
      if (forcedStatus) {
        send(res, forcedStatus, { code: 14, message: 'forced failure' }, { 'Retry-After': '1' });
        return;
      }
      if (contentType !== 'application/json') {
        send(res, 415, { code: 3, message: `unsupported content type "${contentType}"` });
        return;
      }
      let spans;
      try {
        spans = decodeExportRequest(text);
      } catch (e) {
        if (e instanceof BadRequest) {
          send(res, 400, { code: 3, message: e.message });
          return;
        }
        throw e;
      }
      stored.push(...spans);
      send(res, 200, { partialSuccess: {} });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/spans') {
      send(res, 200, stored);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/stats') {
      send(res, 200, { exportsReceived, spans: stored.length, fail: forcedStatus });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/control') {
      const command = JSON.parse((await readBody(req)) || '{}');
      if (command.fail !== undefined) forcedStatus = Number(command.fail) || 0;
      if (command.reset) stored.length = 0;
      send(res, 200, { fail: forcedStatus, spans: stored.length });
      return;
    }
    send(res, 404, { code: 5, message: 'not found' });
  } catch (e) {
    send(res, e.status || 500, { code: 13, message: String(e.message || e) });
  }
});

const port = Number(process.argv[2] ?? process.env.OTLP_RECEIVER_PORT ?? 0);
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
