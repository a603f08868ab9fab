/** The short version of `npm run soak`: 50 authenticated clients for 8 s, not one error. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from './soak-run.js';

test('50 concurrent clients mixing logins, small calls and DoGets for 8 s: no errors, every kind of call ran', async () => {
  const report = await runSoak({ clients: 50, seconds: 8, warmupSeconds: 3, numbersRows: 20_000 });
  assert.deepEqual(report.errors.slice(0, 10), []);
  for (const op of ['login', 'getFlightInfo', 'listFlights', 'ping', 'doGetSmall', 'doGetNumbers'] as const) {
    assert.ok((report.latencyMs[op]?.count ?? 0) > 0, `${op} never ran: ${JSON.stringify(report.latencyMs)}`);
  }
  assert.ok(report.operations > 1000, `only ${report.operations} operations`);
});
