/**
 * The HTTP service refuses what it should not take: OAuth bodies that are not form-encoded
 * (415), and failed client authentications leave an audit line (who was tried, from where, why,
 * never the secret). /metrics can require a bearer token and can move to a listener of its own.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openRegistry } from '../../src/stores/sql/open.js';
import { ClientAdmin } from '../../src/tokens/client-admin.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const FORM = 'application/x-www-form-urlencoded';
const basicOf = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('OAuth endpoints', () => {
  let server: TestServer;
  let client: { id: string; secret: string };
  before(async () => {
    server = await startTestServer({ demo: true, demoNumbersRows: 10 }, { secure: true });
    const registry = await openRegistry({ dataDir: server.dataDir });
    try {
      const created = await new ClientAdmin(registry.clients, registry.refreshTokens).add('job', ['demo-db1-reader'], []);
      client = { id: created.client.client_id, secret: created.clientSecret };
    } finally {
      await registry.close();
    }
  });
  after(async () => {
    await server?.stop();
  });

  test('a body that is not application/x-www-form-urlencoded is 415, even if it reads like a form', async () => {
    for (const path of ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke']) {
      for (const type of ['text/plain', 'application/json', 'multipart/form-data; boundary=x']) {
        const res = await fetch(`${server.httpUri}${path}`, { method: 'POST', headers: { 'content-type': type, authorization: basicOf(client.id, client.secret) }, body: 'grant_type=client_credentials&token=x' });
        assert.equal(res.status, 415, `${path} ${type}`);
        assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
      }
    }
    const ok = await fetch(`${server.httpUri}/oauth2/token`, { method: 'POST', headers: { 'content-type': `${FORM}; charset=UTF-8`, authorization: basicOf(client.id, client.secret) }, body: 'grant_type=client_credentials' });
    assert.equal(ok.status, 200);
  });

  test('failed client authentications are audited at token, introspect and revoke, without the secret', async () => {
    const wrong = 'not-the-secret-0123456789';
    for (const path of ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke']) {
      const res = await fetch(`${server.httpUri}${path}`, { method: 'POST', headers: { 'content-type': FORM, authorization: basicOf(client.id, wrong) }, body: 'grant_type=client_credentials&token=fgr_x' });
      assert.equal(res.status, 401, path);
    }
    const post = await fetch(`${server.httpUri}/oauth2/token`, { method: 'POST', headers: { 'content-type': FORM }, body: `grant_type=client_credentials&client_id=ghost&client_secret=${wrong}` });
    assert.equal(post.status, 401);
    await new Promise((r) => setTimeout(r, 200));
    const text = readFileSync(join(server.dataDir, 'audit.log'), 'utf8');
    const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    const failures = lines.filter((l) => l.event === 'auth.failure' && String(l.rpc).startsWith('HTTP /oauth2/'));
    for (const path of ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke']) {
      const f = failures.find((l) => l.rpc === `HTTP ${path}` && l.principal === client.id);
      assert.ok(f, `no audit line for ${path}`);
      assert.equal(f.method, 'client_secret_basic');
      assert.match(f.peer ?? '', /^127\.0\.0\.1:\d+$/);
      assert.equal(f.outcome, 'denied');
    }
    assert.ok(failures.some((l) => l.principal === 'ghost' && l.method === 'client_secret_post'), 'an unknown client id is named as tried');
    assert.ok(!text.includes(wrong), 'no secret in the audit log');
  });
});

describe('/metrics access', () => {
  const dir = tempDir();
  const token = 'metrics-token-0123456789abcdef';
  const tokenFile = join(dir, 'metrics.token');
  writeFileSync(tokenFile, `${token}\n`);

  test('with metrics.bearerTokenFile, /metrics needs that bearer token', async () => {
    const server = await startTestServer({ demo: true, demoNumbersRows: 10, metrics: { bearerTokenFile: tokenFile } }, { secure: true });
    try {
      const none = await fetch(`${server.httpUri}/metrics`);
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await fetch(`${server.httpUri}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789abcd' } })).status, 401);
      const ok = await fetch(`${server.httpUri}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /flightgate_rpc_calls_total/);
    } finally {
      await server.stop();
    }
  });

  test('with metrics.listen, /metrics is served there only', async () => {
    const server = await startTestServer({ demo: true, demoNumbersRows: 10, metrics: { listen: '127.0.0.1:0', bearerTokenFile: tokenFile } }, { secure: true });
    try {
      assert.ok(server.metricsUri, 'a metrics URI');
      assert.equal((await fetch(`${server.httpUri}/metrics`)).status, 404, 'not on the HTTP service any more');
      assert.equal((await fetch(server.metricsUri)).status, 401);
      const ok = await fetch(server.metricsUri, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /process_resident_memory_bytes/);
      assert.equal((await fetch(server.metricsUri.replace('/metrics', '/oauth2/token'), { method: 'POST' })).status, 404, 'nothing else is served there');
    } finally {
      await server.stop();
    }
  });

  test('an unreadable or too short token file is a start error naming metrics.bearerTokenFile', async () => {
    await assert.rejects(startTestServer({ demo: true, demoNumbersRows: 10, metrics: { bearerTokenFile: join(dir, 'missing') } }, { secure: true }), /metrics\.bearerTokenFile: cannot read/);
    const short = join(dir, 'short');
    writeFileSync(short, 'abc\n');
    await assert.rejects(startTestServer({ demo: true, demoNumbersRows: 10, metrics: { bearerTokenFile: short } }, { secure: true }), /metrics\.bearerTokenFile: .* at least 16 characters/);
  });
});
