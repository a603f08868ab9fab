import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import {
  decodeAction,
  decodeBasicAuth,
  decodeDescriptor,
  decodeFlightData,
  decodeFlightInfo,
  decodeHandshake,
  decodePollInfo,
  decodeRenewFlightEndpointRequest,
  DescriptorType,
  encodeAction,
  encodeBasicAuth,
  encodeDescriptor,
  encodeFlightInfo,
  encodeHandshake,
  encodePollInfo,
  encodeRenewFlightEndpointRequest,
  type FlightInfo,
} from '../../src/flight/proto/messages.js';
import { ProtoReader, ProtoWriter } from '../../src/flight/proto/wire.js';
import { encodeFlightData, flightDataHead, readFlightData } from '../../src/flight/codec.js';
import { schemaMessage, splitIpcStream } from '../../src/ipc/message.js';
import { tableFromArrays, tableToIPC } from 'apache-arrow';

const info: FlightInfo = {
  schema: new Uint8Array([1, 2, 3]),
  descriptor: { type: DescriptorType.PATH, cmd: new Uint8Array(0), path: ['db1', 'é'] },
  endpoints: [
    {
      ticket: Buffer.from('t1'),
      locations: [{ uri: 'grpc://h:1' }, { uri: 'grpc+tls://h:2' }],
      expirationTime: { seconds: 1_700_000_000, nanos: 5 },
      appMetadata: Buffer.from('m'),
    },
  ],
  totalRecords: -1,
  totalBytes: 2 ** 40,
  ordered: true,
  appMetadata: Buffer.from('x'),
};

test('FlightInfo round-trips, including -1 totals and large values', () => {
  const back = decodeFlightInfo(encodeFlightInfo(info));
  assert.deepEqual(
    { ...back, schema: [...back.schema], endpoints: back.endpoints.map((e) => ({ ...e, ticket: [...e.ticket], appMetadata: [...e.appMetadata] })) },
    { ...info, schema: [1, 2, 3], descriptor: { ...info.descriptor!, cmd: new Uint8Array(0) }, endpoints: info.endpoints.map((e) => ({ ...e, ticket: [...e.ticket], appMetadata: [...e.appMetadata] })), appMetadata: back.appMetadata },
  );
  assert.equal(Buffer.from(back.appMetadata).toString(), 'x');
});

test('PollInfo, descriptors, handshake, BasicAuth, Action and RenewFlightEndpointRequest round-trip', () => {
  const poll = decodePollInfo(encodePollInfo({ info, progress: 0.5 }));
  assert.equal(poll.progress, 0.5);
  assert.equal(poll.info?.totalBytes, 2 ** 40);
  const cmd = decodeDescriptor(encodeDescriptor({ type: DescriptorType.CMD, cmd: Buffer.from('{"a":1}'), path: [] }));
  assert.equal(cmd.type, DescriptorType.CMD);
  assert.equal(Buffer.from(cmd.cmd).toString(), '{"a":1}');
  const hs = decodeHandshake(encodeHandshake({ protocolVersion: 7, payload: Buffer.from('hi') }));
  assert.equal(hs.protocolVersion, 7);
  assert.equal(Buffer.from(hs.payload).toString(), 'hi');
  assert.deepEqual(decodeBasicAuth(encodeBasicAuth({ username: 'u', password: 'p:w' })), { username: 'u', password: 'p:w' });
  const a = decodeAction(encodeAction({ type: 'ping', body: Buffer.from('b') }));
  assert.equal(a.type, 'ping');
  const renew = decodeRenewFlightEndpointRequest(encodeRenewFlightEndpointRequest(info.endpoints[0]!));
  assert.equal(renew?.locations.length, 2);
});

test('unknown fields are skipped, mistyped known fields are refused', () => {
  const w = new ProtoWriter().uint(99, 5).string(1, 'ping').bytes(77, Buffer.from('zz'));
  assert.equal(decodeAction(w.finish()).type, 'ping');
  const mistyped = new ProtoWriter().uint(1, 5).finish(); // Action.type must be a string
  assert.throws(() => decodeAction(mistyped), (e: unknown) => e instanceof FlightgateError && e.status === Status.INVALID_ARGUMENT);
});

test('truncated and oversized lengths are INVALID_ARGUMENT, never a crash', () => {
  const good = encodeFlightInfo(info);
  for (let cut = 1; cut < good.length; cut++) {
    try {
      decodeFlightInfo(good.subarray(0, cut));
    } catch (e) {
      assert.ok(e instanceof FlightgateError, `cut at ${cut}: ${String(e)}`);
      assert.equal(e.status, Status.INVALID_ARGUMENT);
    }
  }
  assert.throws(() => new ProtoReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 'x').varint());
});

test('random bytes never escape as anything but a FlightgateError', () => {
  for (let i = 0; i < 3000; i++) {
    const bytes = randomBytes(1 + (i % 64));
    for (const decode of [decodeFlightInfo, decodeDescriptor, decodeHandshake, decodeAction, decodePollInfo, decodeFlightData]) {
      try {
        decode(bytes);
      } catch (e) {
        assert.ok(e instanceof FlightgateError, `${decode.name}: ${String(e)}`);
      }
    }
    try {
      readFlightData(bytes);
    } catch (e) {
      assert.ok(e instanceof FlightgateError, `readFlightData: ${String(e)}`);
    }
  }
});

test('FlightData head + body equals the whole encoding; body is field 1000 and not copied', () => {
  const ipc = splitIpcStream(tableToIPC(tableFromArrays({ a: Int32Array.from([1, 2, 3]) }), 'stream'));
  const batch = ipc[1]!;
  const head = flightDataHead({ header: batch.header, body: batch.body, appMetadata: Buffer.from('md') });
  const whole = encodeFlightData({ header: batch.header, body: batch.body, appMetadata: Buffer.from('md') });
  assert.deepEqual(Buffer.concat([head, batch.body]), Buffer.from(whole));
  const decoded = decodeFlightData(whole);
  assert.deepEqual(Buffer.from(decoded.dataBody), Buffer.from(batch.body));
  // 0xC2 0x3E is the tag of field 1000 with wire type 2.
  assert.deepEqual([...head.subarray(head.length - batch.body.length.toString().length - 3)].includes(0xc2), true);
  const fd = readFlightData(whole);
  assert.equal(fd.kind, 'recordBatch');
  assert.equal(fd.rows, 3);
  const schemaOnly = readFlightData(encodeFlightData({ header: schemaMessage(tableFromArrays({ a: [1] }).schema).header }));
  assert.equal(schemaOnly.kind, 'schema');
});

test('FlightData whose body disagrees with its header is INVALID_ARGUMENT', () => {
  const ipc = splitIpcStream(tableToIPC(tableFromArrays({ a: Int32Array.from([1, 2, 3]) }), 'stream'));
  const batch = ipc[1]!;
  const truncated = encodeFlightData({ header: batch.header, body: batch.body.subarray(0, batch.body.length - 8) });
  assert.throws(() => readFlightData(truncated), /announces/);
  const garbageHeader = encodeFlightData({ header: randomBytes(40), body: batch.body });
  assert.throws(() => readFlightData(garbageHeader), (e: unknown) => e instanceof FlightgateError && e.status === Status.INVALID_ARGUMENT);
});
