/**
 * Three `flightgate serve` processes sharing one data directory, PostgreSQL and a three-node
 * Redis Cluster, as replicas behind a load balancer: what is uploaded, replaced or dropped through one is seen by the others
 * within a second; concurrent appends through all three all land; a create races to one winner;
 * a replace does not cut short a stream of the old version on another replica; leftovers of a
 * replica killed mid-upload are cleaned up by the others; a replica given its own directory by
 * mistake refuses to start; sessions live in the cluster, so a token from one replica works on
 * all; and with a cluster node down every call fails UNAVAILABLE, until it is back.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tableFromArrays, type Table } from 'apache-arrow';
import { FlightgateError } from '../../src/core/errors.js';
import { descriptors } from '../../src/flight/client/descriptors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { startCliServer, type CliServer } from '../helpers/cli-server.js';
import { freePort } from '../helpers/free-port.js';
import { startRedisCluster, type RedisClusterServer } from '../helpers/redis-cluster.js';
import { tempDir } from '../helpers/server.js';
import { runPython } from '../helpers/python.js';

let pg: PostgresServer;
let redis: RedisClusterServer;
let env: Record<string, string>;
let dir: string;
const replicas: CliServer[] = [];
const clients: FlightClient[] = [];

const put = (dataset: string, mode: 'create' | 'append' | 'replace') => descriptors.command(JSON.stringify({ dataset, mode }));

async function admin(server: CliServer): Promise<FlightClient> {
  const c = new FlightClient(server.uri);
  clients.push(c);
  await c.login('admin', 'admin123');
  return c;
}

const rowsOf = (n: number, from = 0): Table => tableFromArrays({ id: BigInt64Array.from({ length: n }, (_, i) => BigInt(from + i)) });

/** Milliseconds until `check` holds, polling every 10 ms; fails after `timeoutMs`. */
async function within(timeoutMs: number, check: () => Promise<boolean>, what: string): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - start;
    if (performance.now() - start > timeoutMs) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const status = (name: string) => (e: unknown) => {
  assert.ok(e instanceof FlightgateError, String(e));
  assert.equal(e.statusName, name, e.message);
  return true;
};

before(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedisCluster()]);
  dir = tempDir();
  env = {
    FLIGHTGATE_DATABASE_URL: await pg.createDatabase(),
    FLIGHTGATE_REDIS_URL: redis.url,
    FLIGHTGATE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    FLIGHTGATE_AUDIT_FILE: '/dev/null',
  };
  const ports = [await freePort(), await freePort(), await freePort()];
  // Started together, as an orchestrator starts them: they race to create the catalog's tables and seed the demo data.
  const started = await Promise.all(
    ports.map((port) =>
      startCliServer(['--demo', '--data-dir', dir, '--port', String(port)], {
        ...env,
        FLIGHTGATE_ADVERTISED_URI: `grpc://127.0.0.1:${port}`,
        FLIGHTGATE_CATALOG_REFRESH_SECONDS: '5',
        FLIGHTGATE_CATALOG_RETAIN_REPLACED_SECONDS: '3',
      }),
    ),
  );
  replicas.push(...started);
});

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await Promise.all(replicas.map((r) => r.stop()));
  await Promise.all([pg?.stop(), redis?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

test('replicas started together share one catalog: the demo data was seeded once and every replica serves it', async () => {
  for (const r of replicas) {
    const c = await admin(r);
    assert.equal((await c.readTable('db1')).numRows, 3);
  }
  assert.deepEqual(readdirSync(join(dir, 'datasets', 'db1')).length, 1, 'one segment: db1 was created once');
});

test('an upload through each replica is readable through the others within a second', async () => {
  const [a, b, c] = await Promise.all(replicas.map(admin));
  const delays: number[] = [];
  for (const [i, [writer, ...readers]] of [[a!, b!, c!], [b!, c!, a!], [c!, a!, b!]].entries()) {
    await writer!.doPut(put(`fresh_${i}`, 'create'), rowsOf(10 + i));
    for (const reader of readers) {
      delays.push(await within(1000, async () => (await reader.getFlightInfo(`fresh_${i}`)).totalRecords === 10 + i, `fresh_${i} on another replica`));
    }
  }
  console.log(`# propagation of a create: max ${Math.max(...delays).toFixed(0)} ms over ${delays.length} reads`);
});

test('30 concurrent appends spread over the three replicas all land', async () => {
  const writers = await Promise.all(replicas.map(admin));
  await writers[0]!.doPut(put('appended', 'create'), rowsOf(1, -1));
  await Promise.all(Array.from({ length: 30 }, (_, i) => writers[i % 3]!.doPut(put('appended', 'append'), rowsOf(5, i * 100))));
  for (const w of writers) {
    await within(1000, async () => (await w.getFlightInfo('appended')).totalRecords === 151, 'every append on every replica');
    const ids = new Set<bigint>();
    for (const v of (await w.readTable('appended')).getChild('id')!) ids.add(v as bigint);
    assert.equal(ids.size, 151);
    for (let i = 0; i < 30; i++) assert.ok(ids.has(BigInt(i * 100 + 4)), `append ${i} present`);
  }
});

test('creates of one name through three replicas at once: exactly one wins, the others are told it exists', async () => {
  const writers = await Promise.all(replicas.map(admin));
  const outcomes = await Promise.allSettled(writers.map((w, i) => w.doPut(put('raced', 'create'), rowsOf(1 + i))));
  assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, JSON.stringify(outcomes.map((o) => o.status)));
  for (const o of outcomes) if (o.status === 'rejected') status('ALREADY_EXISTS')(o.reason);
  const rows = (await writers[0]!.getFlightInfo('raced')).totalRecords;
  for (const w of writers) await within(1000, async () => (await w.getFlightInfo('raced')).totalRecords === rows, 'the winner everywhere');
});

test('a drop on one replica is NOT_FOUND on the others within a second', async () => {
  const [a, b, c] = await Promise.all(replicas.map(admin));
  await a!.doPut(put('dropped', 'create'), rowsOf(4));
  await within(1000, async () => (await c!.getFlightInfo('dropped')).totalRecords === 4, 'created on C');
  await b!.doAction('drop', JSON.stringify({ dataset: 'dropped' }));
  for (const r of [a!, c!]) {
    await within(1000, async () => {
      await r.getFlightInfo('dropped').then(
        () => assert.fail('still there'),
        (e: unknown) => status('NOT_FOUND')(e),
      );
      return true;
    }, 'the drop everywhere');
  }
});

test('a file dropped into the shared directory is served by every replica within a second', async () => {
  const readers = await Promise.all(replicas.map(admin));
  const source = join(dir, 'numbers.arrows');
  copyFileSync(source, join(dir, 'dropped_in.arrows'));
  for (const r of readers) await within(1000, async () => (await r.getFlightInfo('dropped_in')).totalRecords === 1000, 'the file on every replica');
});

test('a replace on A while B streams the old version: the stream completes with the old rows', async () => {
  const [a, b] = await Promise.all(replicas.slice(0, 2).map(admin));
  const big = tableFromArrays({ id: BigInt64Array.from({ length: 2_000_000 }, (_, i) => BigInt(i)) });
  await a!.doPut(put('streamed', 'create'), big);
  await within(1000, async () => (await b!.getFlightInfo('streamed')).totalRecords === 2_000_000, 'on B');
  const info = await b!.getFlightInfo('streamed');
  const segmentDir = join(dir, 'datasets', 'streamed');
  const [oldSegment] = readdirSync(segmentDir);
  const stream = b!.doGet(info.endpoints[0]!.ticket);
  let rows = 0;
  let first = true;
  for await (const batch of stream) {
    rows += batch.numRows;
    if (first) {
      first = false;
      // The replace commits through A while B is mid-stream.
      await a!.doPut(put('streamed', 'replace'), rowsOf(7));
      await within(1000, async () => (await b!.getFlightInfo('streamed')).totalRecords === 7, 'the replace on B');
    }
  }
  assert.equal(rows, 2_000_000, 'the old version streamed whole');
  assert.equal((await b!.readTable('streamed')).numRows, 7);
  // Kept for catalog.retainReplacedSeconds (3 s here), for readers elsewhere; then deleted by some replica.
  assert.ok(readdirSync(segmentDir).includes(oldSegment!), 'the replaced segment is kept for a while');
  await within(15_000, async () => !readdirSync(segmentDir).includes(oldSegment!), 'the replaced segment deleted');
});

test('a replica given its own directory on the same catalog refuses to start, saying why', async () => {
  const other = tempDir();
  try {
    await assert.rejects(startCliServer(['--data-dir', other], env), /not the data directory of the shared catalog/);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test('a dataset of several segments is described as one endpoint per replica, and a parallel readTable over them equals one DoGet', async () => {
  const [a, b] = await Promise.all(replicas.slice(0, 2).map(admin));
  await a!.doPut(put('spread', 'create'), rowsOf(1000));
  for (let i = 1; i < 6; i++) await a!.doPut(put('spread', 'append'), rowsOf(1000, i * 1000));
  const info = await b!.getFlightInfo('spread');
  assert.equal(info.endpoints.length, 3, 'one endpoint per live replica');
  const uris = replicas.map((r) => r.uri).sort();
  for (const e of info.endpoints) assert.deepEqual(e.locations.map((l) => l.uri).sort(), uris, 'every replica can serve every range');
  assert.deepEqual(new Set(info.endpoints.map((e) => e.locations[0]!.uri)).size, 3, 'each range first on another replica');
  // A client that only knows B: readTable fetches each range from its first location, at once.
  const parallel = await b!.readTable('spread');
  const ids = [...parallel.getChild('id')!].map(Number);
  assert.deepEqual(ids, Array.from({ length: 6000 }, (_, i) => i), 'every row once, in order');
  // The official client, reading each endpoint from the replica it names first.
  const py = await runPython(['test/interop/py/read_endpoints.py', replicas[1]!.uri, 'spread']);
  assert.equal(py.code, 0, py.stderr);
  const read = JSON.parse(py.stdout) as { endpoints: number; first_locations: string[]; ids: number[] };
  assert.equal(read.endpoints, 3);
  assert.deepEqual(read.first_locations, uris, 'pyarrow read from all three replicas');
  assert.deepEqual(read.ids, ids);
  // A ticket's range is that range only, wherever it is used.
  let rows = 0;
  for (const e of info.endpoints) rows += (await a!.doGet(e.ticket).readAll()).numRows;
  assert.equal(rows, 6000);
  // A replace since the ticket was issued: the range no longer exists, and the client is told to ask again.
  await a!.doPut(put('spread', 'replace'), rowsOf(3));
  await within(1000, async () => (await b!.getFlightInfo('spread')).totalRecords === 3, 'the replace on B');
  await assert.rejects(b!.doGet(info.endpoints[1]!.ticket).readAll(), status('FAILED_PRECONDITION'));
});

test('a replica killed mid-upload: the others keep serving, and clean up its unfinished upload once it is gone', async () => {
  const victim = replicas[2]!;
  const c = await admin(victim);
  // An upload that never finishes: the schema and one batch, then nothing.
  const batches = (async function* () {
    yield* rowsOf(1000).batches;
    await new Promise(() => undefined);
  })();
  void c.doPut(put('unfinished', 'create'), batches, { schema: rowsOf(1).schema }).catch(() => undefined);
  const root = join(dir, 'datasets');
  await within(5000, async () => readdirSync(root).some((f) => f.startsWith('.unfinished.')), 'the upload\'s temporary file');
  victim.child.kill('SIGKILL');
  const [a, b] = await Promise.all(replicas.slice(0, 2).map(admin));
  // It leaves the endpoint lists within a few heartbeats.
  await b!.doPut(put('after_kill_spread', 'create'), rowsOf(10));
  await b!.doPut(put('after_kill_spread', 'append'), rowsOf(10, 10));
  await within(5000, async () => {
    const info = await a!.getFlightInfo('after_kill_spread');
    return info.endpoints.length === 2 && info.endpoints.every((e) => e.locations.every((l) => l.uri !== victim.uri));
  }, 'the killed replica out of the endpoints');
  assert.equal((await a!.readTable('after_kill_spread')).numRows, 20);
  assert.equal((await a!.readTable('db1')).numRows, 3);
  await b!.doPut(put('after_kill', 'create'), rowsOf(2));
  assert.equal((await a!.readTable('after_kill')).numRows, 2);
  // Gone after catalog.replicaTimeoutSeconds (10 s) without a heartbeat; the cleanup runs every 5 s.
  await within(25_000, async () => !readdirSync(root).some((f) => f.startsWith('.unfinished.')), 'the leftover removed');
  assert.ok(!existsSync(join(root, 'unfinished')) || readdirSync(join(root, 'unfinished')).length === 0);
});

test('sessions live in the Redis Cluster: a login on one replica works on the others, and logging out ends it everywhere', async () => {
  const [a, b] = replicas;
  const onA = new FlightClient(a!.uri);
  clients.push(onA);
  const token = await onA.login('user1', 'pass1');
  const onB = new FlightClient(b!.uri, { headers: { authorization: `Bearer ${token}` } });
  clients.push(onB);
  assert.equal((await onB.readTable('db1')).numRows, 3);
  await onB.doAction('CloseSession');
  await assert.rejects(onA.getFlightInfo('db1'), status('UNAUTHENTICATED'));
});

test('a Redis Cluster node stopped: authenticated calls fail UNAVAILABLE, never succeed unchecked; service resumes when it is back', async () => {
  const [a, b] = replicas;
  // Several sessions, so that their keys fall on different nodes of the cluster.
  const sessions: FlightClient[] = [];
  for (let i = 0; i < 6; i++) sessions.push(await admin(i % 2 ? b! : a!));
  for (const s of sessions) assert.equal((await s.getFlightInfo('db1')).totalRecords, 3);
  await redis.stopNode(0);
  try {
    // Within the node timeout (1 s) the cluster declares itself down: from then on nothing passes.
    await within(10_000, async () => {
      const outcomes = await Promise.allSettled(sessions.map((s) => s.getFlightInfo('db1')));
      return outcomes.every((o) => o.status === 'rejected' && o.reason instanceof FlightgateError && o.reason.statusName === 'UNAVAILABLE');
    }, 'every call UNAVAILABLE with a node down');
    const loginClient = new FlightClient(a!.uri);
    clients.push(loginClient);
    for (let round = 0; round < 3; round++) {
      for (const s of sessions) await assert.rejects(s.getFlightInfo('db1'), status('UNAVAILABLE'));
      await assert.rejects(loginClient.login('user1', 'pass1'), status('UNAVAILABLE'));
    }
  } finally {
    await redis.startNode(0);
  }
  await redis.healthy();
  // The node kept its keys (append-only file): every session works again, on either replica.
  await within(15_000, async () => {
    for (const s of sessions) await s.getFlightInfo('db1');
    return true;
  }, 'service resumed');
  const fresh = new FlightClient(b!.uri);
  clients.push(fresh);
  assert.match(await fresh.login('user2', 'pass2'), /^fgs_/);
});
