/**
 * Session tokens end to end on a secured in-process server, through our own FlightClient:
 * expiry, idle timeout, rotation with grace, refresh, and an audit log free of secrets.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const clients: FlightClient[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const status = (name: string) => (e: unknown) => {
  assert.ok(e instanceof FlightgateError, String(e));
  assert.equal(e.statusName, name, e.message);
  return true;
};
const client = (token?: string): FlightClient => {
  const c = new FlightClient(server.uri, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  clients.push(c);
  return c;
};

before(async () => {
  const dataDir = (await import('../helpers/server.js')).tempDir();
  server = await startTestServer(
    {
      demo: true,
      demoNumbersRows: 100,
      dataDir,
      audit: { file: join(dataDir, 'audit.log') },
      auth: { sessionLifetimeSeconds: 2, sessionIdleSeconds: 0.8, sessionRotateAfter: 0.5, sessionRotationGraceSeconds: 0.5 },
    },
    { secure: true },
  );
});

after(async () => {
  for (const c of clients) await c.close();
  await server.stop();
});

test('a session ends after its idle timeout', async () => {
  const c = client();
  await c.login('user1', 'pass1');
  await c.getFlightInfo('db1');
  await sleep(1000);
  await assert.rejects(c.getFlightInfo('db1'), status('UNAUTHENTICATED'));
});

test('calls keep a session alive until its absolute lifetime; rotation hands out a fresh token with a grace period', async () => {
  const c = client();
  const first = await c.login('user1', 'pass1');
  // A second client sending the first token as a per-call header, which it never replaces.
  const pinned = client();
  const withFirst = { headers: { authorization: `Bearer ${first}` } };
  // Stay active (calls every 300 ms, under the 800 ms idle timeout) until just before half the 2 s lifetime.
  const start = Date.now();
  for (let i = 0; i < 3; i++) {
    await sleep(300);
    await pinned.getFlightInfo('db1', withFirst);
  }
  assert.ok(Date.now() - start < 1000, 'the loop ended before the rotation point');
  await sleep(1100 - (Date.now() - start));
  // Past half the lifetime: this call's response rotates the token, and `c` adopts the new one.
  await c.getFlightInfo('db1');
  await sleep(20);
  await pinned.getFlightInfo('db1', withFirst); // still inside the grace period
  await sleep(600);
  await assert.rejects(pinned.getFlightInfo('db1', withFirst), status('UNAUTHENTICATED'));
  assert.equal((await c.getFlightInfo('db1')).totalRecords, 3, 'the client switched to the rotated token by itself');
});

test('a token past its absolute lifetime is refused even if used constantly', async () => {
  const token = await client().login('user2', 'pass2');
  const c = client();
  const pinned = { headers: { authorization: `Bearer ${token}` } }; // never replaced by a rotated token
  const end = Date.now() + 2300;
  let refused = false;
  while (Date.now() < end && !refused) {
    refused = await c.getFlightInfo('db2', pinned).then(() => false, () => true);
    await sleep(200);
  }
  assert.ok(refused, 'refused by the end of its lifetime');
});

test('refresh returns a working token; CloseSession ends one', async () => {
  const c = client();
  await c.login('user1', 'pass1');
  const [result] = await c.doAction('refresh');
  const body = JSON.parse(Buffer.from(result!).toString()) as { token_type: string; access_token: string; expires_in: number };
  assert.equal(body.token_type, 'Bearer');
  assert.match(body.access_token, /^fgs_[A-Za-z0-9_-]{43}$/);
  assert.equal(body.expires_in, 2);
  const next = client(body.access_token);
  assert.equal((await next.getFlightInfo('db1')).totalRecords, 3);
  const [closed] = await next.doAction('CloseSession');
  assert.deepEqual([...closed!], [0x08, 0x01]);
  await assert.rejects(next.getFlightInfo('db1'), status('UNAUTHENTICATED'));
});

test('refresh never forks a session: a replaced token cannot be refreshed again, and CloseSession ends both tokens', async () => {
  const c = client();
  const first = await c.login('user1', 'pass1');
  const old = client(first);
  const [result] = await old.doAction('refresh');
  const fresh = (JSON.parse(Buffer.from(result!).toString()) as { access_token: string }).access_token;
  // The replaced token still works for the grace, but refreshing it again is refused: no second successor.
  for (let i = 0; i < 3; i++) await assert.rejects(client(first).doAction('refresh'), status('FAILED_PRECONDITION'));
  assert.equal((await client(first).getFlightInfo('db1')).totalRecords, 3, 'within the grace the old token still works');
  const [closed] = await client(fresh).doAction('CloseSession');
  assert.deepEqual([...closed!], [0x08, 0x01]);
  await assert.rejects(client(fresh).getFlightInfo('db1'), status('UNAUTHENTICATED'));
  await assert.rejects(client(first).getFlightInfo('db1'), status('UNAUTHENTICATED'), 'the token it replaced ended with it');
});

test('GET /whoami past the rotation point does not rotate the session (it could not hand the new token over)', async () => {
  const c = client();
  const token = await c.login('user2', 'pass2');
  // Past half the 2 s lifetime, calling every 300 ms to stay under the idle timeout.
  for (let t = 0; t < 1300; t += 300) {
    const r = await fetch(`${server.httpUri}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    await sleep(300);
  }
  // Well past the rotation point and its 0.5 s grace, the same token still works: it was never rotated away.
  const r = await fetch(`${server.httpUri}/whoami`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  assert.equal((await client(token).getFlightInfo('db2')).totalRecords, 3);
});

test('the audit log records logins, denials and data access, and no secret', async () => {
  const c = client();
  const token = await c.login('admin', 'admin123');
  await c.readTable('db2');
  const u1 = client();
  await u1.login('user1', 'pass1');
  await assert.rejects(u1.getFlightInfo('db2'), status('PERMISSION_DENIED'));
  await assert.rejects(client().login('user1', 'wrong-password'), status('UNAUTHENTICATED'));
  await sleep(100);
  const log = readFileSync(join(server.dataDir, 'audit.log'), 'utf8');
  const events = log.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(events.some((e) => e.event === 'data.access' && e.dataset === 'db2' && e.rows === 3 && e.principal === 'admin'));
  const denied = events.find((e) => e.event === 'authz.denied' && e.dataset === 'db2' && e.principal === 'user1');
  assert.ok(denied, 'the denial is audited');
  assert.equal(denied.rpc, 'GetFlightInfo', 'with the RPC');
  assert.match(String(denied.peer), /^127\.0\.0\.1:\d+$/, 'and the peer, as every line');
  assert.equal(denied.kind, 'user');
  assert.ok(events.some((e) => e.event === 'auth.failure' && e.principal === 'user1' && e.reason === 'wrong password'));
  assert.ok(events.some((e) => e.event === 'session.created' && e.principal === 'admin'));
  for (const secret of ['admin123', 'pass1', 'wrong-password', token, token.slice(4, 24)]) {
    assert.ok(!log.includes(secret), `the audit log contains a secret (${secret.slice(0, 6)}…)`);
  }
  for (const line of server.logs) assert.ok(!line.includes(token.slice(4, 24)));
});

test('CloseSession without a session (stateless Basic) answers NOT_CLOSEABLE and ends nothing', async () => {
  const basic = { headers: { authorization: `Basic ${Buffer.from('user1:pass1').toString('base64')}` } };
  const c = client();
  const [result] = await c.doAction('CloseSession', '', basic);
  assert.deepEqual([...result!], [0x08, 0x03]);
  assert.equal((await c.getFlightInfo('db1', basic)).totalRecords, 3);
});

test('RenewFlightEndpoint renews only tickets issued to the caller', async () => {
  const { encodeRenewFlightEndpointRequest, decodeEndpoint } = await import('../../src/flight/proto/messages.js');
  const owner = client();
  await owner.login('user1', 'pass1');
  const endpoint = (await owner.getFlightInfo('db1')).endpoints[0]!;
  const [renewed] = await owner.doAction('RenewFlightEndpoint', encodeRenewFlightEndpointRequest(endpoint));
  assert.equal((await owner.doGet(decodeEndpoint(renewed!).ticket).readAll()).numRows, 3);
  const admin = client();
  await admin.login('admin', 'admin123');
  await assert.rejects(admin.doAction('RenewFlightEndpoint', encodeRenewFlightEndpointRequest(endpoint)), status('PERMISSION_DENIED'));
});
