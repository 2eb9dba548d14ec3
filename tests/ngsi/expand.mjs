// Expands the server's NGSI-LD responses with the jsonld processor in safe mode: any term without
// a definition (a dropped property or type) is an error. Nothing is fetched from the network:
// the project's @context comes from the server under test, the NGSI-LD core context from the
// local minimal copy beside this file.
// Usage: node expand.mjs BASE_URL   (e.g. http://127.0.0.1:8080)
import { readFile } from 'node:fs/promises';
import jsonld from 'jsonld';

const base = process.argv[2];
if (!base) {
  console.error('usage: node expand.mjs BASE_URL');
  process.exit(2);
}
const CORE = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld';
const OURS = `${base}/ngsi-ld/v1/context.jsonld`;
const VOCAB = 'https://aitelemetry.example/ns#';
const core = JSON.parse(
  await readFile(new URL('./ngsi-ld-core-context-minimal.jsonld', import.meta.url), 'utf8'));

const fetched = [];
async function documentLoader(url) {
  if (url === CORE) return { contextUrl: null, documentUrl: url, document: core };
  if (url === OURS) {
    fetched.push(url);
    const r = await fetch(url);
    if (!r.ok) throw new Error(`context: HTTP ${r.status}`);
    return { contextUrl: null, documentUrl: url, document: await r.json() };
  }
  throw new Error(`refusing to load ${url}: no network in this test`);
}

let failures = 0;
let passes = 0;
async function check(path, accept, expectIris) {
  const r = await fetch(base + path, { headers: { Accept: accept } });
  const label = `${path} (${accept})`;
  if (r.status !== 200) {
    console.error(`FAIL ${label}: HTTP ${r.status} ${await r.text()}`);
    failures++;
    return;
  }
  const body = await r.json();
  const options = { safe: true, documentLoader };
  if (accept === 'application/json') {
    const link = r.headers.get('link') || '';
    const m = link.match(/^<([^>]+)>;\s*rel="http:\/\/www\.w3\.org\/ns\/json-ld#context"/);
    if (!m) {
      console.error(`FAIL ${label}: no JSON-LD context Link header: ${link}`);
      failures++;
      return;
    }
    options.expandContext = m[1];
  } else if (r.headers.get('content-type') !== 'application/ld+json') {
    console.error(`FAIL ${label}: content type ${r.headers.get('content-type')}`);
    failures++;
    return;
  }
  try {
    const expanded = await jsonld.expand(body, options);
    const text = JSON.stringify(expanded);
    if (expanded.length === 0) throw new Error('expanded to nothing');
    for (const iri of expectIris) {
      if (!text.includes(iri)) throw new Error(`expanded form lacks ${iri}`);
    }
    console.log(`ok ${label}: ${expanded.length} node(s)`);
    passes++;
  } catch (e) {
    console.error(`FAIL ${label}: ${e.message}${e.details ? ' ' + JSON.stringify(e.details) : ''}`);
    failures++;
  }
}

const gpuId = process.argv[3];
const seriesId = process.argv[4];
for (const accept of ['application/ld+json', 'application/json']) {
  await check('/ngsi-ld/v1/entities?type=Gpu', accept,
              [`${VOCAB}Gpu`, `${VOCAB}power`, 'https://uri.etsi.org/ngsi-ld/hasObject',
               'https://uri.etsi.org/ngsi-ld/unitCode']);
  await check('/ngsi-ld/v1/entities?type=Node', accept, [`${VOCAB}Node`, `${VOCAB}hostName`]);
  await check('/ngsi-ld/v1/entities?type=UsageRollup', accept, [`${VOCAB}UsageRollup`]);
  await check('/ngsi-ld/v1/entities?type=Gpu&options=keyValues', accept, [`${VOCAB}isPartOf`]);
  await check(`/ngsi-ld/v1/entities/${encodeURIComponent(gpuId)}`, accept, [`${VOCAB}modelName`]);
  await check('/ngsi-ld/v1/types', accept,
              ['https://uri.etsi.org/ngsi-ld/typeList', `${VOCAB}Gpu`]);
  await check('/ngsi-ld/v1/temporal/entities?type=UsageRollup&timerel=after&timeAt=2026-01-01T00:00:00Z',
              accept, [`${VOCAB}activeSeconds`, 'https://uri.etsi.org/ngsi-ld/observedAt']);
  await check(`/ngsi-ld/v1/temporal/entities/${encodeURIComponent(seriesId)}`, accept,
              [`${VOCAB}energy`]);
}
if (fetched.length === 0) {
  console.error('FAIL: the project context was never loaded');
  failures++;
}
console.log(`${passes} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
