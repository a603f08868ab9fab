/** The external issuer's key cache against a real HTTP server serving a JWKS. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { RemoteKeySet } from '../../src/tokens/remote-key-set.js';
import { TokenError } from '../../src/tokens/token-error.js';

const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const enc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = (pair: typeof a, kid: string, extra: Record<string, unknown> = {}) => ({ ...pair.publicKey.export({ format: 'jwk' }), kid, ...extra });

let keys: unknown[] = [jwk(a, 'a', { alg: 'ES256' })];
let up = true;
let requests = 0;
const server = createServer((_req, res) => {
  requests++;
  if (!up) {
    res.statusCode = 503;
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ keys }));
});
let uri = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('keys by kid and algorithm; unknown kids refetch once per cool-down; stale keys survive an outage', async () => {
  let clock = 1_000_000;
  const set = new RemoteKeySet({ jwksUri: async () => uri, cacheSeconds: 60, cooldownSeconds: 10 }, () => clock);
  requests = 0;
  assert.ok(await set.key('a', 'ES256'));
  assert.equal(await set.key('a', 'RS256'), undefined, 'a key published for ES256 is not used for RS256');
  assert.equal(requests, 1);
  for (let i = 0; i < 10; i++) assert.equal(await set.key(`nope-${i}`, 'ES256'), undefined);
  assert.equal(requests, 1, 'inside the cool-down after the first fetch: no refetch');
  keys = [jwk(a, 'a', { alg: 'ES256' }), jwk(b, 'b'), jwk(enc, 'e', { use: 'enc' })];
  clock += 11_000;
  assert.ok(await set.key('b', 'ES256'), 'a new key is found by one refetch once the cool-down passed');
  assert.equal(requests, 2);
  assert.equal(await set.key('e', 'ES256'), undefined, 'encryption keys never verify');
  assert.equal(await set.key(undefined, 'ES256'), undefined, 'without a kid, several keys are ambiguous');

  up = false;
  clock += 120_000; // the cache is stale and the issuer is down
  assert.ok(await set.key('a', 'ES256'), 'cached keys keep working while the issuer is down');
  await assert.rejects(set.key('c', 'ES256'), (e: unknown) => e instanceof TokenError && e.code === 'unavailable', 'an unknown kid during an outage is unavailable, not invalid');
  up = true;
});

test('with nothing cached and the issuer down: unavailable, then a retry only after the cool-down', async () => {
  let clock = 5_000_000;
  up = false;
  requests = 0;
  const set = new RemoteKeySet({ jwksUri: async () => uri, cacheSeconds: 60, cooldownSeconds: 10 }, () => clock);
  await assert.rejects(set.key('a', 'ES256'), (e: unknown) => e instanceof TokenError && e.code === 'unavailable');
  await assert.rejects(set.key('a', 'ES256'), (e: unknown) => e instanceof TokenError && e.code === 'unavailable');
  assert.equal(requests, 1, 'no refetch storm while down');
  up = true;
  clock += 10_001;
  assert.ok(await set.key('a', 'ES256'));
  assert.equal(requests, 2);
});

test('a document that is not a JWKS is an outage of the issuer, not a reason to accept', async () => {
  keys = 'nonsense' as unknown as unknown[];
  const set = new RemoteKeySet({ jwksUri: async () => uri, cacheSeconds: 60, cooldownSeconds: 0 });
  await assert.rejects(set.key('a', 'ES256'), (e: unknown) => e instanceof TokenError && e.code === 'unavailable');
  keys = [jwk(a, 'a', { alg: 'ES256' })];
});
