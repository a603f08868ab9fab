/**
 * Clients that read large Flight SQL results slowly, or stop reading, against a real server
 * process: each stuck reader holds only its own statement (within the per-principal limit, and
 * within memory), other principals keep querying, and once the readers go away their statements
 * end and free their place.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { FlightSqlClient } from '../../src/flight/client/flight-sql-client.js';
import { rejectsWith } from '../helpers/assertions.js';
import { startCliServer, type CliServer } from '../helpers/cli-server.js';
import { tempDir } from '../helpers/server.js';

const ROWS = 2_000_000;
let server: CliServer;
const dir = tempDir('fg-slow-sql-');
const clients: FlightClient[] = [];

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function signIn(user: string, password: string): Promise<{ flight: FlightClient; sql: FlightSqlClient }> {
  const flight = new FlightClient(server.uri);
  clients.push(flight);
  await flight.login(user, password);
  return { flight, sql: new FlightSqlClient(flight) };
}

before(async () => {
  server = await startCliServer(['--demo', '--data-dir', dir], { FLIGHTGATE_DEMO_NUMBERS_ROWS: String(ROWS), FLIGHTGATE_AUDIT_FILE: '/dev/null' });
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('four readers stuck on the full table: a fifth statement of theirs is refused, others are served, memory stays bounded, and going away frees them', async () => {
  const admin = await signIn('admin', 'admin123');
  const user1 = await signIn('user1', 'pass1');
  const pid = server.child.pid!;
  // Warm: the table's columns in the scan cache, as for any later reader.
  assert.equal(Number((await admin.sql.query('SELECT count(*) AS n FROM numbers WHERE name IS NOT NULL')).getChild('n')!.get(0)), ROWS);
  const before = rssMiB(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  const stuck = [];
  try {
    for (let i = 0; i < 4; i++) {
      const info = await admin.sql.execute('SELECT * FROM numbers');
      const stream = admin.flight.doGet(info.endpoints[0]!.ticket);
      const batches = stream[Symbol.asyncIterator]();
      assert.equal((await batches.next()).done, false, 'the first batch arrives');
      stuck.push(stream); // and is never read further
    }
    // The server waits on the four: their statements are running.
    await rejectsWith(admin.sql.query('SELECT 1 AS x'), 'RESOURCE_EXHAUSTED', /sql\.maxConcurrentQueriesPerPrincipal allows 4/);
    const others = await user1.sql.query('SELECT count(*) AS n FROM db1');
    assert.ok(Number(others.getChild('n')!.get(0)) > 0, 'another principal is served meanwhile');
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    clearInterval(sampler);
  }
  // Each stuck result is at most what a statement may hold (materializeBelow, 128 MB); here 60 MB each.
  assert.ok(peak - before < 4 * 128 + 150, `the server grew by ${Math.round(peak - before)} MiB`);
  for (const s of stuck) s.cancel();
  let freed = false;
  for (let i = 0; i < 50 && !freed; i++) {
    try {
      await admin.sql.query('SELECT 1 AS x');
      freed = true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(freed, 'the cancelled readers still hold their statements');
  // And the whole table is still read correctly afterwards.
  const all = await admin.sql.query('SELECT count(*) AS n, sum(id)::BIGINT AS s FROM numbers');
  assert.equal(Number(all.getChild('n')!.get(0)), ROWS);
});
