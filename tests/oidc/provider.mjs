// A test OIDC provider configured like Keycloak, on loopback, for the integration tests: npm
// oidc-provider with Keycloak's issuer shape (http://127.0.0.1:{port}/realms/{realm}) and routes
// (/protocol/openid-connect/{auth,token,certs,userinfo,logout}), RS256 keys, and JWT access tokens
// that carry what Keycloak puts there (typ "Bearer", azp, groups, realm_access.roles, aud
// "ai-telemetry").
//
// Usage: node tests/oidc/provider.mjs [PORT]      (or env PORT; 0 or unset picks a free port)
// Env:   OIDC_REALM         realm name (default "nerc")
//        OIDC_KEYS_FILE     private JWKS file: read when present, else generated and written there
//                           (tests/oidc/mint.mjs signs attack tokens with it)
//        OIDC_ROTATE        key rotation on start, with OIDC_KEYS_FILE: "add" puts a new signing
//                           pair in front of the file's keys (new tokens use it, old ones still
//                           verify); "retire" does the same and drops all but the previous pair.
//                           The file is rewritten. Restart on the same port to rotate.
//        OIDC_REDIRECT_URI  redirect URI of the "ai-telemetry" client
//                           (default http://127.0.0.1:8080/callback)
//        OIDC_USERS_FILE    JSON file {"name": {"groups": [...], "roles": [...]}, ...}: users added
//                           to (or replacing, by name) the table below. Read at every sign-in and
//                           token, so a test may write it once it knows which project to grant
//                           (tests/web/e2e_auth.mjs: a project of the simulated fleet).
// Prints one line when ready: READY {"issuer": ..., "port": ...}
//
// Clients: "ai-telemetry" (confidential, secret "ai-telemetry-secret", authorization code with
// PKCE) and one client-credentials client per test user, client_id = user name, secret
// "{user}-secret". Interactive users for the browser flow: log in as any of the same names with
// any password (devInteractions).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const AUDIENCE = 'ai-telemetry';
const RESOURCE = 'urn:ai-telemetry';
const realm = process.env.OIDC_REALM ?? 'nerc';
const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const redirectUri = process.env.OIDC_REDIRECT_URI ?? 'http://127.0.0.1:8080/callback';

// The test users, as Keycloak would describe them.
export const USERS = {
  'no-grants': { groups: [], roles: [] },
  'researcher-a': { groups: ['/HUB-moc-CLUSTER-c1-PROJECT-proj-a-GET'], roles: [] },
  'researcher-b': { groups: ['/HUB-moc-CLUSTER-c1-PROJECT-proj-b-GET'], roles: [] },
  manager: { groups: ['/HUB-moc-CLUSTER-c1-GET'], roles: ['aitelemetry-manager'] },
  admin: { groups: [], roles: ['aitelemetry-admin'] },
  // Alertmanager's client (its oauth2 client credentials): the role the worker's alerts.jwt_roles
  // asks for, and no grants.
  alertmanager: { groups: [], roles: ['aitelemetry-alerts'] },
};

// A fresh signing pair (RSA and EC P-256), newest first.
async function newPair() {
  const rsa = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return [
    { ...(await exportJWK(rsa.privateKey)), kid: `rs-${stamp}`, use: 'sig', alg: 'RS256' },
    { ...(await exportJWK(ec.privateKey)), kid: `ec-${stamp}`, use: 'sig', alg: 'ES256' },
  ];
}

async function loadKeys() {
  const file = process.env.OIDC_KEYS_FILE;
  const rotate = process.env.OIDC_ROTATE ?? '';
  let keys;
  if (file && existsSync(file)) {
    keys = JSON.parse(readFileSync(file, 'utf8'));
    if (rotate === 'add') {
      keys = { keys: [...(await newPair()), ...keys.keys] };
    } else if (rotate === 'retire') {
      keys = { keys: [...(await newPair()), ...keys.keys.slice(0, 2)] };
    } else {
      return keys;
    }
  } else {
    keys = { keys: await newPair() };
  }
  if (file) writeFileSync(file, JSON.stringify(keys, null, 1), { mode: 0o600 });
  return keys;
}

function usersFromFile() {
  const file = process.env.OIDC_USERS_FILE;
  return file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
}

function profile(name) {
  const user = usersFromFile()[name] ?? USERS[name] ?? { groups: [], roles: [] };
  return {
    preferred_username: name,
    email: `${name}@example.org`,
    groups: user.groups,
    realm_access: { roles: ['offline_access', ...user.roles] },
    resource_access: { [AUDIENCE]: { roles: user.roles } },
  };
}

const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const actualPort = server.address().port;
const issuer = `http://127.0.0.1:${actualPort}/realms/${realm}`;

const clients = [
  {
    client_id: AUDIENCE,
    client_secret: `${AUDIENCE}-secret`,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [new URL('/', redirectUri).href],
  },
  ...Object.keys(USERS).map((name) => ({
    client_id: name,
    client_secret: `${name}-secret`,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  })),
];

const provider = new Provider(issuer, {
  clients,
  jwks: await loadKeys(),
  routes: {
    authorization: '/protocol/openid-connect/auth',
    token: '/protocol/openid-connect/token',
    jwks: '/protocol/openid-connect/certs',
    userinfo: '/protocol/openid-connect/userinfo',
    end_session: '/protocol/openid-connect/logout',
    introspection: '/protocol/openid-connect/token/introspect',
    revocation: '/protocol/openid-connect/revoke',
  },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: { openid: ['sub'], profile: ['preferred_username', 'groups'], email: ['email'] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        audience: AUDIENCE,
        scope: 'openid profile email',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 300,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id, ...profile(id) }; } };
  },
  async extraTokenClaims(ctx, token) {
    const name = token.accountId ?? token.clientId;
    return { typ: 'Bearer', azp: token.clientId, ...profile(name) };
  },
  loadExistingGrant: async (ctx) => {
    // Consent is implied, as for a Keycloak client without "consent required".
    const grantId = ctx.oidc.result?.consent?.grantId
      ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email');
    grant.addResourceScope(RESOURCE, 'openid profile email');
    await grant.save();
    return grant;
  },
  ttl: { AccessToken: 300, ClientCredentials: 300, IdToken: 300 },
});
provider.proxy = false;
// Mounted under /realms/{realm}, as Keycloak serves it: the provider sees the path below the mount
// and finds the mount point from originalUrl.
const mount = `/realms/${realm}`;
const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url !== mount && !req.url.startsWith(`${mount}/`) && !req.url.startsWith(`${mount}?`)) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not_found"}');
    return;
  }
  req.originalUrl = req.url;
  req.url = req.url.slice(mount.length) || '/';
  callback(req, res);
});
console.log(`READY ${JSON.stringify({ issuer, port: actualPort })}`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
