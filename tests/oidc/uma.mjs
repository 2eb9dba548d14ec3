// A protocol-faithful stand-in for Keycloak's UMA 2.0 token endpoint (Keycloak cannot be installed
// here). It answers POST /realms/{realm}/protocol/openid-connect/token with
// grant_type=urn:ietf:params:oauth:grant-type:uma-ticket as Keycloak's authorization services do
// for response_mode=permissions:
//   - the caller's bearer token is verified with jose against the provider's JWKS and issuer;
//     a bad or missing one gets 401 {"error":"invalid_grant"};
//   - the form must hold exactly grant_type, audience and response_mode=permissions (plus optional
//     permission fields Keycloak knows); others get 400 invalid_request;
//   - an audience other than the resource server's client gets 400 invalid_resource;
//   - a user with permissions gets 200 [{"rsid","rsname","scopes"}]; one without gets 403
//     {"error":"access_denied","error_description":"not_authorized"}.
//
// Usage: node tests/oidc/uma.mjs --issuer URL [--port N] [--client ai-telemetry] [--permissions F]
//   --permissions  JSON {"user": [{"rsname": "HUB-...", "scopes": ["GET"]}], ...}, keyed by the
//                  token's preferred_username, azp or sub; defaults to the provider's test users
// Prints one line when ready: READY {"url": token endpoint, "port": N}. GET /stats answers
// {"requests": N} (how many UMA requests were served), so tests can see cache hits.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import { createRemoteJWKSet, jwtVerify } from 'jose';

const { values: args } = parseArgs({
  options: {
    issuer: { type: 'string' },
    port: { type: 'string', default: '0' },
    client: { type: 'string', default: 'ai-telemetry' },
    permissions: { type: 'string' },
  },
});
if (!args.issuer) {
  console.error('usage: uma.mjs --issuer URL [--port N] [--client ID] [--permissions FILE]');
  process.exit(2);
}

const DEFAULT_PERMISSIONS = {
  'no-grants': [],
  'researcher-a': [{ rsname: 'HUB-moc-CLUSTER-c1-PROJECT-proj-a', scopes: ['GET'] }],
  'researcher-b': [{ rsname: 'HUB-moc-CLUSTER-c1-PROJECT-proj-b', scopes: ['GET'] }],
  manager: [{ rsname: 'HUB-moc-CLUSTER-c1', scopes: ['GET'] }],
  admin: [{ rsname: 'HUB-moc', scopes: ['GET', 'PATCH'] }],
};
const permissions = args.permissions
  ? JSON.parse(readFileSync(args.permissions, 'utf8')) : DEFAULT_PERMISSIONS;
const UMA_GRANT = 'urn:ietf:params:oauth:grant-type:uma-ticket';
const ALLOWED_FIELDS = new Set(['grant_type', 'audience', 'response_mode', 'permission',
  'response_include_resource_name', 'submit_request']);
const issuerPath = new URL(args.issuer).pathname;
const jwks = createRemoteJWKSet(new URL(`${args.issuer}/protocol/openid-connect/certs`));
let requests = 0;

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const rsid = (name) => {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

async function handle(req, res, body) {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/stats') return send(res, 200, { requests });
  if (url.pathname !== `${issuerPath}/protocol/openid-connect/token`) {
    return send(res, 404, { error: 'not_found' });
  }
  if (req.method !== 'POST') return send(res, 405, { error: 'invalid_request' });
  requests += 1;
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return send(res, 400, { error: 'invalid_request', error_description: 'form body expected' });
  }
  const form = new URLSearchParams(body);
  for (const key of form.keys()) {
    if (!ALLOWED_FIELDS.has(key)) {
      return send(res, 400, { error: 'invalid_request', error_description: `unexpected ${key}` });
    }
  }
  if (form.get('grant_type') !== UMA_GRANT) {
    return send(res, 400, { error: 'unsupported_grant_type' });
  }
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('Bearer ')) {
    return send(res, 401, { error: 'invalid_grant', error_description: 'Invalid bearer token' });
  }
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(auth.slice(7), jwks, {
      issuer: args.issuer, algorithms: ['RS256', 'PS256', 'ES256'],
    }));
  } catch {
    return send(res, 401, { error: 'invalid_grant', error_description: 'Invalid bearer token' });
  }
  if (form.get('audience') !== args.client) {
    return send(res, 400, {
      error: 'invalid_resource', error_description: 'Resource server not found or not enabled',
    });
  }
  if (form.get('response_mode') !== 'permissions') {
    return send(res, 400, {
      error: 'invalid_request', error_description: 'this stand-in serves response_mode=permissions',
    });
  }
  const key = [claims.preferred_username, claims.azp, claims.sub].find((k) => k in permissions);
  const granted = key === undefined ? [] : permissions[key];
  if (granted.length === 0) {
    return send(res, 403, { error: 'access_denied', error_description: 'not_authorized' });
  }
  return send(res, 200, granted.map((p) => ({ rsid: rsid(p.rsname), ...p })));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e) => {
      send(res, 500, { error: 'server_error', error_description: String(e) });
    });
  });
});
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}${issuerPath}/protocol/openid-connect/token`;
  console.log(`READY ${JSON.stringify({ url, port })}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
