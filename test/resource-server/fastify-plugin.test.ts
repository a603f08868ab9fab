/**
 * The resource-server plugin in another fastify service, against a real flightgate issuing the
 * tokens: routes are closed unless they say `public`, roles are checked per route, tokens signed
 * by anyone else or altered are refused, a revocation at flightgate is honoured (through
 * introspection, or at once through the shared Redis), a burst of calls with one token costs one
 * introspection, and when flightgate cannot be asked the answer is 503, never a pass.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { flightgateResourceServer, type FlightgateResourceServerOptions } from '../../src/resource-server/fastify-plugin.js';
import { openRegistry } from '../../src/stores/sql/open.js';
import { ClientAdmin } from '../../src/tokens/client-admin.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Client {
  id: string;
  secret: string;
}

async function addClient(server: TestServer, name: string, roles: string[]): Promise<Client> {
  const registry = await openRegistry({ dataDir: server.dataDir });
  try {
    const created = await new ClientAdmin(registry.clients, registry.refreshTokens).add(name, roles, []);
    return { id: created.client.client_id, secret: created.clientSecret };
  } finally {
    await registry.close();
  }
}

const basic = (c: Client): string => `Basic ${Buffer.from(`${encodeURIComponent(c.id)}:${encodeURIComponent(c.secret)}`).toString('base64')}`;

async function oauth(server: TestServer, path: string, client: Client, params: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.httpUri}${path}`, {
    method: 'POST',
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  assert.equal(res.status, 200, `${path} answered ${res.status}`);
  const text = await res.text();
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const tokenFor = async (server: TestServer, client: Client): Promise<string> =>
  (await oauth(server, '/oauth2/token', client, { grant_type: 'client_credentials' })).access_token as string;

/** A service with three routes: public, any valid token, and the admin role only. */
async function resourceServer(options: FlightgateResourceServerOptions): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(flightgateResourceServer, options);
  app.get('/health', { config: { flightgate: { public: true } } }, async (req) => ({ ok: true, principal: req.flightgate }));
  app.get('/me', async (req) => ({ subject: req.flightgate?.subject, kind: req.flightgate?.subjectKind, roles: req.flightgate?.roles }));
  app.get('/admin', { config: { flightgate: { roles: ['demo-admin'] } } }, async (req) => ({ subject: req.flightgate?.subject }));
  await app.ready();
  return app;
}

async function call(app: FastifyInstance, url: string, token?: string): Promise<{ status: number; body: Record<string, unknown>; challenge?: string }> {
  const res = await app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>(), challenge: res.headers['www-authenticate'] as string | undefined };
}

/** Forwards to flightgate's introspection endpoint, counting requests. */
async function countingProxy(target: string): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    n++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      fetch(target, { method: 'POST', headers: { authorization: req.headers.authorization ?? '', 'content-type': req.headers['content-type'] ?? '' }, body: Buffer.concat(chunks) })
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(await r.text());
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`,
    count: () => n,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('with introspection', () => {
  let flightgate: TestServer;
  let other: TestServer;
  let reader: Client;
  let admin: Client;
  let service: Client;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let app: FastifyInstance;

  before(async () => {
    flightgate = await startTestServer({ demo: true }, { secure: true });
    reader = await addClient(flightgate, 'reports-job', ['demo-db1-reader']);
    admin = await addClient(flightgate, 'ops-job', ['demo-admin']);
    service = await addClient(flightgate, 'reports-api', []);
    proxy = await countingProxy(`${flightgate.httpUri}/oauth2/introspect`);
    app = await resourceServer({
      issuer: flightgate.httpUri!,
      audience: 'flightgate',
      introspection: { clientId: service.id, clientSecret: service.secret, endpoint: proxy.url, cacheSeconds: 1 },
    });
    // Another flightgate that claims the same issuer name but signs with its own keys.
    other = await startTestServer({ demo: true, tokens: { issuer: flightgate.httpUri } }, { secure: true });
  });
  after(async () => {
    await app?.close();
    await proxy?.close();
    await other?.stop();
    await flightgate?.stop();
  });

  test('routes are closed unless public; a valid token is the principal; roles are checked per route', async () => {
    const none = await call(app, '/me');
    assert.equal(none.status, 401);
    assert.equal(none.challenge, 'Bearer realm="flightgate"', 'no error code when no token was sent (RFC 6750 §3.1)');
    const health = await call(app, '/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.principal, null);

    const readerToken = await tokenFor(flightgate, reader);
    const me = await call(app, '/me', readerToken);
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, { subject: reader.id, kind: 'client', roles: ['demo-db1-reader'] });
    const refused = await call(app, '/admin', readerToken);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'insufficient_scope');
    assert.match(refused.challenge ?? '', /error="insufficient_scope"/);

    const adminToken = await tokenFor(flightgate, admin);
    assert.equal((await call(app, '/admin', adminToken)).status, 200);
    assert.equal((await call(app, '/admin', `${adminToken}x`)).status, 401);
  });

  test('tokens it did not sign, or altered, are invalid_token', async () => {
    const readerToken = await tokenFor(flightgate, reader);
    const [h, p, s] = readerToken.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const elevated = `${h}.${Buffer.from(JSON.stringify({ ...payload, roles: ['demo-admin'] })).toString('base64url')}.${s}`;
    const tampered = await call(app, '/admin', elevated);
    assert.equal(tampered.status, 401);
    assert.match(tampered.challenge ?? '', /error="invalid_token"/);

    const impostor = await addClient(other, 'impostor', ['demo-admin']);
    const foreign = await call(app, '/admin', await tokenFor(other, impostor));
    assert.equal(foreign.status, 401, 'same issuer name, other keys');
    assert.match(String(foreign.body.error_description), /unknown key|signature/);

    for (const junk of ['not-a-jwt', 'eyJhbGciOiJub25lIn0.e30.', 'a'.repeat(9000)]) {
      assert.equal((await call(app, '/me', junk)).status, 401, junk.slice(0, 20));
    }
  });

  test('200 concurrent calls with one token cost one introspection; a revocation is honoured after the cache time', async () => {
    const token = await tokenFor(flightgate, reader);
    const before = proxy.count();
    const answers = await Promise.all(Array.from({ length: 200 }, () => call(app, '/me', token)));
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal(proxy.count() - before, 1, 'one introspection request for the burst');

    await oauth(flightgate, '/oauth2/revoke', reader, { token, token_type_hint: 'access_token' });
    await new Promise((r) => setTimeout(r, 1100));
    const revoked = await call(app, '/me', token);
    assert.equal(revoked.status, 401);
    assert.match(String(revoked.body.error_description), /revoked/);
  });

  test('when flightgate cannot be asked, the answer is 503, not a pass', async () => {
    const token = await tokenFor(flightgate, reader);
    assert.equal((await call(app, '/me', token)).status, 200);
    await proxy.close();
    await new Promise((r) => setTimeout(r, 1100));
    const down = await call(app, '/me', token);
    assert.equal(down.status, 503);
    assert.equal(down.body.error, 'temporarily_unavailable');
  });

  test('a plugin without a way to hear of revocations is refused at registration', async () => {
    const bare = Fastify();
    await assert.rejects(async () => {
      await bare.register(flightgateResourceServer, { issuer: flightgate.httpUri!, audience: 'flightgate' });
      await bare.ready();
    }, /introspection|revocationRedisUrl/);
    await bare.close();
  });
});

describe('with the revocation list in Redis', () => {
  let redis: RedisServer;
  let flightgate: TestServer;
  let app: FastifyInstance;
  let reader: Client;

  before(async () => {
    redis = await startRedis();
    flightgate = await startTestServer({ demo: true, redisUrl: redis.url }, { secure: true });
    reader = await addClient(flightgate, 'reports-job', ['demo-db1-reader']);
    app = await resourceServer({ issuer: flightgate.httpUri!, audience: 'flightgate', revocationRedisUrl: redis.url });
  });
  after(async () => {
    await app?.close();
    await flightgate?.stop();
    await redis?.stop();
  });

  test('a revocation is refused on the next call; Redis down is 503', async () => {
    const token = await tokenFor(flightgate, reader);
    assert.equal((await call(app, '/me', token)).status, 200);
    await oauth(flightgate, '/oauth2/revoke', reader, { token, token_type_hint: 'access_token' });
    assert.equal((await call(app, '/me', token)).status, 401);

    const fresh = await tokenFor(flightgate, reader);
    await redis.stop();
    assert.equal((await call(app, '/me', fresh)).status, 503);
    await redis.start();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await call(app, '/me', fresh)).status;
    }
    assert.equal(status, 200, 'serves again once Redis is back');
  });
});
