/**
 * The client's transparent retry: a stream the server refused unprocessed (HTTP/2
 * REFUSED_STREAM, what a server closing its connection answers) is sent once more, for every RPC
 * whose whole request the client holds. Between the client and a real server sits a proxy that
 * refuses the first stream of each method and forwards everything else, so the test sees both
 * the retry (two streams reached the proxy) and a correct answer from the real server.
 */
import assert from 'node:assert/strict';
import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const HOP_BY_HOP = new Set([':status', ':method', ':path', ':scheme', ':authority']);

function forwardable(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}

interface RefusingProxy {
  uri: string;
  /** Streams that reached the proxy, by gRPC method name. */
  streams: Map<string, number>;
  /** How many of the next streams of a method are refused. */
  refuse: Map<string, number>;
  close(): Promise<void>;
}

async function refusingProxy(upstreamUri: string): Promise<RefusingProxy> {
  const upstream: ClientHttp2Session = http2.connect(upstreamUri.replace(/^grpc(\+tcp)?:/, 'http:'), { maxSessionMemory: 1000 });
  const streams = new Map<string, number>();
  const refuse = new Map<string, number>();
  const server = http2.createServer({ maxSessionMemory: 1000 });
  server.on('stream', (down: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const method = String(headers[':path']).split('/').pop()!;
    streams.set(method, (streams.get(method) ?? 0) + 1);
    const toRefuse = refuse.get(method) ?? 0;
    if (toRefuse > 0) {
      refuse.set(method, toRefuse - 1);
      down.on('error', () => undefined);
      down.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const up = upstream.request({ ...forwardable(headers), ':method': 'POST', ':path': headers[':path'] });
    down.pipe(up);
    up.on('response', (h) => {
      down.respond(forwardable(h), { waitForTrailers: true });
      up.pipe(down);
    });
    let trailers: OutgoingHttpHeaders = {};
    up.on('trailers', (t) => (trailers = forwardable(t)));
    down.on('wantTrailers', () => down.sendTrailers(trailers));
    up.on('error', () => down.destroy());
    down.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `grpc+tcp://127.0.0.1:${port}`,
    streams,
    refuse,
    close: async () => {
      upstream.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let server: TestServer;
let proxy: RefusingProxy;
let client: FlightClient;

before(async () => {
  server = await startTestServer({ demo: true, demoNumbersRows: 10 }, { secure: true });
  proxy = await refusingProxy(server.uri);
  client = new FlightClient(proxy.uri);
  await client.login('admin', 'admin123');
});
after(async () => {
  await client?.close();
  await proxy?.close();
  await server?.stop();
});

/** Refuses the next stream of `method`, runs `call`, and checks it took exactly two streams. */
async function refusedOnce<T>(method: string, call: () => Promise<T>): Promise<T> {
  const before = proxy.streams.get(method) ?? 0;
  proxy.refuse.set(method, 1);
  const result = await call();
  assert.equal((proxy.streams.get(method) ?? 0) - before, 2, `${method}: one refused stream and one answered`);
  assert.equal(proxy.refuse.get(method), 0);
  return result;
}

test('every RPC whose request the client holds is sent again after REFUSED_STREAM, and answers correctly', async () => {
  const basic = `Basic ${Buffer.from('admin:admin123').toString('base64')}`;
  const handshake = await refusedOnce('Handshake', () => client.handshake([], { headers: { authorization: basic } }));
  assert.ok(handshake.headers.get('authorization')?.startsWith('Bearer '), 'the retried login returned a session token');

  const info = await refusedOnce('GetFlightInfo', () => client.getFlightInfo('numbers'));
  assert.equal(info.totalRecords, 10);

  const poll = await refusedOnce('PollFlightInfo', () => client.pollFlightInfo('numbers'));
  assert.equal(poll.info?.totalRecords, 10);

  const schema = await refusedOnce('GetSchema', () => client.getSchema('numbers'));
  assert.ok(schema.fields.length > 0);

  const names = await refusedOnce('ListFlights', async () => {
    const out: string[] = [];
    for await (const f of client.listFlights()) out.push(f.descriptor?.path.join('/') ?? '');
    return out;
  });
  assert.ok(names.includes('numbers'), `ListFlights answered ${names.join(', ')}`);

  const table = await refusedOnce('DoGet', () => client.doGet(info.endpoints[0]!.ticket).readAll());
  assert.equal(table.numRows, 10);

  const pong = await refusedOnce('DoAction', () => client.doAction('ping'));
  assert.equal(pong.length, 1);

  const actions = await refusedOnce('ListActions', () => client.listActions());
  assert.ok(actions.some((a) => a.type === 'ping'));
});

test('a second refusal is not retried again: the caller gets UNAVAILABLE naming REFUSED_STREAM', async () => {
  const before = proxy.streams.get('GetSchema') ?? 0;
  proxy.refuse.set('GetSchema', 2);
  await assert.rejects(client.getSchema('numbers'), /REFUSED_STREAM/);
  assert.equal((proxy.streams.get('GetSchema') ?? 0) - before, 2, 'exactly one retry');
  assert.ok((await client.getSchema('numbers')).fields.length > 0, 'the next call goes through');
});
