/**
 * The OAuth 2 token service and every kind of bearer on Flight, against a real OpenID provider
 * (oidc-provider on loopback) as the external issuer. Runs once on SQLite with in-memory stores
 * and once on PostgreSQL with Redis.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiKeyAdmin } from '../../src/auth/api-key-admin.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { FlightgateError } from '../../src/core/errors.js';
import { statusName } from '../../src/core/status.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { OAuthTokenSource } from '../../src/flight/client/oauth-token-source.js';
import { openRegistry } from '../../src/stores/sql/open.js';
import { ClientAdmin } from '../../src/tokens/client-admin.js';
import { KeyAdmin } from '../../src/tokens/key-admin.js';
import { KeyEncryptionKey } from '../../src/tokens/key-encryption.js';
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js';
import { decodePart, signEs256, signHs256, unsigned } from '../helpers/jwt-forge.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { ROOT } from '../helpers/python.js';

const AUDIENCE = 'api://flightgate';
const KEK = randomBytes(32).toString('base64');
const demoRoleMap = (JSON.parse(readFileSync(`${ROOT}/examples/oidc-demo.json`, 'utf8')) as { oidc: { issuers: { roleMap: Record<string, string[]> }[] } }).oidc.issuers[0]!.roleMap;

const ISSUER_CLIENTS = [
  { clientId: 'alice-app', clientSecret: 'alice-secret-0123456789', groups: ['user_role'] },
  { clientId: 'root-app', clientSecret: 'root-secret-0123456789', groups: ['admin_role', 'unmapped_group'] },
  { clientId: 'reader-app', clientSecret: 'reader-secret-0123456789', groups: ['readonly_role'] },
];

interface Backend {
  name: string;
  overrides(): Promise<Partial<ConfigInput>>;
}

let idp: TestIssuer;
let pg: PostgresServer | undefined;
let redis: RedisServer | undefined;

before(async () => {
  idp = await startTestIssuer({ clients: ISSUER_CLIENTS, audience: AUDIENCE });
});
after(async () => {
  await idp?.stop().catch(() => undefined);
  await pg?.stop();
  await redis?.stop();
});

const issuerConfig = (overrides: Record<string, unknown> = {}) => ({
  issuer: idp.issuer,
  audience: AUDIENCE,
  algorithms: ['ES256' as const],
  roleMap: demoRoleMap,
  jwksCooldownSeconds: 30,
  ...overrides,
});

async function flightStatus(server: TestServer, token: string, dataset = 'db1'): Promise<string> {
  const client = new FlightClient(server.uri, { headers: { authorization: `Bearer ${token}` } });
  try {
    await client.getFlightInfo(dataset);
    return 'OK';
  } catch (err) {
    if (err instanceof FlightgateError) return statusName(err.status);
    throw err;
  } finally {
    client.close();
  }
}

async function datasetsOf(server: TestServer, token: string): Promise<string[]> {
  const client = new FlightClient(server.uri, { headers: { authorization: `Bearer ${token}` } });
  try {
    const names: string[] = [];
    for await (const info of client.listFlights()) names.push(info.descriptor?.path.join('/') ?? '');
    return names.sort();
  } finally {
    client.close();
  }
}

async function whoami(server: TestServer, token: string): Promise<{ status: number; body: Record<string, unknown>; challenge: string | null }> {
  const res = await fetch(`${server.httpUri}/whoami`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, challenge: res.headers.get('www-authenticate') };
}

async function post(server: TestServer, path: string, params: Record<string, string>, basic?: [string, string]): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`;
  const res = await fetch(`${server.httpUri}${path}`, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

const now = (): number => Math.floor(Date.now() / 1000);

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function suite(backend: Backend): void {
  describe(backend.name, () => {
    let server: TestServer;
    let job: { client_id: string; client_secret: string };
    /** A valid external access token payload for forging variants. */
    const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      iss: idp.issuer,
      sub: 'mallory',
      aud: AUDIENCE,
      iat: now(),
      exp: now() + 300,
      jti: randomBytes(8).toString('hex'),
      groups: ['admin_role'],
      ...extra,
    });
    const header = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ alg: 'ES256', typ: 'at+jwt', kid: idp.kid, ...extra });

    before(async () => {
      const overrides = await backend.overrides();
      server = await startTestServer(
        {
          demo: true,
          ...overrides,
          tokens: { refreshReuseGraceSeconds: 1, exchangeRefreshTokens: true, exchangeMaxLifetimeSeconds: 3600, ...(overrides.tokens ?? {}) },
          oidc: { issuers: [issuerConfig()] },
        },
        { secure: true },
      );
      const registry = await openRegistry({ databaseUrl: overrides.databaseUrl, dataDir: server.dataDir });
      try {
        const created = await new ClientAdmin(registry.clients, registry.refreshTokens).add('etl', ['demo-db1-reader'], ['flight', 'other']);
        job = { client_id: created.client.client_id, client_secret: created.clientSecret };
      } finally {
        await registry.close();
      }
    });
    after(async () => {
      await server?.stop();
    });

    test('client_credentials: a job reads exactly what its roles allow, with both client authentication methods', async () => {
      const basic = await post(server, '/oauth2/token', { grant_type: 'client_credentials' }, [job.client_id, job.client_secret]);
      assert.equal(basic.status, 200, JSON.stringify(basic.body));
      assert.equal(basic.body.token_type, 'Bearer');
      assert.equal(basic.body.scope, 'flight other');
      assert.equal(basic.headers.get('cache-control'), 'no-store');
      const token = basic.body.access_token as string;
      const h = decodePart(token, 0);
      const p = decodePart(token, 1);
      assert.equal(h.typ, 'at+jwt');
      assert.equal(h.alg, 'ES256');
      assert.equal(typeof h.kid, 'string');
      for (const c of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'roles']) assert.ok(c in p, `claim ${c}`);
      assert.equal(p.iss, server.httpUri);
      assert.deepEqual(p.roles, ['demo-db1-reader']);
      assert.deepEqual(await datasetsOf(server, token), ['db1']);
      assert.equal(await flightStatus(server, token, 'db1'), 'OK');
      assert.equal(await flightStatus(server, token, 'db2'), 'PERMISSION_DENIED');

      const viaPost = await post(server, '/oauth2/token', { grant_type: 'client_credentials', client_id: job.client_id, client_secret: job.client_secret, scope: 'flight' });
      assert.equal(viaPost.status, 200);
      assert.equal(viaPost.body.scope, 'flight');
      assert.equal(await flightStatus(server, viaPost.body.access_token as string), 'OK');
      assert.deepEqual((await whoami(server, token)).body, { principal: job.client_id, kind: 'client', method: 'jwt', roles: ['demo-db1-reader'] });
    });

    test('errors follow RFC 6749 §5.2: status, error, error_description, no-store', async () => {
      const cases: [Record<string, string>, [string, string] | undefined, number, string][] = [
        [{ grant_type: 'client_credentials' }, [job.client_id, 'wrong'], 401, 'invalid_client'],
        [{ grant_type: 'client_credentials' }, ['nobody', 'x'], 401, 'invalid_client'],
        [{ grant_type: 'client_credentials' }, undefined, 401, 'invalid_client'],
        [{ grant_type: 'client_credentials', scope: 'admin' }, [job.client_id, job.client_secret], 400, 'invalid_scope'],
        [{ grant_type: 'authorization_code', code: 'x' }, [job.client_id, job.client_secret], 400, 'unsupported_grant_type'],
        [{ grant_type: 'password', username: 'admin', password: 'admin123' }, [job.client_id, job.client_secret], 400, 'unsupported_grant_type'],
        [{}, [job.client_id, job.client_secret], 400, 'invalid_request'],
        [{ grant_type: 'refresh_token' }, [job.client_id, job.client_secret], 400, 'invalid_request'],
        [{ grant_type: 'refresh_token', refresh_token: 'fgr_nope' }, [job.client_id, job.client_secret], 400, 'invalid_grant'],
        [{ grant_type: 'client_credentials', client_id: job.client_id, client_secret: job.client_secret }, [job.client_id, job.client_secret], 400, 'invalid_request'],
      ];
      for (const [params, basic, status, error] of cases) {
        const r = await post(server, '/oauth2/token', params, basic);
        assert.equal(r.status, status, `${JSON.stringify(params)} → ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error, error, JSON.stringify(params));
        assert.equal(typeof r.body.error_description, 'string');
        assert.equal(r.headers.get('cache-control'), 'no-store');
        if (status === 401 && basic) assert.match(r.headers.get('www-authenticate') ?? '', /^Basic /);
      }
      const dup = await fetch(`${server.httpUri}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&grant_type=password' });
      assert.equal(dup.status, 400);
      assert.equal(((await dup.json()) as { error: string }).error, 'invalid_request');
      const json = await fetch(`${server.httpUri}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' });
      assert.equal(json.status, 415);
      assert.equal(((await json.json()) as { error: string }).error, 'invalid_request');
    });

    test('an external issuer\'s token reads exactly the datasets its groups map to', async () => {
      const alice = await idp.accessToken('alice-app');
      const root = await idp.accessToken('root-app');
      const reader = await idp.accessToken('reader-app');
      assert.deepEqual(await datasetsOf(server, alice), ['db1']);
      assert.deepEqual(await datasetsOf(server, root), ['db1', 'db2']);
      assert.deepEqual(await datasetsOf(server, reader), ['db2']);
      assert.equal(await flightStatus(server, alice, 'db2'), 'PERMISSION_DENIED');
      assert.equal(await flightStatus(server, reader, 'db2'), 'OK');
      assert.deepEqual((await whoami(server, root)).body, { principal: 'root-app', kind: 'external', issuer: idp.issuer, method: 'oidc', roles: ['demo-db1-reader', 'demo-db2-reader'] });
    });

    test('token exchange: an external token in, our token out, with the same reach', async () => {
      const alice = await idp.accessToken('alice-app');
      const r = await post(server, '/oauth2/token', {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: alice,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
      assert.match(r.body.refresh_token as string, /^fgr_/);
      const ours = r.body.access_token as string;
      assert.equal(decodePart(ours, 1).iss, server.httpUri);
      assert.equal(decodePart(ours, 1).idp, idp.issuer);
      assert.deepEqual(await datasetsOf(server, ours), ['db1']);
      assert.equal(await flightStatus(server, ours, 'db2'), 'PERMISSION_DENIED');
      // Our own token cannot be exchanged, nor can a forged one.
      const again = await post(server, '/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: ours, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
      assert.equal(again.body.error, 'invalid_request');
      const forged = signEs256(header(), claims(), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
      const bad = await post(server, '/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: forged, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error, 'invalid_request');
      const wrongTarget = await post(server, '/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: alice, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: 'elsewhere' });
      assert.equal(wrongTarget.body.error, 'invalid_target');
    });

    test('refresh tokens rotate; a rotated one presented again revokes the whole family', async () => {
      const start = await post(server, '/oauth2/token', {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: await idp.accessToken('alice-app'),
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      });
      const r1 = start.body.refresh_token as string;
      const second = await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: r1 });
      assert.equal(second.status, 200, JSON.stringify(second.body));
      const r2 = second.body.refresh_token as string;
      assert.notEqual(r2, r1);
      // Within the grace (1 s here) the old token works again (the first answer may have been
      // lost, or a replay raced it), and the successor already issued stays valid.
      const retry = await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: r1 });
      assert.equal(retry.status, 200);
      const r2b = retry.body.refresh_token as string;
      const keep = await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: r2 });
      assert.equal(keep.status, 200, 'a replay within the grace does not take the family from the client holding r2');
      const r3a = keep.body.refresh_token as string;
      const third = await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: r2b });
      assert.equal(third.status, 200);
      const r3 = third.body.refresh_token as string;
      // Two refreshes with one token at the same moment: both answered, both successors live.
      const racing = await Promise.all([r3, r3].map((t) => post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: t })));
      assert.deepEqual(racing.map((r) => r.status), [200, 200], JSON.stringify(racing.map((r) => r.body)));
      const live: string[] = [];
      for (const r of racing) {
        const next = await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: r.body.refresh_token as string });
        assert.equal(next.status, 200, 'each racing successor works');
        live.push(next.body.refresh_token as string);
      }
      await new Promise((r) => setTimeout(r, 1200));
      // After the grace, a used token coming back revokes every branch of the family.
      const reuse = await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: r2b });
      assert.equal(reuse.status, 400);
      assert.equal(reuse.body.error, 'invalid_grant');
      assert.match(reuse.body.error_description as string, /family is now revoked/);
      for (const t of [r3a, ...live]) {
        assert.equal((await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: t })).body.error, 'invalid_grant', 'every branch of the family is revoked');
      }
      const audit = readFileSync(join(server.dataDir, 'audit.log'), 'utf8');
      assert.match(audit, /"event":"token\.refresh_grace"/, 'grace uses are audited');
      // A refresh token bound to no client cannot be used by a client, and vice versa.
      const other = await post(server, '/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: await idp.accessToken('alice-app'), subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' });
      const stolen = await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: other.body.refresh_token as string }, [job.client_id, job.client_secret]);
      assert.equal(stolen.body.error, 'invalid_grant');
    });

    test('introspection (RFC 7662) and revocation (RFC 7009): a revoked access token is refused on Flight', async () => {
      const cc = await post(server, '/oauth2/token', { grant_type: 'client_credentials' }, [job.client_id, job.client_secret]);
      const token = cc.body.access_token as string;
      assert.equal((await post(server, '/oauth2/introspect', { token })).status, 401, 'introspection needs client authentication');
      const active = await post(server, '/oauth2/introspect', { token }, [job.client_id, job.client_secret]);
      assert.equal(active.body.active, true);
      assert.equal(active.body.client_id, job.client_id);
      assert.equal(active.body.sub, job.client_id);
      assert.equal((await post(server, '/oauth2/introspect', { token: 'garbage' }, [job.client_id, job.client_secret])).body.active, false);
      assert.equal((await post(server, '/oauth2/introspect', { token: await idp.accessToken('alice-app') }, [job.client_id, job.client_secret])).body.active, false, 'not our token');
      assert.equal(await flightStatus(server, token), 'OK');
      const revoked = await post(server, '/oauth2/revoke', { token, token_type_hint: 'access_token' }, [job.client_id, job.client_secret]);
      assert.equal(revoked.status, 200);
      assert.equal(await flightStatus(server, token), 'UNAUTHENTICATED');
      assert.equal((await whoami(server, token)).status, 401);
      assert.equal((await post(server, '/oauth2/introspect', { token }, [job.client_id, job.client_secret])).body.active, false);
      assert.equal((await post(server, '/oauth2/revoke', { token: 'unknown' }, [job.client_id, job.client_secret])).status, 200, 'unknown tokens: 200 as well');
      assert.equal((await post(server, '/oauth2/revoke', { token, token_type_hint: 'id_token' }, [job.client_id, job.client_secret])).body.error, 'unsupported_token_type');
      // A refresh token revoked by its holder is dead.
      const ex = await post(server, '/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: await idp.accessToken('reader-app'), subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' });
      assert.equal((await post(server, '/oauth2/revoke', { token: ex.body.refresh_token as string })).status, 200);
      assert.equal((await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: ex.body.refresh_token as string })).body.error, 'invalid_grant');
    });

    test('API keys: accepted on Flight with their roles; revoked or expired, refused', async () => {
      const registry = await openRegistry({ databaseUrl: (await backend.overrides()).databaseUrl ?? undefined, dataDir: server.dataDir });
      const admin = new ApiKeyAdmin(registry.apiKeys);
      try {
        const { key } = await admin.create(`script-${randomBytes(3).toString('hex')}`, ['demo-db2-reader']);
        const short = await admin.create(`short-${randomBytes(3).toString('hex')}`, ['demo-db2-reader'], 1000);
        assert.match(key, /^fgk_[A-Za-z0-9_-]{43}$/);
        assert.deepEqual(await datasetsOf(server, key), ['db2']);
        assert.equal(await flightStatus(server, key, 'db1'), 'PERMISSION_DENIED');
        assert.equal(await flightStatus(server, 'fgk_' + 'A'.repeat(43)), 'UNAUTHENTICATED');
        await admin.revoke((await admin.list()).find((k) => k.name.startsWith('script-'))!.name);
        await eventually(async () => (await flightStatus(server, key, 'db2')) === 'UNAUTHENTICATED');
        await eventually(async () => (await flightStatus(server, short.key, 'db2')) === 'UNAUTHENTICATED');
      } finally {
        await registry.close();
      }
    });

    test('an IdP subject named like a local user is another principal: it cannot redeem that user\'s tickets', async () => {
      const local = new FlightClient(server.uri);
      const external = new FlightClient(server.uri, { headers: { authorization: `Bearer ${signEs256(header(), claims({ sub: 'admin' }), idp.privateJwk)}` } });
      try {
        await local.login('admin', 'admin123');
        const ticket = (await local.getFlightInfo('db1')).endpoints[0]!.ticket;
        assert.equal((await local.doGet(ticket).readAll()).numRows, 3);
        await assert.rejects(external.doGet(ticket).readAll(), (e: unknown) => e instanceof FlightgateError && statusName(e.status) === 'PERMISSION_DENIED' && /another principal/.test(e.message));
        // Its own ticket works, and it is told apart in /whoami.
        const own = (await external.getFlightInfo('db1')).endpoints[0]!.ticket;
        assert.equal((await external.doGet(own).readAll()).numRows, 3);
        await assert.rejects(local.doGet(own).readAll(), (e: unknown) => e instanceof FlightgateError && statusName(e.status) === 'PERMISSION_DENIED');
        const who = await whoami(server, signEs256(header(), claims({ sub: 'admin' }), idp.privateJwk));
        assert.equal(who.body.kind, 'external');
        assert.equal(who.body.issuer, idp.issuer);
      } finally {
        await local.close();
        await external.close();
      }
    });

    test('IdP groups named like Object properties map to nothing, and never break a call', async () => {
      const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
      const token = signEs256(header(), claims({ groups: names }), idp.privateJwk);
      assert.equal(await flightStatus(server, token), 'PERMISSION_DENIED', 'authenticated, with no roles');
      const who = await whoami(server, token);
      assert.equal(who.status, 200, JSON.stringify(who.body));
      assert.deepEqual(who.body.roles, []);
      for (const name of names) {
        const one = signEs256(header(), claims({ groups: [name, 'admin_role'] }), idp.privateJwk);
        assert.equal(await flightStatus(server, one), 'OK', `${name} beside a mapped group`);
      }
    });

    test('the JWT attack list: every forged or unfit token is UNAUTHENTICATED on Flight and 401 on HTTP', async () => {
      const realKey = idp.privateJwk;
      const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
      const publicPem = (await import('node:crypto')).createPublicKey({ key: realKey, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
      const good = signEs256(header(), claims(), realKey);
      assert.equal(await flightStatus(server, good), 'OK', 'the baseline forged with the issuer\'s real key is accepted');
      const [h64, p64, s64] = good.split('.') as [string, string, string];
      const flip = (s: string): string => s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
      const L = 30; // the issuer's clock leeway
      const attacks: Record<string, string> = {
        'alg none': unsigned({ alg: 'none', typ: 'at+jwt' }, claims()),
        'alg None with a signature': unsigned({ alg: 'None', typ: 'at+jwt' }, claims(), s64),
        'HS256 signed with the issuer public key (PEM)': signHs256({ alg: 'HS256', typ: 'at+jwt', kid: idp.kid }, claims(), publicPem),
        'HS256 signed with the issuer public key (JWK JSON)': signHs256({ alg: 'HS256', typ: 'at+jwt', kid: idp.kid }, claims(), JSON.stringify(realKey)),
        'wrong aud': signEs256(header(), claims({ aud: 'api://other' }), realKey),
        'missing aud': signEs256(header(), claims({ aud: undefined }), realKey),
        'array aud with another audience': signEs256(header(), claims({ aud: [AUDIENCE, 'api://other'] }), realKey),
        'wrong iss': signEs256(header(), claims({ iss: 'http://127.0.0.1:1' }), realKey),
        'iss with a trailing slash': signEs256(header(), claims({ iss: `${idp.issuer}/` }), realKey),
        expired: signEs256(header(), claims({ exp: now() - 3600 }), realKey),
        'nbf in the future': signEs256(header(), claims({ nbf: now() + 3600 }), realKey),
        'exp one second past the leeway': signEs256(header(), claims({ exp: Date.now() / 1000 - L - 1 }), realKey),
        'nbf one second beyond the leeway': signEs256(header(), claims({ nbf: Date.now() / 1000 + L + 1.5 }), realKey),
        'unknown kid': signEs256(header({ kid: 'no-such-key' }), claims(), attacker.privateKey),
        'attacker key in an embedded jwk': signEs256(header({ kid: 'attacker', jwk: attackerJwk }), claims(), attacker.privateKey),
        'attacker key by jku': signEs256(header({ kid: 'attacker', jku: 'http://127.0.0.1:1/jwks' }), claims(), attacker.privateKey),
        'attacker key by x5u': signEs256(header({ kid: 'attacker', x5u: 'http://127.0.0.1:1/cert' }), claims(), attacker.privateKey),
        'real kid, attacker signature, embedded jwk': signEs256(header({ jwk: attackerJwk }), claims(), attacker.privateKey),
        'ID token (typ JWT) as an access token': signEs256(header({ typ: 'JWT' }), claims({ nonce: 'n', azp: 'alice-app' }), realKey),
        'no typ': signEs256({ alg: 'ES256', kid: idp.kid }, claims(), realKey),
        'unknown crit': signEs256(header({ crit: ['urn:example:must-understand'], 'urn:example:must-understand': true }), claims(), realKey),
        'truncated signature': `${h64}.${p64}.${s64.slice(0, s64.length - 10)}`,
        'no signature': `${h64}.${p64}.`,
        'altered signature': `${h64}.${p64}.${flip(s64)}`,
        'altered payload': `${h64}.${Buffer.from(JSON.stringify({ ...decodePart(good, 1), sub: 'root' })).toString('base64url')}.${s64}`,
        oversized: signEs256(header(), claims({ padding: 'x'.repeat(10_000) }), realKey),
        'RS256 not on the allow-list': signEs256({ ...header(), alg: 'RS256' }, claims(), realKey),
        'JWE-shaped (five parts)': `${h64}.${p64}.${s64}.a.b`,
      };
      const jwksBefore = idp.jwksRequests();
      for (const [name, token] of Object.entries(attacks)) {
        assert.equal(await flightStatus(server, token), 'UNAUTHENTICATED', `Flight: ${name}`);
        const http = await whoami(server, token);
        assert.equal(http.status, 401, `HTTP: ${name} → ${JSON.stringify(http.body)}`);
        assert.match(http.challenge ?? '', /^Bearer .*error="invalid_token"/, name);
      }
      // Leeway boundary, accepted side: one second inside the leeway.
      assert.equal(await flightStatus(server, signEs256(header(), claims({ exp: Date.now() / 1000 - L + 1 }), realKey)), 'OK', 'exp within the leeway');
      assert.equal(await flightStatus(server, signEs256(header(), claims({ nbf: Date.now() / 1000 + L - 1 }), realKey)), 'OK', 'nbf within the leeway');
      // Many unknown kids: at most one refetch of the issuer's JWKS, then the cool-down holds.
      for (let i = 0; i < 20; i++) {
        assert.equal(await flightStatus(server, signEs256(header({ kid: `storm-${i}` }), claims(), attacker.privateKey)), 'UNAUTHENTICATED');
      }
      assert.ok(idp.jwksRequests() - jwksBefore <= 1, `JWKS fetched ${idp.jwksRequests() - jwksBefore} times for unknown kids`);
    });

    test('FlightClient renews its token by itself before it expires (refresh rotation)', async () => {
      const o = await backend.overrides();
      const short = await startTestServer(
        { demo: true, ...o, tokens: { ...(o.tokens ?? {}), accessTokenLifetimeSeconds: 2, clockLeewaySeconds: 0, exchangeRefreshTokens: true, exchangeMaxLifetimeSeconds: 3600 }, oidc: { issuers: [issuerConfig()] } },
        { secure: true },
      );
      const renewed: string[] = [];
      const source = await OAuthTokenSource.exchange({
        tokenUrl: `${short.httpUri}/oauth2/token`,
        subjectToken: await idp.accessToken('alice-app'),
        onRenewed: (r) => renewed.push(r.refresh_token ?? ''),
      });
      const client = new FlightClient(short.uri, { tokenSource: source });
      try {
        const first = source.accessToken;
        for (let i = 0; i < 10; i++) {
          assert.equal((await client.readTable('db1')).numRows, 3);
          await new Promise((r) => setTimeout(r, 500));
        }
        assert.notEqual(source.accessToken, first);
        assert.ok(renewed.length >= 2, `renewed ${renewed.length} times in 5 s of 2 s tokens`);
        assert.equal(new Set(renewed).size, renewed.length, 'a new refresh token every time');
        // The first token has expired by now: without renewal, calls would fail.
        assert.equal(await flightStatus(short, first), 'UNAUTHENTICATED');
      } finally {
        source.close();
        client.close();
        await short.stop();
      }
    });
  });
}

suite({ name: 'SQLite registry + memory stores', overrides: async () => ({}) });

let pgUrl: string | undefined;
suite({
  name: 'PostgreSQL registry + Redis',
  overrides: async () => {
    pg ??= await startPostgres();
    redis ??= await startRedis();
    pgUrl ??= await pg.createDatabase();
    // The suite's servers each have a data directory of their own: their uploads stay theirs.
    return { databaseUrl: pgUrl, redisUrl: redis.url, tokens: { keyEncryptionKey: KEK }, catalog: { shared: false } };
  },
});


describe('signing keys and the issuer\'s availability', () => {
  test('keys rotate: the new key signs, the old one stays in the JWKS and its tokens keep working', async () => {
    const server = await startTestServer({ demo: true, tokens: { keyReloadSeconds: 0.2 } }, { secure: true });
    const registry = await openRegistry({ dataDir: server.dataDir });
    try {
      const kek = KeyEncryptionKey.fromBase64(readFileSync(`${server.dataDir}/key-encryption.key`, 'utf8'));
      const created = await new ClientAdmin(registry.clients, registry.refreshTokens).add('rot', ['demo-db1-reader'], []);
      const get = async (): Promise<string> => (await post(server, '/oauth2/token', { grant_type: 'client_credentials' }, [created.client.client_id, created.clientSecret])).body.access_token as string;
      const before = await get();
      const oldKid = decodePart(before, 0).kid;
      const rotated = await new KeyAdmin(registry.signingKeys, kek).rotate('ES256', 3_600_000);
      await eventually(async () => decodePart(await get(), 0).kid === rotated.kid);
      const jwks = (await (await fetch(`${server.httpUri}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
      assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [oldKid, rotated.kid].sort());
      assert.equal(await flightStatus(server, before), 'OK', 'a token of the previous key still verifies');
      const list = await new KeyAdmin(registry.signingKeys, kek).list();
      assert.deepEqual(list.map((k) => k.state), ['published', 'signing']);
      assert.ok(!JSON.stringify(await registry.signingKeys.list()).includes('PRIVATE KEY'), 'private keys are stored encrypted');
    } finally {
      await registry.close();
      await server.stop();
    }
  });

  test('the password grant only when enabled: throttled logins, refresh follows the user', async () => {
    // "EdDSA", RFC 9864's deprecated name: keys are Ed25519 and tokens say so.
    const server = await startTestServer({ demo: true, tokens: { passwordGrant: true, signingAlgorithm: 'EdDSA' } }, { secure: true });
    try {
      const ok = await post(server, '/oauth2/token', { grant_type: 'password', username: 'user1', password: 'pass1' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const token = ok.body.access_token as string;
      assert.equal(decodePart(token, 0).alg, 'Ed25519', 'signed with Ed25519 when configured, named as RFC 9864 does');
      const jwks = (await (await fetch(`${server.httpUri}/.well-known/jwks.json`)).json()) as { keys: { alg: string; crv?: string }[] };
      assert.deepEqual(jwks.keys.map((k) => [k.alg, k.crv]), [['Ed25519', 'Ed25519']]);
      assert.equal(decodePart(token, 1).sub, 'user1');
      assert.deepEqual(await datasetsOf(server, token), ['db1']);
      const bad = await post(server, '/oauth2/token', { grant_type: 'password', username: 'user1', password: 'wrong' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error, 'invalid_grant');
      const unknown = await post(server, '/oauth2/token', { grant_type: 'password', username: 'nobody', password: 'wrong' });
      assert.deepEqual(unknown.body, bad.body, 'an unknown user and a wrong password look the same');
      const meta = (await (await fetch(`${server.httpUri}/.well-known/oauth-authorization-server`)).json()) as { grant_types_supported: string[] };
      assert.ok(meta.grant_types_supported.includes('password'));
      const refreshed = await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: ok.body.refresh_token as string });
      assert.equal(refreshed.status, 200);
      const registry = await openRegistry({ dataDir: server.dataDir });
      try {
        await registry.users.setDisabled('user1', true);
      } finally {
        await registry.close();
      }
      await eventually(async () => (await post(server, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token as string })).body.error === 'invalid_grant');
    } finally {
      await server.stop();
    }
  });

  test('a roleMap naming a role that does not exist is reported at start', async () => {
    const server = await startTestServer({ demo: true, oidc: { issuers: [issuerConfig({ roleMap: { staff: ['ghost-role', 'demo-db1-reader'] } })] } }, { secure: true });
    try {
      assert.ok(server.logs.some((l) => /roleMap names roles that do not exist: ghost-role \(/.test(l)), server.logs.join('\n'));
    } finally {
      await server.stop();
    }
  });

  test('discovery metadata, JWKS, OpenAPI, docs and health', async () => {
    const server = await startTestServer({ demo: true }, { secure: true });
    try {
      const meta = (await (await fetch(`${server.httpUri}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.equal(meta.issuer, server.httpUri);
      assert.equal(meta.token_endpoint, `${server.httpUri}/oauth2/token`);
      assert.deepEqual(meta.grant_types_supported, ['client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange']);
      const jwks = (await (await fetch(meta.jwks_uri as string)).json()) as { keys: Record<string, unknown>[] };
      assert.equal(jwks.keys.length, 1);
      assert.equal(jwks.keys[0]!.kty, 'EC');
      assert.ok(!('d' in jwks.keys[0]!), 'no private part');
      const api = (await (await fetch(`${server.httpUri}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
      assert.equal(api.openapi, '3.1.0');
      assert.ok(api.paths['/oauth2/token']);
      const docs = await (await fetch(`${server.httpUri}/docs`)).text();
      assert.match(docs, /openapi\.json/);
      assert.doesNotMatch(docs, /https?:\/\/(?!127)/, 'the docs page loads nothing from the network');
      assert.deepEqual(await (await fetch(`${server.httpUri}/healthz`)).json(), { status: 'ok' });
    } finally {
      await server.stop();
    }
  });

  test('issuer down: cached keys keep working; with no cached key the call is UNAVAILABLE, never accepted', async () => {
    const warm = await startTestServer({ demo: true, oidc: { issuers: [issuerConfig({ jwksCooldownSeconds: 0 })] } }, { secure: true });
    const cold = await startTestServer({ demo: true, oidc: { issuers: [issuerConfig({ jwksCooldownSeconds: 0 })] } }, { secure: true });
    const t1 = await idp.accessToken('alice-app');
    const t2 = await idp.accessToken('alice-app');
    try {
      assert.equal(await flightStatus(warm, t1), 'OK');
      await idp.stop();
      assert.equal(await flightStatus(warm, t2), 'OK', 'a new token signed with a cached key');
      assert.equal(await flightStatus(cold, t2), 'UNAVAILABLE');
      assert.equal((await whoami(cold, t2)).status, 503);
      const ex = await post(cold, '/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: t2, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' });
      assert.equal(ex.status, 503);
      assert.equal(ex.body.error, 'temporarily_unavailable');
      await idp.start();
      await eventually(async () => (await flightStatus(cold, t2)) === 'OK');
    } finally {
      await idp.start().catch(() => undefined);
      await warm.stop();
      await cold.stop();
    }
  });

  test('a revoked JWT is refused within a second on another replica sharing Redis', async () => {
    pg ??= await startPostgres();
    redis ??= await startRedis();
    const db = await pg.createDatabase();
    const shared = { demo: true, databaseUrl: db, redisUrl: redis.url, tokens: { keyEncryptionKey: KEK, issuer: 'https://flightgate.test' } };
    const dataDir = tempDir();
    const a = await startTestServer({ ...shared, dataDir }, { secure: true });
    const b = await startTestServer({ ...shared, dataDir }, { secure: true });
    const registry = await openRegistry({ databaseUrl: db, dataDir: a.dataDir });
    try {
      const c = await new ClientAdmin(registry.clients, registry.refreshTokens).add('rep', ['demo-db1-reader'], []);
      const tok = (await post(a, '/oauth2/token', { grant_type: 'client_credentials' }, [c.client.client_id, c.clientSecret])).body.access_token as string;
      assert.equal(await flightStatus(b, tok), 'OK', 'replica B accepts A\'s token (shared keys)');
      assert.equal((await post(a, '/oauth2/revoke', { token: tok }, [c.client.client_id, c.clientSecret])).status, 200);
      const t0 = Date.now();
      await eventually(async () => (await flightStatus(b, tok)) === 'UNAUTHENTICATED', 1000);
      assert.ok(Date.now() - t0 < 1000);
    } finally {
      await registry.close();
      await a.stop();
      await b.stop();
    }
  });
});

describe('token exchange with the default settings', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ demo: true, oidc: { issuers: [issuerConfig()] } }, { secure: true });
  });
  after(async () => {
    await server?.stop();
  });

  test('gives no refresh token, and an access token that ends no later than the exchanged one', async () => {
    const idpToken = await idp.accessToken('alice-app');
    const idpExp = decodePart(idpToken, 1).exp as number;
    const r = await post(server, '/oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: idpToken, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.refresh_token, undefined, 'no refresh token unless tokens.exchangeRefreshTokens');
    const exp = decodePart(r.body.access_token as string, 1).exp as number;
    assert.ok(exp <= idpExp, `our token (exp ${exp}) outlives the IdP token (exp ${idpExp})`);
    assert.ok((r.body.expires_in as number) <= idpExp - now() + 1);
  });
});
