/**
 * CORS for browser applications: off by default; with an allow-list, preflights from listed
 * origins are answered and their calls carry the headers that let the page read the answer
 * (a token exchange, /whoami); other origins get nothing readable; credentials are never allowed
 * for `*`; introspection never answers cross-origin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { openRegistry } from '../../src/stores/sql/open.js';
import { ClientAdmin } from '../../src/tokens/client-admin.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const APP = 'https://app.example.com';
const FORM = 'application/x-www-form-urlencoded';

function preflight(server: TestServer, path: string, origin: string, method = 'POST'): Promise<Response> {
  return fetch(`${server.httpUri}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  });
}

describe('CORS off (the default)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ demo: true, demoNumbersRows: 10 }, { secure: true });
  });
  after(async () => server?.stop());

  test('no CORS headers, and no preflight answer', async () => {
    const res = await fetch(`${server.httpUri}/.well-known/jwks.json`, { headers: { origin: APP } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal((await preflight(server, '/oauth2/token', APP)).status, 404);
  });
});

describe('CORS with an allow-list', () => {
  let server: TestServer;
  let client: { id: string; secret: string };
  before(async () => {
    server = await startTestServer({ demo: true, demoNumbersRows: 10, cors: { origins: [APP], credentials: false, maxAgeSeconds: 300 } }, { secure: true });
    const registry = await openRegistry({ dataDir: server.dataDir });
    try {
      const created = await new ClientAdmin(registry.clients, registry.refreshTokens).add('spa', ['demo-db1-reader'], []);
      client = { id: created.client.client_id, secret: created.clientSecret };
    } finally {
      await registry.close();
    }
  });
  after(async () => server?.stop());

  test('a listed origin: the preflight is answered, and the token and /whoami answers are readable by it', async () => {
    const pre = await preflight(server, '/oauth2/token', APP);
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), APP);
    assert.match(pre.headers.get('access-control-allow-methods')!, /POST/);
    assert.match(pre.headers.get('access-control-allow-headers')!, /authorization/);
    assert.equal(pre.headers.get('access-control-max-age'), '300');
    assert.equal(pre.headers.get('access-control-allow-credentials'), null);
    const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
    const token = await fetch(`${server.httpUri}/oauth2/token`, { method: 'POST', headers: { origin: APP, 'content-type': FORM, authorization: basic }, body: 'grant_type=client_credentials' });
    assert.equal(token.status, 200);
    assert.equal(token.headers.get('access-control-allow-origin'), APP);
    assert.match(token.headers.get('vary')!, /Origin/);
    const access = ((await token.json()) as { access_token: string }).access_token;
    const who = await fetch(`${server.httpUri}/whoami`, { headers: { origin: APP, authorization: `Bearer ${access}` } });
    assert.equal(who.status, 200);
    assert.equal(who.headers.get('access-control-allow-origin'), APP);
  });

  test('another origin: its preflight is refused and its answers carry no CORS headers', async () => {
    const pre = await preflight(server, '/oauth2/token', 'https://evil.example');
    assert.equal(pre.status, 403);
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
    const res = await fetch(`${server.httpUri}/.well-known/jwks.json`, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  test('introspection and methods not listed are never allowed cross-origin', async () => {
    assert.notEqual((await preflight(server, '/oauth2/introspect', APP)).status, 204);
    assert.equal((await preflight(server, '/oauth2/token', APP, 'DELETE')).status, 403);
    const res = await fetch(`${server.httpUri}/oauth2/introspect`, { method: 'POST', headers: { origin: APP, 'content-type': FORM }, body: 'token=x' });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});

test('credentials for every origin are refused by the config', () => {
  assert.throws(() => loadConfig({ env: {}, overrides: { cors: { origins: ['*'], credentials: true } } }), /credentials cannot be allowed for every origin/);
  assert.throws(() => loadConfig({ env: {}, overrides: { cors: { origins: ['https://app.example.com/path'] } } }), /expected an origin/);
});
