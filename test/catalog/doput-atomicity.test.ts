/**
 * Uploads are atomic and durable: a killed client, a bad batch or a schema mismatch leaves the
 * previous version intact, and committed data survives a restart.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeVector, tableFromArrays, tableToIPC, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { encodeFlightData } from '../../src/flight/codec.js';
import { descriptors, FlightClient } from '../../src/flight/client/flight-client.js';
import { DescriptorType } from '../../src/flight/proto/messages.js';
import { GrpcChannel } from '../../src/flight/transport/client.js';
import { splitIpcStream } from '../../src/ipc/message.js';
import { startPython } from '../helpers/python.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const dataDir = tempDir();
let server: TestServer;
after(async () => server?.stop());

const rows = (ids: number[]): Table =>
  new Table({
    id: makeVector(BigInt64Array.from(ids.map(BigInt))),
    name: vectorFromArray(ids.map((i) => `n${i}`), new Utf8()),
  });

const ids = async (client: FlightClient, name: string): Promise<number[]> =>
  [...(await client.readTable(name)).getChild('id')!.toArray()].map(Number);

const isStatus = (status: number) => (e: unknown) => e instanceof FlightgateError && e.status === status;

const noLeftovers = (): string[] => readdirSync(join(dataDir, 'datasets')).filter((f) => f.endsWith('.upload'));

test('create, append, replace and refusals through DoPut modes', async () => {
  server = await startTestServer({ dataDir });
  const client = new FlightClient(server.uri);
  try {
    const [result] = await client.doPut('ds', rows([1, 2, 3]));
    assert.equal(JSON.parse(Buffer.from(result!).toString()).rows, 3);
    await assert.rejects(client.doPut('ds', rows([9])), isStatus(Status.ALREADY_EXISTS));
    await client.doPut(descriptors.command(JSON.stringify({ dataset: 'ds', mode: 'append' })), rows([4]));
    assert.deepEqual(await ids(client, 'ds'), [1, 2, 3, 4]);
    const other = tableFromArrays({ x: Float64Array.from([1.5]) });
    await assert.rejects(
      client.doPut(descriptors.command(JSON.stringify({ dataset: 'ds', mode: 'append' })), other),
      (e: unknown) => isStatus(Status.INVALID_ARGUMENT)(e) && /schema/.test((e as Error).message),
    );
    assert.deepEqual(await ids(client, 'ds'), [1, 2, 3, 4]);
    await client.doPut(descriptors.command(JSON.stringify({ dataset: 'tmp', mode: 'replace' })), rows([7]));
    await client.doPut(descriptors.command(JSON.stringify({ dataset: 'tmp', mode: 'replace' })), rows([8, 9]));
    assert.deepEqual(await ids(client, 'tmp'), [8, 9]);
    await assert.rejects(client.doPut(descriptors.command('{"dataset":"../etc"}'), rows([1])), isStatus(Status.INVALID_ARGUMENT));
    await assert.rejects(client.doPut(descriptors.command('{"dataset":"x","mode":"upsert"}'), rows([1])), isStatus(Status.INVALID_ARGUMENT));
  } finally {
    await client.close();
  }
});

test('a bad batch mid-stream leaves the previous version intact', async () => {
  const channel = new GrpcChannel(server.uri);
  const client = new FlightClient(server.uri);
  try {
    const ipc = splitIpcStream(tableToIPC(rows([100, 101]), 'stream'));
    const descriptor = { type: DescriptorType.CMD, cmd: Buffer.from('{"dataset":"ds","mode":"replace"}'), path: [] };
    const call = channel.call('arrow.flight.protocol.FlightService', 'DoPut');
    await call.send(encodeFlightData({ descriptor, header: ipc[0]!.header }));
    await call.send(encodeFlightData({ header: ipc[1]!.header, body: ipc[1]!.body }));
    await call.send(encodeFlightData({ header: ipc[1]!.header, body: ipc[1]!.body.subarray(8) }));
    call.end();
    await assert.rejects(call.done(), isStatus(Status.INVALID_ARGUMENT));
    assert.deepEqual(await ids(client, 'ds'), [1, 2, 3, 4]);
    assert.deepEqual(noLeftovers(), []);
  } finally {
    await channel.close();
    await client.close();
  }
});

test('a client killed mid-upload leaves the previous version intact', async () => {
  const { child } = await startPython(['test/interop/py/slow_upload.py', server.uri, 'ds'], /^sent 20$/);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const client = new FlightClient(server.uri);
  try {
    // The server notices the dead connection and discards the partial upload.
    for (let i = 0; i < 100 && noLeftovers().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(noLeftovers(), []);
    assert.deepEqual(await ids(client, 'ds'), [1, 2, 3, 4]);
  } finally {
    await client.close();
  }
});

test('uploaded datasets survive a restart', async () => {
  await server.stop({ keepData: true });
  server = await startTestServer({ dataDir });
  const client = new FlightClient(server.uri);
  try {
    assert.deepEqual(await ids(client, 'ds'), [1, 2, 3, 4]);
    assert.deepEqual(await ids(client, 'tmp'), [8, 9]);
    const names = [];
    for await (const info of client.listFlights()) names.push(info.descriptor?.path[0]);
    assert.deepEqual(names, ['ds', 'tmp']);
    const [dropped] = await client.doAction('drop', 'tmp');
    assert.equal(JSON.parse(Buffer.from(dropped!).toString()).dropped, 'tmp');
    await assert.rejects(client.getFlightInfo('tmp'), isStatus(Status.NOT_FOUND));
  } finally {
    await client.close();
  }
});
