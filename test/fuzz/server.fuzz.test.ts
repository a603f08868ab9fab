/**
 * The running server under random input: random bytes as the messages of every Flight RPC, with
 * and without a valid session, random authorization headers, and random requests to every HTTP
 * endpoint. Every call ends in a gRPC status that is not INTERNAL or UNKNOWN, every HTTP answer
 * is a 4xx with a JSON error, nothing is logged as a server error, and the server keeps serving.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SERVICE = '/arrow.flight.protocol.FlightService/';
const METHODS = ['Handshake', 'ListFlights', 'GetFlightInfo', 'PollFlightInfo', 'GetSchema', 'DoGet', 'DoPut', 'DoExchange', 'DoAction', 'ListActions'];

let server: TestServer;
let session: http2.ClientHttp2Session;
let token: string;

before(async () => {
  server = await startTestServer({ demo: true, demoNumbersRows: 1000, auth: { throttle: { lockoutFailures: 1_000_000, peerLockoutFailures: 1_000_000, freeFailures: 1_000_000 } } }, { secure: true });
  const c = new FlightClient(server.uri);
  token = await c.login('admin', 'admin123');
  await c.close();
  session = http2.connect(server.uri.replace('grpc://', 'http://'));
  session.on('error', () => undefined);
});
after(async () => {
  session?.destroy();
  await server?.stop();
});

/** One raw gRPC call; resolves with its grpc-status (or -1 if the stream was reset without one). */
function rawCall(path: string, headers: Record<string, string>, messages: Uint8Array[], prefixFlag = 0): Promise<number> {
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '5S', ...headers });
    let status = -1;
    const take = (h: http2.IncomingHttpHeaders): void => {
      if (h['grpc-status'] !== undefined) status = Number(h['grpc-status']);
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('error', () => undefined);
    stream.on('close', () => resolve(status));
    stream.resume();
    for (const m of messages) {
      const prefix = Buffer.alloc(5);
      prefix[0] = prefixFlag;
      prefix.writeUInt32BE(m.length, 1);
      stream.write(Buffer.concat([prefix, m]));
    }
    stream.end();
  });
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 });

test('random messages to every RPC, with and without a session: a gRPC status, never INTERNAL or UNKNOWN', async () => {
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...METHODS),
      fc.boolean(),
      fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 3 }),
      fc.constantFrom(0, 0, 0, 1, 7),
      async (method, withSession, messages, flag) => {
        const status = await rawCall(SERVICE + method, withSession ? { authorization: `Bearer ${token}` } : {}, messages, flag);
        seen.set(status, (seen.get(status) ?? 0) + 1);
        assert.ok(status >= 0 && status <= 16, `${method}: no grpc-status (${status})`);
        assert.ok(status !== 2 && status !== 13, `${method}: status ${status} for ${messages.map((m) => Buffer.from(m).toString('hex')).join(',')}`);
      },
    ),
    { numRuns: RUNS },
  );
  // The inputs reached past authentication: some calls were refused as malformed, not only as unauthenticated.
  assert.ok((seen.get(3) ?? 0) > 0, `statuses seen: ${JSON.stringify([...seen])}`);
});

test('random authorization headers and metadata: UNAUTHENTICATED (or RESOURCE_EXHAUSTED for huge ones), never a success', async () => {
  const scheme = fc.constantFrom('Basic', 'Bearer', 'bearer', 'Digest', '', 'Basic  ', 'Bearer fgs_', 'Bearer fgk_', 'Bearer eyJ');
  await fc.assert(
    fc.asyncProperty(scheme, printable, fc.constantFrom(...METHODS.filter((m) => m !== 'Handshake')), async (s, rest, method) => {
      const status = await rawCall(SERVICE + method, { authorization: `${s}${rest}`.trim() || 'x' }, [new Uint8Array(0)]);
      assert.ok([16, 3, 8].includes(status), `${method} with "${s}${rest}": status ${status}`);
    }),
    { numRuns: RUNS },
  );
});

const ENDPOINTS = ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke', '/whoami', '/.well-known/jwks.json', '/readyz'];

test('random HTTP requests to every endpoint: a 4xx with a JSON error body, never a 5xx', async () => {
  const form = fc.dictionary(fc.constantFrom('grant_type', 'client_id', 'client_secret', 'token', 'scope', 'refresh_token', 'subject_token', 'subject_token_type', 'token_type_hint', 'x'), printable, { maxKeys: 5 });
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ENDPOINTS),
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
      fc.oneof(form.map((f) => new URLSearchParams(f).toString()), printable, fc.string({ unit: 'binary', maxLength: 300 })),
      fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x'),
      fc.option(fc.oneof(printable, fc.constant('Basic Zm9vOmJhcg=='), printable.map((p) => `Bearer ${p}`)), { nil: undefined }),
      async (path, method, body, contentType, authorization) => {
        const res = await fetch(`${server.httpUri}${path}`, {
          method,
          headers: { 'content-type': contentType, ...(authorization ? { authorization } : {}) },
          ...(method === 'GET' ? {} : { body }),
        });
        const text = await res.text();
        assert.ok(res.status < 500, `${method} ${path} → ${res.status} ${text}`);
        if (res.status >= 400) assert.doesNotThrow(() => JSON.parse(text), `${method} ${path} → ${res.status} not JSON: ${text}`);
      },
    ),
    { numRuns: RUNS },
  );
});

test('after all that, the server logged no internal error and still serves', async () => {
  assert.deepEqual(server.logs.filter((l) => l.startsWith('error:')), []);
  const c = new FlightClient(server.uri);
  try {
    await c.login('user1', 'pass1');
    assert.equal((await c.readTable('db1')).numRows, 3);
  } finally {
    await c.close();
  }
});
