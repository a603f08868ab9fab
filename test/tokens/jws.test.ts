import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { checkClaims } from '../../src/tokens/jwt-claims.js';
import { keyFitsAlgorithm, parseCompactJws, signCompactJws, verifyJwsSignature } from '../../src/tokens/jws.js';
import { TokenError } from '../../src/tokens/token-error.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

const rejects = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (err: unknown) => err instanceof TokenError && err.code === 'invalid' && pattern.test(err.message));
};

test('ES256, EdDSA and PS256 tokens verify with their own key and no other', async () => {
  for (const [alg, pair] of [['ES256', ec], ['Ed25519', ed], ['EdDSA', ed], ['PS256', rsa], ['RS256', rsa]] as const) {
    const token = await signCompactJws({ alg, kid: 'k' }, { sub: 'a' }, pair.privateKey);
    const parsed = parseCompactJws(token, 8192);
    assert.equal(verifyJwsSignature(alg, pair.publicKey, parsed), true, alg);
    const other = pair === ec ? ed : ec;
    assert.equal(verifyJwsSignature(alg, other.publicKey, parsed), false, `${alg} with another key type`);
  }
});

test('a key of the wrong type or curve never fits an algorithm', () => {
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  assert.equal(keyFitsAlgorithm('ES256', p384.publicKey), false);
  assert.equal(keyFitsAlgorithm('ES256', rsa.publicKey), false);
  assert.equal(keyFitsAlgorithm('RS256', ec.publicKey), false);
  assert.equal(keyFitsAlgorithm('EdDSA', ec.publicKey), false);
});

test('an HMAC made with the public key as secret does not verify as ES256 or RS256', () => {
  const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const input = `${b64({ alg: 'RS256' })}.${b64({ sub: 'x' })}`;
  const mac = createHmac('sha256', pem).update(input).digest('base64url');
  const parsed = parseCompactJws(`${input}.${mac}`, 8192);
  assert.equal(verifyJwsSignature('RS256', rsa.publicKey, parsed), false);
});

test('malformed compact tokens are refused before any key is looked at', () => {
  rejects(() => parseCompactJws('abc', 100), /malformed/);
  rejects(() => parseCompactJws('a.b', 100), /malformed/);
  rejects(() => parseCompactJws('a.b.c.d', 100), /malformed/);
  rejects(() => parseCompactJws(`${b64({ alg: 'none' })}.${b64({})}.`, 100), /signature is missing/);
  rejects(() => parseCompactJws(`${b64({ alg: 'ES256' })}.${b64({})}.ab+c`, 100), /signature/);
  rejects(() => parseCompactJws(`${b64([1])}.${b64({})}.abc`, 100), /header is not a JSON object/);
  rejects(() => parseCompactJws(`${b64({ typ: 'JWT' })}.${b64({})}.abc`, 100), /no "alg"/);
  rejects(() => parseCompactJws(`${Buffer.from('{not json').toString('base64url')}.${b64({})}.abc`, 100), /not UTF-8 JSON/);
  rejects(() => parseCompactJws(`${b64({ alg: 'ES256' })}.${b64({ pad: 'x'.repeat(200) })}.abc`, 100), /too large/);
});

const rules = { issuer: 'https://idp.example', audience: 'api', leewaySeconds: 30 };
const base = { iss: 'https://idp.example', aud: 'api', sub: 'alice' };

test('claims: issuer exact, audience ours alone, times with leeway to the second', () => {
  const now = 1_800_000_000;
  assert.equal(checkClaims({ ...base, exp: now + 60 }, rules, now).sub, 'alice');
  assert.equal(checkClaims({ ...base, aud: ['api'], exp: now + 60 }, rules, now).sub, 'alice');
  rejects(() => checkClaims({ ...base, iss: 'https://idp.example/', exp: now + 60 }, rules, now), /issuer/);
  rejects(() => checkClaims({ ...base, aud: 'other', exp: now + 60 }, rules, now), /audience/);
  rejects(() => checkClaims({ ...base, aud: ['api', 'other'], exp: now + 60 }, rules, now), /audience/);
  rejects(() => checkClaims({ iss: base.iss, sub: 'alice', exp: now + 60 }, rules, now), /no audience/);
  rejects(() => checkClaims({ ...base }, rules, now), /no expiry/);
  rejects(() => checkClaims({ ...base, exp: String(now + 60) }, rules, now), /no expiry/);
  // exp: accepted up to `leeway` seconds after, refused one second later.
  assert.ok(checkClaims({ ...base, exp: now - 30 + 1 }, rules, now));
  rejects(() => checkClaims({ ...base, exp: now - 30 - 1 }, rules, now), /expired/);
  // nbf and iat: accepted up to `leeway` seconds early, refused one second earlier still.
  assert.ok(checkClaims({ ...base, exp: now + 600, nbf: now + 30 - 1 }, rules, now));
  rejects(() => checkClaims({ ...base, exp: now + 600, nbf: now + 30 + 1 }, rules, now), /not valid yet/);
  rejects(() => checkClaims({ ...base, exp: now + 600, iat: now + 31 }, rules, now), /future/);
  rejects(() => checkClaims({ ...base, sub: '', exp: now + 60 }, rules, now), /subject/);
});

test('a header or payload that names a member twice is refused, at any depth', async () => {
  const sig = Buffer.from('sig').toString('base64url');
  const part = (json: string): string => Buffer.from(json).toString('base64url');
  rejects(() => parseCompactJws(`${part('{"alg":"ES256","alg":"none"}')}.${b64({ sub: 'a' })}.${sig}`, 8192), /header names "alg" twice/);
  rejects(() => parseCompactJws(`${b64({ alg: 'ES256' })}.${part('{"sub":"alice","sub":"admin"}')}.${sig}`, 8192), /payload names "sub" twice/);
  rejects(() => parseCompactJws(`${b64({ alg: 'ES256' })}.${part('{"sub":"a","act":{"sub":"x","sub":"y"}}')}.${sig}`, 8192), /names "sub" twice/);
  rejects(() => parseCompactJws(`${b64({ alg: 'ES256' })}.${part('{"a":1,"\\u0061":2}')}.${sig}`, 8192), /names "a" twice/);
  // The same name in different objects, or in a string, is fine.
  const ok = parseCompactJws(`${b64({ alg: 'ES256' })}.${part('{"sub":"a","act":{"sub":"b"},"x":["sub","sub"],"s":"\\"sub\\":1,\\"sub\\""}')}.${sig}`, 8192);
  assert.equal(ok.payload.sub, 'a');
});

test('base64url that is not canonical (padding, stray bits) is refused in every part', async () => {
  const token = await signCompactJws({ alg: 'ES256', kid: 'k' }, { sub: 'a' }, ec.privateKey);
  const [h, p, s] = token.split('.') as [string, string, string];
  assert.equal(verifyJwsSignature('ES256', ec.publicKey, parseCompactJws(token, 8192)), true);
  // The last character of an ES256 signature (64 bytes = 86 chars) carries 2 unused bits: set them.
  const last = s[s.length - 1]!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const bumped = alphabet[alphabet.indexOf(last) + 1]!;
  assert.deepEqual(Buffer.from(s.slice(0, -1) + bumped, 'base64url'), Buffer.from(s, 'base64url'), 'decodes to the same bytes');
  rejects(() => parseCompactJws(`${h}.${p}.${s.slice(0, -1)}${bumped}`, 8192), /signature is missing or not canonical/);
  const header = b64({ alg: 'ES256', kid: 'k' });
  if (header.length % 4 !== 0) rejects(() => parseCompactJws(`${header}=.${p}.${s}`, 8192), /not canonical base64url/);
});
