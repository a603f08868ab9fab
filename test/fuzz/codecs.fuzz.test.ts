/**
 * Property-based tests of everything that reads bytes or text from the network without a login
 * first: the protobuf messages of Flight.proto, FlightData with its Arrow IPC header, gRPC
 * framing, and credential and header parsing. Whatever the input: a value, or our typed error
 * with a Flight status (or an OAuth error) — never a crash of another kind, never a hang.
 * FUZZ_RUNS sets the number of cases per property (default 300; `npm run fuzz` runs many more).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { FlightgateError } from '../../src/core/errors.js';
import { parseBasicCredentials } from '../../src/auth/basic-credentials.js';
import { readFlightData, encodeFlightData } from '../../src/flight/codec.js';
import * as proto from '../../src/flight/proto/messages.js';
import { decodeGrpcMessage, deframe, encodeGrpcMessage, parseGrpcTimeout, prefixed } from '../../src/flight/transport/framing.js';
import { splitIpcStream } from '../../src/ipc/message.js';
import { parseCompactJws } from '../../src/tokens/jws.js';
import { TokenError } from '../../src/tokens/token-error.js';
import { parseFormParams } from '../../src/tokens/form-params.js';
import { presentedClient } from '../../src/tokens/client-authentication.js';
import { OAuthError } from '../../src/tokens/oauth-error.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const params = { numRuns: RUNS };

/** Runs `f`; any throw must be one of `allowed`. */
function total<T>(f: () => T, ...allowed: (abstract new (...args: never[]) => Error)[]): T | undefined {
  try {
    return f();
  } catch (err) {
    if (allowed.some((k) => err instanceof k)) return undefined;
    throw err;
  }
}

const DECODERS: Record<string, (b: Uint8Array) => unknown> = {
  FlightDescriptor: proto.decodeDescriptor,
  Timestamp: proto.decodeTimestamp,
  Ticket: proto.decodeTicket,
  FlightEndpoint: proto.decodeEndpoint,
  FlightInfo: proto.decodeFlightInfo,
  PollInfo: proto.decodePollInfo,
  HandshakeRequest: proto.decodeHandshake,
  BasicAuth: proto.decodeBasicAuth,
  Action: proto.decodeAction,
  ActionType: proto.decodeActionType,
  CancelFlightInfoRequest: proto.decodeCancelFlightInfoRequest,
  CancelFlightInfoResult: proto.decodeCancelFlightInfoResult,
  RenewFlightEndpointRequest: proto.decodeRenewFlightEndpointRequest,
  FlightData: proto.decodeFlightData,
  'FlightData with its IPC header': readFlightData,
};

test('every Flight.proto decoder: arbitrary bytes give a message or INVALID_ARGUMENT', () => {
  for (const [name, decode] of Object.entries(DECODERS)) {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          decode(bytes);
        } catch (err) {
          assert.ok(err instanceof FlightgateError, `${name}: ${String(err)}`);
          assert.equal(err.statusName, 'INVALID_ARGUMENT', `${name}: ${err.message}`);
        }
      }),
      params,
    );
  }
});

const descriptorArb = fc.oneof(
  fc.record({ type: fc.constant(proto.DescriptorType.PATH), cmd: fc.constant(new Uint8Array(0)), path: fc.array(fc.string({ maxLength: 40 }), { maxLength: 5 }) }),
  fc.record({ type: fc.constant(proto.DescriptorType.CMD), cmd: fc.uint8Array({ maxLength: 200 }), path: fc.constant([] as string[]) }),
);

test('descriptors, tickets, actions and FlightInfo survive encode → decode unchanged', () => {
  fc.assert(
    fc.property(descriptorArb, (d) => {
      const back = proto.decodeDescriptor(proto.encodeDescriptor(d));
      assert.equal(back.type, d.type);
      assert.deepEqual(back.path, d.path);
      assert.deepEqual(Buffer.from(back.cmd), Buffer.from(d.cmd));
    }),
    params,
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), fc.uint8Array({ maxLength: 300 }), (type, body) => {
      const back = proto.decodeAction(proto.encodeAction({ type, body }));
      assert.equal(back.type, type);
      assert.deepEqual(Buffer.from(back.body), Buffer.from(body));
    }),
    params,
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (t) => assert.deepEqual(Buffer.from(proto.decodeTicket(proto.encodeTicket(t))), Buffer.from(t))),
    params,
  );
});

/** A real FlightData (schema, then a record batch) to mutate. */
function realFlightData(): Uint8Array[] {
  const ipc = tableToIPC(tableFromArrays({ id: Int32Array.from([1, 2, 3]), name: ['a', 'b', 'c'] }), 'stream');
  return splitIpcStream(ipc).map((m, i) => encodeFlightData({ ...(i === 0 ? { descriptor: { type: 1, cmd: new Uint8Array(0), path: ['t'] } } : {}), header: m.header, body: m.body }));
}

test('FlightData with flipped, inserted, removed or cut bytes: a message or INVALID_ARGUMENT, never another error', () => {
  const originals = realFlightData();
  for (const original of originals) assert.ok(readFlightData(original).kind);
  const mutation = fc.record({
    which: fc.nat(originals.length - 1),
    edits: fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('flip', 'insert', 'remove', 'cut'), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
  });
  fc.assert(
    fc.property(mutation, ({ which, edits }) => {
      let bytes = Buffer.from(originals[which]!);
      for (const e of edits) {
        const at = bytes.length ? e.at % bytes.length : 0;
        if (e.op === 'flip') bytes[at] = e.value;
        else if (e.op === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([e.value]), bytes.subarray(at)]);
        else if (e.op === 'remove') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
        else bytes = bytes.subarray(0, at);
      }
      total(() => readFlightData(bytes), FlightgateError);
    }),
    params,
  );
});

test('regression: a record batch header claiming a huge vector is refused at once instead of exhausting memory', () => {
  // Found by the property above: two bytes changed in the header of a real batch made Arrow JS's
  // flatbuffer decoder loop over a vector length of about 2^31 until the process ran out of memory.
  const bytes = Buffer.from(realFlightData()[1]!);
  bytes[947749483 % bytes.length] = 113;
  bytes[356377221 % bytes.length] = 144;
  const started = performance.now();
  assert.throws(() => readFlightData(bytes), (e: unknown) => e instanceof FlightgateError && e.statusName === 'INVALID_ARGUMENT');
  assert.ok(performance.now() - started < 200, `took ${performance.now() - started} ms`);
});

async function collect(chunks: Uint8Array[], max: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  async function* source(): AsyncGenerator<Uint8Array> {
    yield* chunks;
  }
  for await (const m of deframe(source(), { maxMessageBytes: max })) out.push(Buffer.from(m));
  return out;
}

/** Splits `bytes` at the given cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (bytes.length ? c % (bytes.length + 1) : 0)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

test('gRPC framing: messages split anywhere come back whole; any byte stream ends in messages or a status', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), async (messages, cuts) => {
      const wire = Buffer.concat(messages.map((m) => prefixed(m, m.length))); // prefix + message
      const back = await collect(split(wire, cuts), 1 << 20);
      assert.deepEqual(back, messages.map((m) => Buffer.from(m)));
    }),
    params,
  );
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
      try {
        await collect(split(bytes, cuts), 256);
      } catch (err) {
        assert.ok(err instanceof FlightgateError, String(err));
        assert.ok(['INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED', 'UNIMPLEMENTED'].includes(err.statusName), err.message);
      }
    }),
    params,
  );
});

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 });
const anyText = fc.string({ unit: 'binary', maxLength: 300 });

test('credentials and headers: Basic, JWT, form bodies, OAuth client credentials, grpc-timeout, grpc-message', () => {
  const base64ish = fc.oneof(printable, anyText, fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('base64')));
  fc.assert(
    fc.property(base64ish, (s) => {
      try {
        assert.equal(typeof parseBasicCredentials(s).user, 'string');
      } catch (err) {
        assert.ok(err instanceof FlightgateError && err.statusName === 'UNAUTHENTICATED', String(err));
      }
    }),
    params,
  );
  const jwtish = fc.oneof(
    anyText,
    fc.array(fc.oneof(printable, fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b).toString('base64url')), fc.json().map((j) => Buffer.from(j).toString('base64url'))), { maxLength: 4 }).map((parts) => parts.join('.')),
  );
  fc.assert(
    fc.property(jwtish, (s) => {
      const parsed = total(() => parseCompactJws(s, 8192), TokenError);
      if (parsed) assert.equal(typeof parsed.header.alg, 'string');
    }),
    params,
  );
  fc.assert(
    fc.property(anyText, printable, (body, authorization) => {
      const form = total(() => parseFormParams(body), OAuthError);
      if (form) total(() => presentedClient(authorization, form), OAuthError);
    }),
    params,
  );
  fc.assert(
    fc.property(anyText, (s) => {
      const t = parseGrpcTimeout(s);
      assert.ok(t === undefined || (Number.isFinite(t) && t >= 0), String(t));
      assert.equal(typeof decodeGrpcMessage(s), 'string');
      assert.equal(decodeGrpcMessage(encodeGrpcMessage(s.replace(/[\uD800-\uDFFF]/g, ''))), s.replace(/[\uD800-\uDFFF]/g, ''));
    }),
    params,
  );
});
