import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { deframe, encodeGrpcMessage, decodeGrpcMessage, parseGrpcTimeout, prefixed } from '../../src/flight/transport/framing.js';

async function collect(chunks: Uint8Array[], max = 1 << 20): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  async function* gen(): AsyncGenerator<Uint8Array> {
    yield* chunks;
  }
  for await (const m of deframe(gen(), max)) out.push(m);
  return out;
}

const frame = (payload: Uint8Array): Buffer => Buffer.concat([prefixed(new Uint8Array(0), payload.length), payload]);

test('messages split at every possible byte boundary reassemble exactly', async () => {
  const msgs = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from('x'.repeat(300))];
  const wire = Buffer.concat(msgs.map(frame));
  for (let cut = 0; cut <= wire.length; cut++) {
    const got = await collect([wire.subarray(0, cut), wire.subarray(cut)]);
    assert.deepEqual(got.map((m) => Buffer.from(m).toString()), msgs.map((m) => m.toString()));
  }
  const byteByByte = await collect([...wire].map((b) => Uint8Array.of(b)));
  assert.equal(byteByByte.length, 3);
});

test('a message inside one chunk is a view, not a copy', async () => {
  const wire = frame(Buffer.from('abcdef'));
  const [m] = await collect([wire]);
  assert.equal(m!.buffer, wire.buffer);
});

test('truncated streams, compressed flags and oversized messages are refused with clear statuses', async () => {
  const wire = frame(Buffer.from('hello'));
  await assert.rejects(collect([wire.subarray(0, 7)]), (e: unknown) => e instanceof FlightgateError && e.status === Status.INVALID_ARGUMENT);
  const compressed = Buffer.from(wire);
  compressed[0] = 1;
  await assert.rejects(collect([compressed]), (e: unknown) => e instanceof FlightgateError && e.status === Status.UNIMPLEMENTED);
  await assert.rejects(collect([frame(Buffer.alloc(100))], 50), (e: unknown) => e instanceof FlightgateError && e.status === Status.RESOURCE_EXHAUSTED && /larger than max/.test(e.message));
});

test('grpc-message percent-encoding round-trips and grpc-timeout parses', () => {
  const msg = 'dataset "x" not found: 100% ünïcode\nline';
  const enc = encodeGrpcMessage(msg);
  assert.match(enc, /^[\x20-\x7e]*$/);
  assert.equal(decodeGrpcMessage(enc), msg);
  assert.equal(parseGrpcTimeout('100m'), 100);
  assert.equal(parseGrpcTimeout('2S'), 2000);
  assert.equal(parseGrpcTimeout('1H'), 3_600_000);
  assert.equal(parseGrpcTimeout('bogus'), undefined);
  assert.equal(parseGrpcTimeout('123456789m'), undefined);
});
