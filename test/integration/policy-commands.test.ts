/**
 * Commands an application registers read datasets through the same policy as DoGet: a DoExchange
 * command that streams a dataset back gives each caller their rows and columns, refuses those
 * without a grant (the same answer whether or not the dataset exists), and is audited with the
 * grants it went through.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { descriptors, FlightClient } from '../../src/flight/client/flight-client.js';
import { flightDataHead } from '../../src/flight/codec.js';
import type { FlightCommand } from '../../src/flight/commands.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** DoExchange `read:NAME`: the dataset back, as the caller may read it. */
const readBack: FlightCommand = {
  name: '"read:DATASET" (DoExchange: the dataset back)',
  claims: (cmd) => Buffer.from(cmd).toString('utf8').startsWith('read:'),
  async doExchange(c, d) {
    const data = await c.readDataset(Buffer.from(d.cmd).toString('utf8').slice('read:'.length));
    for await (const m of data.messages) await c.out.send(flightDataHead({ header: m.header, body: m.body }), m.body, m.release);
  },
};

let server: TestServer;
before(async () => {
  server = await startTestServer(
    {
      demo: true,
      demoNumbersRows: 10_000,
      grants: [{ role: 'demo-db1-reader', dataset: 'numbers', actions: ['read'], rows: 'id % 4 = 0', columns: { value: 'hide', name: 'last4' } }],
    },
    { secure: true, commands: [readBack] },
  );
});
after(() => server.stop());

async function exchange(user: string, password: string, dataset: string) {
  const client = new FlightClient(server.uri);
  await client.login(user, password);
  try {
    const x = client.doExchange(descriptors.command(`read:${dataset}`));
    await x.writeMetadata(Buffer.from('go'));
    x.end();
    return await x.readAll();
  } finally {
    await client.close();
  }
}

test('a DoExchange command reads datasets as the caller may: filtered, masked, refused without a grant, audited', async () => {
  const user1 = await exchange('user1', 'pass1', 'numbers');
  assert.equal(user1.numRows, 2500);
  assert.deepEqual(user1.schema.fields.map((f) => f.name), ['id', 'name']);
  assert.ok([...user1.getChild('id')!].every((id) => Number(id) % 4 === 0));
  assert.ok([...user1.getChild('name')!].every((n) => /^\*{6}.{4}$/.test(String(n))));
  const admin = await exchange('admin', 'admin123', 'numbers');
  assert.equal(admin.numRows, 10_000);
  assert.deepEqual(admin.schema.fields.map((f) => f.name), ['id', 'value', 'name']);
  for (const name of ['numbers', 'does-not-exist']) {
    await assert.rejects(exchange('user2', 'pass2', name), (e: unknown) => {
      assert.ok(e instanceof FlightgateError && e.status === Status.PERMISSION_DENIED, String(e));
      assert.match(e.message, new RegExp(`may not read dataset "${name}"`));
      return true;
    });
  }
  await new Promise((r) => setTimeout(r, 300));
  const lines = readFileSync(join(server.dataDir, 'audit.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const exchanged = lines.filter((l) => l.event === 'data.access' && l.rpc === 'DoExchange');
  assert.ok(exchanged.some((l) => l.principal === 'user1' && l.restricted === true && l.rows === 2500 && JSON.stringify(l.grants) === '["config:demo-db1-reader:numbers"]'));
  assert.ok(exchanged.some((l) => l.principal === 'admin' && l.restricted === false && l.rows === 10_000));
});
