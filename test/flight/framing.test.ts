import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { deframe, encodeGrpcMessage, decodeGrpcMessage, parseGrpcTimeout, messageLength, prefixed } from '../../src/flight/transport/framing.js';

async function collect(chunks: Uint8Array[], max = 1 << 20): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  async function* gen(): AsyncGenerator<Uint8Array> {
    yield* chunks;
  }
  for await (const m of deframe(gen(), { maxMessageBytes: max })) out.push(m);
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

test('single-request reading: the message whatever the chunking, limits at the first prefix, cancellation', async () => {
  const { PassThrough } = await import('node:stream');
  const { unaryRequest } = await import('../../src/flight/transport/framing.js');
  const read = async (it: AsyncIterable<Uint8Array>): Promise<string[]> => {
    const out: string[] = [];
    for await (const m of it) out.push(Buffer.from(m).toString());
    return out;
  };
  const wire = frame(Buffer.from('hello'));
  for (let cut = 0; cut <= wire.length; cut++) {
    const s = new PassThrough();
    const it = unaryRequest(s, { maxMessageBytes: 1 << 20 });
    s.write(wire.subarray(0, cut));
    s.end(wire.subarray(cut));
    assert.deepEqual(await read(it), ['hello']);
  }

  // The prefix announcing too much fails at once, before the client has finished sending.
  const big = new PassThrough();
  const tooBig = read(unaryRequest(big, { maxMessageBytes: 50 }));
  big.write(prefixed(new Uint8Array(0), 100));
  await assert.rejects(tooBig, (e: unknown) => e instanceof FlightgateError && e.status === Status.RESOURCE_EXHAUSTED && /larger than max/.test(e.message));

  const flood = new PassThrough();
  const flooded = read(unaryRequest(flood, { maxMessageBytes: 50 }));
  for (let i = 0; i < 40; i++) flood.write(Buffer.from([0, 0]));
  await assert.rejects(flooded, (e: unknown) => e instanceof FlightgateError && e.status === Status.RESOURCE_EXHAUSTED);

  const compressed = new PassThrough();
  const zipped = read(unaryRequest(compressed, { maxMessageBytes: 1 << 20 }));
  compressed.end(Buffer.from([1, 0, 0, 0, 1, 7]));
  await assert.rejects(zipped, (e: unknown) => e instanceof FlightgateError && e.status === Status.UNIMPLEMENTED);

  const gone = new PassThrough();
  const cancelled = read(unaryRequest(gone, { maxMessageBytes: 1 << 20 }));
  gone.write(wire.subarray(0, 3));
  gone.destroy();
  await assert.rejects(cancelled, (e: unknown) => e instanceof FlightgateError && e.status === Status.CANCELLED);
});

test('received metadata: lookups before and after full parsing agree, -bin values decoded', async () => {
  const { Metadata } = await import('../../src/flight/transport/metadata.js');
  const headers = {
    ':path': '/x', 'content-type': 'application/grpc', authorization: 'Bearer abc',
    'auth-token-bin': Buffer.from('fgs_token').toString('base64'), 'x-multi': ['one', 'two'],
  };
  const lazy = Metadata.fromHeaders(headers);
  assert.equal(lazy.get('Authorization'), 'Bearer abc');
  assert.equal(Buffer.from(lazy.getBinary('auth-token-bin')!).toString(), 'fgs_token');
  assert.equal(lazy.get('auth-token-bin'), 'fgs_token');
  assert.equal(lazy.get('content-type'), undefined, 'reserved headers are not metadata');
  assert.equal(lazy.get(':path'), undefined);
  assert.equal(lazy.get('x-multi'), 'one');
  assert.equal(lazy.get('missing'), undefined);
  const parsed = Metadata.fromHeaders(headers);
  assert.deepEqual(parsed.getAll('x-multi'), ['one', 'two']);
  assert.equal(parsed.get('authorization'), 'Bearer abc');
  assert.equal(Buffer.from(parsed.getBinary('auth-token-bin')!).toString(), 'fgs_token');
  assert.equal(parsed.has('content-type'), false);
});

test('a message over the limit names the setting behind it when the caller gives one', () => {
  const prefix = Buffer.from([0, 0, 0, 1, 0]); // 256 bytes announced
  assert.throws(() => messageLength(prefix, 0, 100, 'transport.maxMessageBytes'), (e: unknown) => e instanceof FlightgateError && e.status === Status.RESOURCE_EXHAUSTED && e.message === 'received message larger than max (256 vs. 100 bytes) (transport.maxMessageBytes)');
  assert.throws(() => messageLength(prefix, 0, 100), (e: unknown) => e instanceof FlightgateError && e.message === 'received message larger than max (256 vs. 100 bytes)');
});

test('budgets: a message is reserved at its prefix, however the prefix is split, and released when complete or abandoned', async () => {
  const { PassThrough } = await import('node:stream');
  const { unaryRequest, deframe } = await import('../../src/flight/transport/framing.js');
  const { ByteBudget } = await import('../../src/flight/transport/byte-budget.js');
  const wire = frame(Buffer.alloc(100, 1));
  for (const reader of ['unary', 'stream'] as const) {
    const budget = new ByteBudget(150, 'test.limit', 'test messages');
    const s = new PassThrough();
    const it = reader === 'unary' ? unaryRequest(s, { maxMessageBytes: 1 << 20, budget }) : deframe(s, { maxMessageBytes: 1 << 20, budget });
    const done = (async () => {
      const out: Uint8Array[] = [];
      for await (const m of it) out.push(m);
      return out;
    })();
    for (let i = 0; i < 5; i++) s.write(wire.subarray(i, i + 1)); // the prefix one byte at a time
    await new Promise((r) => setImmediate(r));
    assert.equal(budget.inUse, 100, `${reader}: reserved once the prefix is complete`);
    assert.throws(() => budget.reserve(51), (e: unknown) => e instanceof FlightgateError && e.status === Status.RESOURCE_EXHAUSTED && /test\.limit/.test(e.message));
    s.end(wire.subarray(5));
    assert.equal((await done).length, 1);
    assert.equal(budget.inUse, 0, `${reader}: released`);
  }
  const budget = new ByteBudget(150, 'test.limit', 'test messages');
  const s = new PassThrough();
  const it = unaryRequest(s, { maxMessageBytes: 1 << 20, budget });
  const done = (async () => {
    for await (const m of it) void m;
  })();
  s.write(wire.subarray(0, 20));
  await new Promise((r) => setImmediate(r));
  assert.equal(budget.inUse, 100);
  s.destroy();
  await assert.rejects(done);
  assert.equal(budget.inUse, 0, 'an abandoned message gives its reservation back');
});
