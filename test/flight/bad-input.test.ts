/**
 * Every RPC fed garbage: the server answers with a clear Flight status (never INTERNAL or a hang)
 * and stays up.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { FlightgateError } from '../../src/core/errors.js';
import { Status, statusName } from '../../src/core/status.js';
import { encodeFlightData } from '../../src/flight/codec.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { DescriptorType, encodeDescriptor } from '../../src/flight/proto/messages.js';
import { GrpcChannel } from '../../src/flight/transport/client.js';
import { splitIpcStream } from '../../src/ipc/message.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SERVICE = 'arrow.flight.protocol.FlightService';
const METHODS = ['Handshake', 'ListFlights', 'GetFlightInfo', 'PollFlightInfo', 'GetSchema', 'DoGet', 'DoPut', 'DoExchange', 'DoAction', 'ListActions'];
const CLIENT_ERRORS = new Set<number>([Status.INVALID_ARGUMENT, Status.NOT_FOUND, Status.UNIMPLEMENTED, Status.OK]);

let server: TestServer;
let channel: GrpcChannel;

before(async () => {
  server = await startTestServer({ demo: true, demoNumbersRows: 1000 });
  channel = new GrpcChannel(server.uri);
});
after(async () => {
  await channel.close();
  await server.stop();
});

/** Sends raw request messages and returns the final status code. */
async function rawCall(method: string, messages: Uint8Array[], rawTail?: Uint8Array): Promise<{ status: number; message: string }> {
  const call = channel.call(SERVICE, method, { timeoutMs: 10_000 });
  for (const m of messages) await call.send(m);
  if (rawTail) (call as unknown as { stream: NodeJS.WritableStream }).stream.write(rawTail);
  call.end();
  try {
    for await (const _ of call.messages()) void _;
    return { status: Status.OK, message: '' };
  } catch (e) {
    assert.ok(e instanceof FlightgateError, String(e));
    return { status: e.status, message: e.message };
  }
}

test('garbage request bytes get a client-error status on every RPC', async () => {
  for (const method of METHODS) {
    for (let i = 0; i < 25; i++) {
      const { status, message } = await rawCall(method, [randomBytes(1 + ((i * 37) % 200))]);
      assert.ok(CLIENT_ERRORS.has(status), `${method}: got ${statusName(status)} (${message})`);
      if (status !== Status.OK) assert.ok(message.length > 5, `${method}: status without a message`);
    }
  }
});

test('a message cut off mid-frame is INVALID_ARGUMENT on every RPC', async () => {
  for (const method of METHODS) {
    const { status, message } = await rawCall(method, [], Buffer.from([0, 0, 0, 0, 50, 1, 2, 3]));
    assert.equal(status, Status.INVALID_ARGUMENT, `${method}: ${statusName(status)} ${message}`);
    assert.match(message, /truncated/);
  }
});

test('unary RPCs with no request, or two, are INVALID_ARGUMENT', async () => {
  for (const method of ['GetFlightInfo', 'GetSchema', 'DoGet', 'DoAction', 'ListFlights']) {
    assert.equal((await rawCall(method, [])).status, Status.INVALID_ARGUMENT, method);
    const d = encodeDescriptor({ type: DescriptorType.PATH, cmd: new Uint8Array(0), path: ['db1'] });
    assert.equal((await rawCall(method, [d, d])).status, Status.INVALID_ARGUMENT, method);
  }
});

test('truncated Arrow IPC in DoPut and DoExchange is INVALID_ARGUMENT', async () => {
  const ipc = splitIpcStream(tableToIPC(tableFromArrays({ a: Int32Array.from([1, 2, 3, 4]) }), 'stream'));
  const descriptor = { type: DescriptorType.PATH, cmd: new Uint8Array(0), path: ['trunc'] };
  const schema = encodeFlightData({ descriptor, header: ipc[0]!.header });
  const cut = encodeFlightData({ header: ipc[1]!.header, body: ipc[1]!.body.subarray(0, 4) });
  const headerCut = encodeFlightData({ header: ipc[1]!.header.subarray(0, 12), body: ipc[1]!.body });
  for (const bad of [cut, headerCut]) {
    const put = await rawCall('DoPut', [schema, bad]);
    assert.equal(put.status, Status.INVALID_ARGUMENT, put.message);
  }
  const client = new FlightClient(server.uri);
  try {
    await assert.rejects(client.getFlightInfo('trunc'), (e: unknown) => e instanceof FlightgateError && e.status === Status.NOT_FOUND);
  } finally {
    await client.close();
  }
  const exchangeDescriptor = { type: DescriptorType.CMD, cmd: Buffer.from('echo'), path: [] };
  const ex = await rawCall('DoExchange', [encodeFlightData({ descriptor: exchangeDescriptor, header: ipc[0]!.header }), cut]);
  assert.equal(ex.status, Status.INVALID_ARGUMENT);
});

test('unsupported encodings and unknown methods are UNIMPLEMENTED', async () => {
  const call = channel.call(SERVICE, 'NoSuchMethod');
  call.end();
  await assert.rejects(call.done(), (e: unknown) => e instanceof FlightgateError && e.status === Status.UNIMPLEMENTED);
  const compressed = channel.call(SERVICE, 'ListActions', { metadata: undefined });
  (compressed as unknown as { stream: NodeJS.WritableStream }).stream.write(Buffer.from([1, 0, 0, 0, 0]));
  compressed.end();
  await assert.rejects(compressed.done(), (e: unknown) => e instanceof FlightgateError && e.status === Status.UNIMPLEMENTED);
});

test('the server is still healthy afterwards and logged no internal errors', async () => {
  const client = new FlightClient(server.uri);
  try {
    const [pong] = await client.doAction('ping');
    assert.equal(JSON.parse(Buffer.from(pong!).toString()).ok, true);
    const table = await client.readTable('db1');
    assert.equal(table.numRows, 3);
  } finally {
    await client.close();
  }
  assert.deepEqual(server.logs.filter((l) => l.startsWith('error')), []);
});
