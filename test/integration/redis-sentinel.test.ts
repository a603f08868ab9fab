/**
 * Redis through Sentinel: a real master and a real sentinel monitoring it; two replicas given
 * only `redis+sentinel://SENTINEL/mymaster` find the master through it and share sessions.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { freePort } from '../helpers/free-port.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
let master: RedisServer;
let sentinel: ChildProcess | undefined;
let sentinelDir: string;
let sentinelPort: number;
const servers: TestServer[] = [];
const clients: FlightClient[] = [];

before(async () => {
  master = await startRedis();
  sentinelPort = await freePort();
  sentinelDir = mkdtempSync(join(tmpdir(), 'fg-sentinel-'));
  const conf = join(sentinelDir, 'sentinel.conf');
  writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\ndir ${sentinelDir}\nsentinel monitor mymaster 127.0.0.1 ${master.port} 1\nsentinel down-after-milliseconds mymaster 1000\n`);
  sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await run('redis-cli', ['-p', String(sentinelPort), 'SENTINEL', 'get-master-addr-by-name', 'mymaster']).then((r) => r.stdout, () => '');
    if (answer.includes(String(master.port))) break;
    if (Date.now() > deadline) throw new Error('the sentinel did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await Promise.all(servers.map((s) => s.stop()));
  sentinel?.kill('SIGKILL');
  await master?.stop();
  rmSync(sentinelDir, { recursive: true, force: true });
});

test('replicas given only the sentinel find the master through it and share sessions', async () => {
  const redisUrl = `redis+sentinel://127.0.0.1:${sentinelPort}/mymaster`;
  servers.push(...(await Promise.all([0, 1].map(() => startTestServer({ demo: true, redisUrl }, { secure: true })))));
  const onA = new FlightClient(servers[0]!.uri);
  clients.push(onA);
  const token = await onA.login('user1', 'pass1');
  const onB = new FlightClient(servers[1]!.uri, { headers: { authorization: `Bearer ${token}` } });
  clients.push(onB);
  assert.equal((await onB.readTable('db1')).numRows, 3, 'the session opened on A is known on B');
  const keys = await run('redis-cli', ['-p', String(master.port), '--scan', '--pattern', 'fg:session:*']);
  assert.ok(keys.stdout.trim().length > 0, 'the session is in the master the sentinel names');
});
