/**
 * `await client.close()` must settle in a script that has nothing else keeping Node alive: the
 * README's TypeScript examples end with it. It once left the promise pending, so Node exited
 * with code 13 ("unsettled top-level await") and nothing after it ran.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../helpers/python.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ demo: true, demoNumbersRows: 10 });
});
after(async () => {
  await server?.stop();
});

function runScript(source: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(tempDir(), 'script.mts');
  writeFileSync(file, source);
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', file], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('a script that makes calls and then awaits close() runs to its end and exits 0', async () => {
  const client = JSON.stringify(join(ROOT, 'src/flight/client/flight-client.ts'));
  const r = await runScript(`
import { FlightClient } from ${client};
const c = new FlightClient(${JSON.stringify(server.uri)});
await c.doAction('ping');
const t = await c.readTable('db1');
await c.close();
console.log('closed after', t.numRows, 'rows');
`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /closed after 3 rows/);
});

test('close() on a client that never connected settles too', async () => {
  const client = JSON.stringify(join(ROOT, 'src/flight/client/flight-client.ts'));
  const r = await runScript(`
import { FlightClient } from ${client};
await new FlightClient(${JSON.stringify(server.uri)}).close();
console.log('closed');
`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /closed/);
});
