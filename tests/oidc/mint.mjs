// Mints the RFC 8725 attack matrix for the access-token validator: one good token per algorithm
// and one token per attack, each with the rejection the validator must report.
//
// Usage: node tests/oidc/mint.mjs --keys FILE --issuer URL --audience AUD [--now UNIX_SECONDS]
//                                 [--good TOKEN] [--out FILE]
//   --keys   a private JWKS holding one RSA key and one EC P-256 key (with kids); the provider
//            (provider.mjs) writes one, and src/auth/testdata/test_keys.json is a fixed one
//   --good   a real access token from the provider, added as an accepted case and tampered with
// Prints (or writes to --out) {"now": N, "cases": [{"name", "token", "expect"}]}, where expect is
// "accept" or the validator's rejection name (auth/jwt.h JwtRejectionName).
import * as crypto from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { CompactEncrypt, SignJWT, exportSPKI, generateKeyPair, importJWK, exportJWK } from 'jose';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string', default: 'ai-telemetry' },
    now: { type: 'string' },
    good: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!args.keys || !args.issuer) {
  console.error('usage: mint.mjs --keys FILE --issuer URL [--audience AUD] [--now S] [--good T]');
  process.exit(2);
}

const now = args.now ? Number(args.now) : Math.floor(Date.now() / 1000);
const jwks = JSON.parse(readFileSync(args.keys, 'utf8'));
const rsaJwk = jwks.keys.find((k) => k.kty === 'RSA');
const ecJwk = jwks.keys.find((k) => k.kty === 'EC');
const RS = rsaJwk.kid;
const EC = ecJwk.kid;
const rsaKey = await importJWK({ ...rsaJwk, alg: 'RS256' }, 'RS256', { extractable: true });
const rsaPssKey = await importJWK({ ...rsaJwk, alg: 'PS256' }, 'PS256');
const ecKey = await importJWK({ ...ecJwk, alg: 'ES256' }, 'ES256');
const rsaNode = crypto.createPrivateKey({ key: rsaJwk, format: 'jwk' });
const ecNode = crypto.createPrivateKey({ key: ecJwk, format: 'jwk' });
const attacker = await generateKeyPair('RS256', { extractable: true });

const b64 = (s) => Buffer.from(s).toString('base64url');

// A Keycloak-shaped access token payload.
function accessClaims(extra = {}) {
  return {
    iss: args.issuer,
    sub: 'f1e2d3c4-user-a',
    aud: args.audience,
    exp: now + 300,
    iat: now - 10,
    nbf: now - 10,
    jti: crypto.randomUUID(),
    typ: 'Bearer',
    azp: 'researcher-a',
    scope: 'openid profile email',
    preferred_username: 'researcher-a',
    email: 'a@example.org',
    groups: ['/HUB-moc-CLUSTER-c1-PROJECT-proj-a-GET'],
    realm_access: { roles: ['offline_access'] },
    resource_access: { 'ai-telemetry': { roles: ['viewer'] } },
    ...extra,
  };
}

function withoutKeys(obj, keys) {
  const copy = { ...obj };
  for (const k of keys) delete copy[k];
  return copy;
}

async function sign(payload, { alg = 'RS256', kid = RS, key, header = {} } = {}) {
  const k = key ?? (alg.startsWith('ES') ? ecKey : alg.startsWith('PS') ? rsaPssKey : rsaKey);
  return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT', ...header }).sign(k);
}

// Signs raw header and payload texts exactly as given (for duplicate keys and odd encodings).
function signRaw(headerText, payloadText, { alg = 'RS256', encode = b64 } = {}) {
  const input = `${encode(headerText)}.${encode(payloadText)}`;
  let sig;
  if (alg === 'ES256') {
    sig = crypto.sign('sha256', Buffer.from(input), { key: ecNode, dsaEncoding: 'ieee-p1363' });
  } else {
    sig = crypto.sign('sha256', Buffer.from(input), rsaNode);
  }
  return `${input}.${sig.toString('base64url')}`;
}

const cases = [];
const add = (name, token, expect) => cases.push({ name, token, expect });
const good = await sign(accessClaims());
const [gh, gp, gs] = good.split('.');

add('good_rs256', good, 'accept');
add('good_ps256', await sign(accessClaims(), { alg: 'PS256' }), 'accept');
add('good_es256', await sign(accessClaims(), { alg: 'ES256', kid: EC }), 'accept');
add('good_at_jwt_header_no_typ_claim',
    await sign(withoutKeys(accessClaims(), ['typ']), { header: { typ: 'at+jwt' } }), 'accept');
add('good_aud_array', await sign(accessClaims({ aud: ['account', args.audience] })), 'accept');
add('good_expired_within_leeway', await sign(accessClaims({ exp: now - 30 })), 'accept');
add('good_jku_x5u_ignored', await sign(accessClaims(), {
  header: { jku: 'http://127.0.0.1:1/evil.json', x5u: 'http://127.0.0.1:1/evil.pem' },
}), 'accept');
if (args.good) {
  add('provider_token', args.good, 'accept');
  const [ph, , ps] = args.good.split('.');
  const payload = JSON.parse(Buffer.from(args.good.split('.')[1], 'base64url'));
  payload.groups = ['HUB-moc-GET'];
  add('provider_token_tampered', `${ph}.${b64(JSON.stringify(payload))}.${ps}`, 'signature');
}

for (const none of ['none', 'None', 'NONE', 'nOnE']) {
  const h = b64(JSON.stringify({ alg: none, kid: RS, typ: 'JWT' }));
  add(`alg_${none}_unsigned`, `${h}.${gp}.`, 'algorithm');
  add(`alg_${none}_with_signature`, `${h}.${gp}.${gs}`, 'algorithm');
}
const publicPem = await exportSPKI(await importJWK(
    { kty: 'RSA', n: rsaJwk.n, e: rsaJwk.e, alg: 'RS256' }, 'RS256', { extractable: true }));
add('hs256_public_key_as_secret',
    await sign(accessClaims(), { alg: 'HS256', key: new TextEncoder().encode(publicPem) }),
    'algorithm');
add('hs512_public_key_as_secret',
    await sign(accessClaims(), { alg: 'HS512', key: new TextEncoder().encode(publicPem) }),
    'algorithm');
add('alg_rs1024_unknown', `${b64(JSON.stringify({ alg: 'RS1024', kid: RS }))}.${gp}.${gs}`,
    'algorithm');
add('crit_header', signRaw(JSON.stringify({ alg: 'RS256', kid: RS, crit: ['exp'], exp: now }),
    JSON.stringify(accessClaims())), 'algorithm');
add('unknown_kid', await sign(accessClaims(), { kid: 'rotated-away', key: attacker.privateKey }),
    'unknown_kid');
add('missing_kid', signRaw(JSON.stringify({ alg: 'RS256', typ: 'JWT' }),
    JSON.stringify(accessClaims())), 'malformed');
add('embedded_jwk_attacker', await sign(accessClaims(), {
  key: attacker.privateKey, header: { jwk: await exportJWK(attacker.publicKey) },
}), 'signature');
add('jku_attacker_known_kid', await sign(accessClaims(), {
  key: attacker.privateKey, header: { jku: 'http://127.0.0.1:1/attacker-jwks.json' },
}), 'signature');
add('es256_with_rsa_kid', await sign(accessClaims(), { alg: 'ES256', kid: RS, key: ecKey }),
    'key_mismatch');
add('rs256_with_ec_kid', await sign(accessClaims(), { alg: 'RS256', kid: EC, key: rsaKey }),
    'key_mismatch');
{
  const t = await sign(accessClaims(), { alg: 'ES256', kid: EC });
  const [h, p, s] = t.split('.');
  const raw = Buffer.from(s, 'base64url');
  const der = crypto.sign('sha256', Buffer.from(`${h}.${p}`), ecNode);  // DER, not r||s
  add('es256_der_signature', `${h}.${p}.${der.toString('base64url')}`, 'signature');
  const flipped = Buffer.from(raw);
  flipped[10] ^= 1;
  add('es256_flipped_bit', `${h}.${p}.${flipped.toString('base64url')}`, 'signature');
}
add('expired', await sign(accessClaims({ exp: now - 3600, iat: now - 7200, nbf: now - 7200 })),
    'expired');
add('no_exp', await sign(withoutKeys(accessClaims(), ['exp'])), 'expired');
add('exp_string', await sign(accessClaims({ exp: String(now + 300) })), 'malformed');
add('not_yet_valid', await sign(accessClaims({ nbf: now + 3600 })), 'not_yet_valid');
add('issued_in_future', await sign(accessClaims({ iat: now + 3600 })), 'not_yet_valid');
add('foreign_issuer', await sign(accessClaims({ iss: 'http://127.0.0.1:1/realms/other' })),
    'issuer');
add('issuer_trailing_slash', await sign(accessClaims({ iss: `${args.issuer}/` })), 'issuer');
add('no_issuer', await sign(withoutKeys(accessClaims(), ['iss'])), 'issuer');
add('wrong_audience', await sign(accessClaims({ aud: 'account' })), 'audience');
add('audience_array_without_us', await sign(accessClaims({ aud: ['account', 'other'] })),
    'audience');
add('no_audience', await sign(withoutKeys(accessClaims(), ['aud'])), 'audience');
add('id_token_keycloak', await sign(accessClaims({
  typ: 'ID', azp: args.audience, nonce: 'n-0S6_WzA2Mj', at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q',
})), 'token_type');
add('id_token_generic', await sign(withoutKeys(accessClaims({
  nonce: 'n-0S6_WzA2Mj', at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q',
}), ['typ'])), 'token_type');
add('id_token_nonce_only', await sign(withoutKeys(accessClaims({ nonce: 'n-1' }), ['typ'])),
    'token_type');
add('refresh_token', await sign(accessClaims({ typ: 'Refresh' })), 'token_type');
add('unmarked_token', await sign(withoutKeys(accessClaims(), ['typ'])), 'token_type');
add('header_typ_other', await sign(accessClaims(), { header: { typ: 'dpop+jwt' } }), 'token_type');
{
  const payload = accessClaims();
  payload.groups = ['HUB-moc-GET'];
  add('tampered_payload', `${gh}.${b64(JSON.stringify(payload))}.${gs}`, 'signature');
}
add('oversized', await sign(accessClaims({ padding: 'x'.repeat(17000) })), 'too_large');
add('jwe', await new CompactEncrypt(new TextEncoder().encode(good))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: RS, cty: 'JWT' })
    .encrypt(await importJWK({ kty: 'RSA', n: rsaJwk.n, e: rsaJwk.e }, 'RSA-OAEP-256')),
    'encrypted');
add('two_parts', `${gh}.${gp}`, 'malformed');
add('four_parts', `${gh}.${gp}.${gs}.${gs}`, 'malformed');
add('empty_token', '', 'malformed');
add('duplicate_header_alg', signRaw(`{"alg":"none","kid":"${RS}","alg":"RS256"}`,
    JSON.stringify(accessClaims())), 'malformed');
add('duplicate_header_kid', signRaw(`{"alg":"RS256","kid":"${EC}","kid":"${RS}"}`,
    JSON.stringify(accessClaims())), 'malformed');
add('duplicate_payload_sub', signRaw(`{"alg":"RS256","kid":"${RS}"}`,
    JSON.stringify(accessClaims()).replace('{', '{"sub":"admin",')), 'malformed');
add('duplicate_nested_key', signRaw(`{"alg":"RS256","kid":"${RS}"}`,
    JSON.stringify(accessClaims()).replace('"roles":[', '"roles":["aitelemetry-admin"],"roles":[')),
    'malformed');
add('header_not_object', signRaw('["RS256"]', JSON.stringify(accessClaims())), 'malformed');
add('payload_not_json', signRaw(`{"alg":"RS256","kid":"${RS}"}`, '{"sub":'), 'malformed');
const std64 = (s) => Buffer.from(s).toString('base64');  // with '+', '/' and '=' padding
add('base64_padded_header', signRaw(`{"alg":"RS256","kid":"${RS}","typ":"JWT"}`,
    JSON.stringify(accessClaims()), { encode: std64 }), 'malformed');
add('base64_plus_slash', `${gh}.${gp}.${gs.replaceAll('-', '+').replaceAll('_', '/')}`,
    gs.includes('-') || gs.includes('_') ? 'malformed' : 'accept');
add('base64_whitespace', `${gh}.${gp.slice(0, 8)} ${gp.slice(8)}.${gs}`, 'malformed');
{
  // A 256-byte signature leaves 4 unused bits in its last character; set one of them.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(gs.at(-1));
  add('base64_noncanonical_bits', `${gh}.${gp}.${gs.slice(0, -1)}${alphabet[last | 1]}`,
      'malformed');
}

const text = JSON.stringify({ now, issuer: args.issuer, audience: args.audience, cases }, null, 1);
if (args.out) writeFileSync(args.out, `${text}\n`);
else console.log(text);
