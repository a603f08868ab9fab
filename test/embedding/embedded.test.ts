/**
 * flightgate as a library (examples/embedded.ts, run as written): an application table served
 * by a custom provider, and the application's own bearer tokens, both used by pyarrow; the
 * built-in datasets and logins keep working beside them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { ROOT, runPython } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';

const dir = tempDir();
const child = spawn(process.execPath, ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(ROOT, 'examples/embedded.ts')], {
  cwd: ROOT,
  env: { ...process.env, DATA_DIR: join(dir, 'data') },
  stdio: ['ignore', 'pipe', 'pipe'],
});
const output: string[] = [];
child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
after(async () => {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
});

const uri = new Promise<string>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`the example did not start: ${output.join('')}`)), 60_000);
  createInterface({ input: child.stdout }).on('line', (line) => {
    output.push(line);
    const m = /^flightgate listening on (grpc:\/\/\S+)$/.exec(line);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]!);
    }
  });
  child.once('exit', (code) => reject(new Error(`the example exited ${code}: ${output.join('')}`)));
});

test('pyarrow reads the application table with an application token; built-ins still work; bad tokens are refused', async () => {
  const py = await runPython(['-c', `
import sys, pyarrow.flight as flight
c = flight.FlightClient(sys.argv[1])
opts = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer report-service-token")])
print(sorted(f.descriptor.path[0].decode() for f in c.list_flights(options=opts)))
t = c.do_get(flight.Ticket(b"inventory"), opts).read_all()
print(t.column("sku").to_pylist(), t.column("stock").to_pylist())
info = c.get_flight_info(flight.FlightDescriptor.for_path("db1"), opts)
print(c.do_get(info.endpoints[0].ticket, opts).read_all().num_rows)
user = flight.FlightCallOptions(headers=[c.authenticate_basic_token(b"user1", b"pass1")])
print(c.do_get(flight.Ticket(b"db1"), user).read_all().num_rows)
try:
    c.do_get(flight.Ticket(b"inventory"), user).read_all()
except flight.FlightUnauthorizedError:
    print("user1 may not read inventory")
try:
    c.list_flights(options=flight.FlightCallOptions(headers=[(b"authorization", b"Bearer report-service-forged")])).__next__()
except flight.FlightUnauthenticatedError as e:
    print("forged:", "unknown report-service token" in str(e))
`, await uri]);
  assert.equal(py.code, 0, py.stderr);
  assert.deepEqual(py.stdout.trim().split('\n'), [
    "['db1', 'db2', 'inventory', 'numbers']",
    "['A-100', 'B-200', 'C-300'] [12, 0, 7]",
    '3',
    '3',
    'user1 may not read inventory',
    'forged: True',
  ]);
});
