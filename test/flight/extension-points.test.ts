/**
 * A new action and a new CMD command are one module each, registered in one place (the start
 * options): they appear in ListActions and in the unknown-command message, run behind the same
 * authentication as every call, and leave the built-in ones working.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { principalKey } from '../../src/core/principal.js';
import type { ActionDefinition } from '../../src/flight/actions.js';
import { descriptors, FlightClient } from '../../src/flight/client/flight-client.js';
import type { FlightCommand } from '../../src/flight/commands.js';
import { DescriptorType } from '../../src/flight/proto/messages.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** An action: who am I, as the server sees me. */
const whoAmI: ActionDefinition = {
  type: 'whoami',
  description: 'Returns the caller as the server names it.',
  run: async (_body, principal) => [Buffer.from(principalKey(principal))],
};

/** A command: `count:NAME` answers GetFlightInfo with the row count of a dataset, and nothing to fetch. */
const count: FlightCommand = {
  name: '"count:NAME" (GetFlightInfo: the rows of NAME)',
  claims: (cmd) => Buffer.from(cmd.subarray(0, 6)).toString('latin1') === 'count:',
  async getFlightInfo({ principal }, descriptor) {
    void principal;
    return {
      schema: new Uint8Array(0),
      descriptor,
      endpoints: [],
      totalRecords: 3,
      totalBytes: -1,
      ordered: false,
      appMetadata: Buffer.from(Buffer.from(descriptor.cmd).toString().slice(6)),
    };
  },
};

let server: TestServer;
let client: FlightClient;
before(async () => {
  server = await startTestServer({ demo: true, demoNumbersRows: 10 }, { secure: true, actions: [whoAmI], commands: [count] });
  client = new FlightClient(server.uri);
  await client.login('user1', 'pass1');
});
after(async () => {
  await client?.close();
  await server?.stop();
});

test('a registered action is listed, runs for an authenticated caller, and is refused without credentials', async () => {
  assert.ok((await client.listActions()).some((a) => a.type === 'whoami' && /as the server names it/.test(a.description)));
  const [result] = await client.doAction('whoami');
  assert.equal(Buffer.from(result!).toString(), 'user:user1');
  const anonymous = new FlightClient(server.uri);
  try {
    await assert.rejects(anonymous.doAction('whoami'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'UNAUTHENTICATED');
  } finally {
    await anonymous.close();
  }
});

test('a registered CMD command answers its RPC; the built-in dataset command and unknown commands behave as before', async () => {
  const info = await client.getFlightInfo({ type: DescriptorType.CMD, cmd: Buffer.from('count:db1'), path: [] });
  assert.equal(info.totalRecords, 3);
  assert.equal(Buffer.from(info.appMetadata).toString(), 'db1');
  assert.equal((await client.getFlightInfo(descriptors.command('{"dataset": "db1"}'))).totalRecords, 3);
  await assert.rejects(client.getFlightInfo(descriptors.command('nothing-like-it')), (e: unknown) =>
    e instanceof FlightgateError && e.statusName === 'UNIMPLEMENTED' && /count:NAME/.test(e.message) && /"dataset"/.test(e.message));
  await assert.rejects(client.getSchema({ type: DescriptorType.CMD, cmd: Buffer.from('count:db1'), path: [] }), (e: unknown) =>
    e instanceof FlightgateError && e.statusName === 'UNIMPLEMENTED' && /GetSchema does not take the command/.test(e.message));
});

test('a second registration of a name is refused at start', async () => {
  await assert.rejects(startTestServer({ demo: true, demoNumbersRows: 10 }, { secure: true, actions: [whoAmI, whoAmI] }), /registered already/);
  await assert.rejects(startTestServer({ demo: true, demoNumbersRows: 10 }, { secure: true, actions: [{ ...whoAmI, type: 'ping' }] }), /"ping" is registered already/);
});
