/**
 * Limits: request metadata size, per-principal call rate, upload size and hourly upload quota,
 * idle connections. Over a limit, RESOURCE_EXHAUSTED with a message naming the setting.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tableFromArrays, type Table } from 'apache-arrow';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { runPython } from '../helpers/python.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const exhausted = (message: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof FlightgateError, String(e));
  assert.equal(e.statusName, 'RESOURCE_EXHAUSTED', e.message);
  assert.match(e.message, message);
  return true;
};

async function loggedIn(server: TestServer, user: string, password: string): Promise<FlightClient> {
  const c = new FlightClient(server.uri);
  await c.login(user, password);
  return c;
}

/** A table of `bytes` bytes of int64 values, in batches of about 16 KiB. */
function tableOf(bytes: number): Table {
  return tableFromArrays({ v: BigInt64Array.from({ length: Math.floor(bytes / 8) }, (_, i) => BigInt(i)) });
}

describe('metadata size and call rate', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(
      { demo: true, demoNumbersRows: 1000, transport: { maxMetadataBytes: 4096, maxConcurrentStreams: 7 }, limits: { callsPerSecond: 5, callBurst: 5 } },
      { secure: true },
    );
  });
  after(async () => server?.stop());

  test('request metadata over the limit: RESOURCE_EXHAUSTED naming the limit, in TypeScript and pyarrow', async () => {
    const c = new FlightClient(server.uri, { headers: { 'x-padding': 'a'.repeat(5000) } });
    try {
      await assert.rejects(c.getFlightInfo('db1'), exhausted(/request metadata is \d+ bytes, over the limit of 4096 \(transport\.maxMetadataBytes\)/));
    } finally {
      await c.close();
    }
    const script = `
import sys, pyarrow.flight as flight
client = flight.FlightClient(sys.argv[1])
try:
    client.get_flight_info(flight.FlightDescriptor.for_path("db1"), flight.FlightCallOptions(headers=[(b"x-padding", b"a" * 5000)]))
except Exception as e:
    print(type(e).__name__, str(e).split(". gRPC client debug context")[0])
`;
    const r = await runPython(['-c', script, server.uri]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /request metadata is \d+ bytes, over the limit of 4096 \(transport\.maxMetadataBytes\)/);
    // Just under the limit is fine (and then authentication decides).
    const ok = new FlightClient(server.uri, { headers: { 'x-padding': 'a'.repeat(3000) } });
    try {
      await assert.rejects(ok.getFlightInfo('db1'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'UNAUTHENTICATED');
    } finally {
      await ok.close();
    }
  });

  test('the per-connection stream limit is what the server announces in its HTTP/2 SETTINGS', async () => {
    const session = http2.connect(server.uri.replace('grpc://', 'http://'));
    try {
      const settings = await new Promise<http2.Settings>((resolve, reject) => {
        session.once('remoteSettings', resolve);
        session.once('error', reject);
      });
      assert.equal(settings.maxConcurrentStreams, 7);
      assert.ok((settings.maxHeaderListSize ?? 0) >= 4096, 'room for metadata up to the limit, so the limit answers with a message');
    } finally {
      session.destroy();
    }
  });

  test('a principal over its call rate is refused until its bucket refills; others are not affected', async () => {
    const u1 = await loggedIn(server, 'user1', 'pass1');
    const u2 = await loggedIn(server, 'user2', 'pass2');
    try {
      await sleep(1100); // full buckets
      const outcomes = await Promise.allSettled(Array.from({ length: 12 }, () => u1.getFlightInfo('db1')));
      const refused = outcomes.filter((o) => o.status === 'rejected');
      assert.ok(outcomes.filter((o) => o.status === 'fulfilled').length >= 5, 'the burst passes');
      assert.ok(refused.length >= 5, `refused ${refused.length} of 12`);
      for (const r of refused) exhausted(/call rate limit: "user1" is over 5 calls per second \(limits\.callsPerSecond\)/)((r as PromiseRejectedResult).reason);
      assert.equal((await u2.getFlightInfo('db2')).totalRecords, 3, 'user2 has its own budget');
      await sleep(1100);
      assert.equal((await u1.getFlightInfo('db1')).totalRecords, 3, 'user1 may call again after a pause');
    } finally {
      await u1.close();
      await u2.close();
    }
  });
});

describe('uploads', () => {
  let perUpload: TestServer;
  let quota: TestServer;
  before(async () => {
    perUpload = await startTestServer({ demo: true, demoNumbersRows: 1000, limits: { maxUploadBytes: 200_000 } }, { secure: true });
    quota = await startTestServer({ demo: true, demoNumbersRows: 1000, limits: { uploadBytesPerHour: 300_000 } }, { secure: true });
  });
  after(async () => {
    await perUpload?.stop();
    await quota?.stop();
  });

  test('a DoPut over limits.maxUploadBytes is refused and stores nothing; a smaller one is stored', async () => {
    const admin = await loggedIn(perUpload, 'admin', 'admin123');
    try {
      await assert.rejects(admin.doPut('too_big', tableOf(250_000)), exhausted(/upload limit: this DoPut is over 200000 bytes \(limits\.maxUploadBytes\); nothing was stored/));
      await assert.rejects(admin.getFlightInfo('too_big'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'NOT_FOUND');
      await admin.doPut('fits', tableOf(150_000));
      assert.equal((await admin.readTable('fits')).numRows, 18_750);
    } finally {
      await admin.close();
    }
  });

  test('uploads count against an hourly quota per principal', async () => {
    const admin = await loggedIn(quota, 'admin', 'admin123');
    try {
      await admin.doPut('q1', tableOf(100_000));
      await admin.doPut('q2', tableOf(150_000));
      await assert.rejects(admin.doPut('q3', tableOf(100_000)), exhausted(/upload quota: "admin" is over 300000 bytes per hour \(limits\.uploadBytesPerHour\)/));
      await assert.rejects(admin.getFlightInfo('q3'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'NOT_FOUND');
      assert.equal((await admin.readTable('q2')).numRows, 18_750);
    } finally {
      await admin.close();
    }
  });
});

describe('idle connections', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ demo: true, demoNumbersRows: 1000, transport: { idleTimeoutSeconds: 1 } });
  });
  after(async () => server?.stop());

  const connect = (): { session: http2.ClientHttp2Session; closed: Promise<number> } => {
    const session = http2.connect(server.uri.replace('grpc://', 'http://'));
    session.on('error', () => undefined);
    const started = Date.now();
    const closed = new Promise<number>((resolve) => session.once('goaway', () => resolve(Date.now() - started)));
    return { session, closed };
  };

  test('a connection with nothing going on is closed after the idle timeout', async () => {
    const { session, closed } = connect();
    try {
      const ms = await Promise.race([closed, sleep(5000).then(() => -1)]);
      assert.ok(ms >= 900 && ms < 4000, `closed after ${ms} ms`);
    } finally {
      session.destroy();
    }
  });

  test('a quiet call in progress keeps its connection open; once it ends, the connection goes idle', async () => {
    const { session, closed } = connect();
    try {
      // A DoExchange whose client has sent nothing yet: the server waits, nothing moves on the wire.
      const stream = session.request({ ':method': 'POST', ':path': '/arrow.flight.protocol.FlightService/DoExchange', 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => undefined);
      stream.resume();
      const early = await Promise.race([closed.then(() => 'closed'), sleep(2500).then(() => 'open')]);
      assert.equal(early, 'open');
      stream.end();
      const ms = await Promise.race([closed, sleep(5000).then(() => -1)]);
      assert.ok(ms > 2500, `closed after ${ms} ms`);
    } finally {
      session.destroy();
    }
  });
});
