/**
 * What a client can do to the server before (or without) logging in, against a real server
 * process with raw HTTP/2 and raw TCP (no client library would send these bytes):
 *  - announce huge messages on many streams: refused at the prefix, memory stays flat, and
 *    legitimate calls on other connections keep working;
 *  - send headers slowly, or a Handshake that never sends its message: closed in configured time;
 *  - hold the per-address maximum of connections: a client from another address still connects;
 *  - break the protocol: after the GOAWAY the socket is closed too;
 *  - send grpc-timeout values past what a timer holds, or a content type that is not gRPC.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startCliServer, type CliServer } from '../helpers/cli-server.js';
import { tempDir } from '../helpers/server.js';

const SERVICE = '/arrow.flight.protocol.FlightService';
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

/** Samples a process's RSS until stopped; returns the peak seen. */
function watchRss(pid: number): { stop(): number } {
  let peak = rssMiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMiB(pid));
    },
  };
}

function h2(uri: string, options: http2.ClientSessionOptions & { localAddress?: string } = {}): Promise<ClientHttp2Session> {
  // A large session memory: node's 10 MB default would make this client reset its own streams
  // (ENHANCE_YOUR_CALM) while it queues megabytes for the server.
  const session = http2.connect(uri.replace(/^grpc/, 'http'), { maxSessionMemory: 1000, ...options });
  session.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

interface Outcome {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  status: string | undefined;
  message: string;
  closedAt: number;
}

function outcome(stream: ClientHttp2Stream): Promise<Outcome> {
  return new Promise((resolve) => {
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (h) => (trailers = h));
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.on('close', () => {
      const status = (trailers['grpc-status'] ?? headers['grpc-status']) as string | undefined;
      resolve({ headers, trailers, status, message: decodeURIComponent(String(trailers['grpc-message'] ?? headers['grpc-message'] ?? '')), closedAt: Date.now() });
    });
  });
}

function grpcRequest(session: ClientHttp2Session, method: string, headers: Record<string, string> = {}): ClientHttp2Stream {
  const s = session.request({ ':method': 'POST', ':path': `${SERVICE}/${method}`, 'content-type': 'application/grpc', te: 'trailers', ...headers });
  s.on('error', () => undefined);
  return s;
}

const prefix = (length: number): Buffer => {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(length, 1);
  return b;
};

/** Writes `total` bytes to a stream as fast as flow control lets it, stopping when the stream ends. */
async function pump(stream: ClientHttp2Stream, total: number): Promise<void> {
  const chunk = Buffer.alloc(1 << 20, 0x41);
  for (let sent = 0; sent < total && !stream.destroyed && !stream.closed; sent += chunk.length) {
    if (!stream.write(chunk)) {
      await new Promise<void>((r) => {
        stream.once('drain', r);
        stream.once('close', r);
      });
    }
  }
}

/** Whether a raw socket gets closed by the server within `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed || socket.readyState === 'closed') return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const SETTINGS = frame(4, 0, 0, Buffer.alloc(0));

/** An HPACK "literal header field without indexing, new name" (short names and values only). */
function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
}

function rawConnection(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const portOf = (uri: string): number => Number(new URL(uri.replace(/^grpc/, 'http')).port);

/** A gauge's value from the server's /metrics. */
async function gauge(server: CliServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.httpUri}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `no ${name} in /metrics`);
  return Number(m[1]);
}

describe('before login: memory', () => {
  let server: CliServer;
  const dir = tempDir();
  before(async () => {
    server = await startCliServer(['--demo', '--data-dir', dir], { FLIGHTGATE_AUDIT_FILE: '/dev/null', FLIGHTGATE_DEMO_NUMBERS_ROWS: '10' });
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('Handshakes announcing 1 GiB on 4 streams, 128 MiB each sent: refused at once, RSS grows < 32 MiB, others keep working', async () => {
    const pid = server.child.pid!;
    const legit = new FlightClient(server.uri);
    await legit.login('admin', 'admin123');
    const session = await h2(server.uri);
    const base = rssMiB(pid);
    const rss = watchRss(pid);
    const results = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const s = grpcRequest(session, 'Handshake');
        const done = outcome(s);
        s.write(prefix(1024 * 1024 * 1024));
        await pump(s, 128 * 1024 * 1024);
        return done;
      }),
    );
    // Meanwhile, and after: a logged-in client on its own connection is served.
    assert.equal((await legit.readTable('db1')).numRows, 3);
    const peak = rss.stop();
    for (const r of results) {
      assert.equal(r.status, '8', `RESOURCE_EXHAUSTED expected: ${JSON.stringify(r)}`);
      assert.match(r.message, /transport\.maxHandshakeBytes/);
    }
    assert.ok(peak - base < 32, `server RSS grew ${(peak - base).toFixed(1)} MiB (from ${base.toFixed(1)})`);
    session.destroy();
    await legit.close();
  });

  test('many single-request calls holding unfinished messages: the connection budget refuses them, memory stays flat', async () => {
    const pid = server.child.pid!;
    const login = new FlightClient(server.uri);
    const token = await login.login('admin', 'admin123');
    await login.close();
    const session = await h2(server.uri);
    const base = rssMiB(pid);
    const rss = watchRss(pid);
    // 90 streams (under the 100-stream limit), each announcing a 4 MiB descriptor and sending 3 MiB of it.
    const streams = Array.from({ length: 90 }, () => grpcRequest(session, 'GetFlightInfo', { authorization: `Bearer ${token}` }));
    const outcomes = streams.map(outcome);
    await Promise.all(streams.map(async (s) => {
      s.write(prefix(4 * 1024 * 1024 - 16));
      await pump(s, 3 * 1024 * 1024);
    }));
    await new Promise((r) => setTimeout(r, 500));
    const peak = rss.stop();
    for (const s of streams) s.close();
    const done = await Promise.all(outcomes);
    const refused = done.filter((o) => o.status === '8');
    assert.ok(refused.length >= 80, `${refused.length} of 90 refused: ${JSON.stringify(done.slice(0, 3).map((o) => [o.status, o.message]))}`);
    assert.match(refused[0]!.message, /transport\.maxPendingRequestBytesPerConnection/);
    console.log('unfinished requests: RSS grew', (peak - base).toFixed(1), 'MiB');
    assert.ok(peak - base < 32, `server RSS grew ${(peak - base).toFixed(1)} MiB`);
    session.destroy();
  });

  test('DoPuts that pump data while their Basic login is still being verified: read at once, counted and refused; memory does not accumulate', async () => {
    const pid = server.child.pid!;
    const session = await h2(server.uri);
    const uploads = (pumpBytes: number) => {
      const streams = Array.from({ length: 10 }, (_, i) => grpcRequest(session, 'DoPut', { authorization: basic(`nobody${i}`, 'wrong-password') }));
      const outcomes = streams.map(outcome);
      return Promise.all(streams.map((s) => (pumpBytes ? pump(s, pumpBytes) : (s.end(), undefined)))).then(() => Promise.all(outcomes));
    };
    // The same logins without data first: argon2id takes 19 MiB per verification, which is not what is measured here.
    await uploads(0);
    const base = rssMiB(pid);
    // Rounds of ten uploads, each with a (slow, argon2) Basic login in its headers and 32 MiB sent
    // at once: the stream window would let all of it wait unread; instead it is read, counted
    // against the connection's budget and refused. What is held stays under the budget while it
    // happens and goes back to nothing after; what was read and dropped is garbage, so the RSS
    // peak is bounded and does not climb round after round.
    let heldPeak = 0;
    const sampler = setInterval(() => {
      void gauge(server, 'flightgate_pending_bytes').then((v) => (heldPeak = Math.max(heldPeak, v)), () => undefined);
    }, 10);
    const peaks: number[] = [];
    for (let round = 0; round < 4; round++) {
      const rss = watchRss(pid);
      const done = await uploads(32 * 1024 * 1024);
      peaks.push(rss.stop() - base);
      assert.ok(done.every((o) => o.status === '8' || o.status === '16'), JSON.stringify(done.map((o) => [o.status, o.message])));
      assert.ok(done.some((o) => o.status === '8' && /transport\.maxPendingRequestBytesPerConnection/.test(o.message)), 'the connection budget refused some');
    }
    clearInterval(sampler);
    console.log('DoPut before login: RSS peaks over the baseline per round (MiB):', peaks.map((p) => p.toFixed(1)).join(', '), '; most held at once', (heldPeak / 1048576).toFixed(1), 'MiB');
    assert.ok(heldPeak <= 16 * 1024 * 1024 + (1 << 20), `held ${heldPeak} bytes, over the 16 MiB connection budget`);
    assert.ok(heldPeak > 0, 'the gauge saw the uploads');
    assert.equal(await gauge(server, 'flightgate_pending_bytes'), 0, 'everything reserved was given back');
    assert.ok(Math.max(...peaks) < 192, `server RSS grew ${Math.max(...peaks).toFixed(1)} MiB for 4 × 320 MiB sent`);
    session.destroy();
  });

  test('a descriptor over transport.maxRequestBytes is refused at its prefix', async () => {
    const session = await h2(server.uri);
    const s = grpcRequest(session, 'GetFlightInfo', { authorization: basic('admin', 'admin123') });
    const done = outcome(s);
    s.end(prefix(64 * 1024 * 1024));
    const r = await done;
    assert.equal(r.status, '8');
    assert.match(r.message, /transport\.maxRequestBytes/);
    session.destroy();
  });
});

describe('slow, silent and broken connections', () => {
  let server: CliServer;
  const dir = tempDir();
  before(async () => {
    server = await startCliServer(['--demo', '--data-dir', dir], {
      FLIGHTGATE_AUDIT_FILE: '/dev/null',
      FLIGHTGATE_DEMO_NUMBERS_ROWS: '10',
      FLIGHTGATE_TRANSPORT_HEADERS_TIMEOUT_SECONDS: '2',
      FLIGHTGATE_TRANSPORT_FIRST_MESSAGE_TIMEOUT_SECONDS: '2',
      FLIGHTGATE_TRANSPORT_MAX_CONNECTIONS_PER_ADDRESS: '20',
    });
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('headers sent a fragment a second are cut off at the headers timeout', async () => {
    const socket = await rawConnection(portOf(server.uri));
    socket.on('data', () => undefined);
    socket.write(Buffer.concat([PREFACE, SETTINGS]));
    // HEADERS without END_HEADERS, then one CONTINUATION frame per 500 ms, each a valid header.
    socket.write(frame(1, 0, 1, literal(':method', 'POST')));
    const started = Date.now();
    let n = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(frame(9, 0, 1, literal(`x-pad-${n++}`, 'v')));
    }, 500);
    const closed = await closedWithin(socket, 6000);
    clearInterval(trickle);
    assert.equal(closed, true, 'the connection was left open');
    const took = Date.now() - started;
    assert.ok(took >= 1500 && took < 4500, `closed after ${took} ms (headersTimeoutSeconds = 2)`);
    socket.destroy();
  });

  test('a connection that sends nothing after the preface is closed at the headers timeout', async () => {
    const socket = await rawConnection(portOf(server.uri));
    socket.on('data', () => undefined);
    socket.write(Buffer.concat([PREFACE, SETTINGS]));
    const started = Date.now();
    assert.equal(await closedWithin(socket, 6000), true);
    assert.ok(Date.now() - started < 4500);
  });

  test('a Handshake that never sends its message is ended at the first-message deadline', async () => {
    const session = await h2(server.uri);
    const started = Date.now();
    const s = grpcRequest(session, 'Handshake');
    const r = await outcome(s);
    assert.equal(r.status, '4', `DEADLINE_EXCEEDED expected: ${JSON.stringify(r)}`);
    assert.match(r.message, /transport\.firstMessageTimeoutSeconds/);
    const took = r.closedAt - started;
    assert.ok(took >= 1500 && took < 4500, `ended after ${took} ms`);
    session.destroy();
  });

  test('after a protocol error the server sends GOAWAY and closes the TCP connection', async () => {
    const socket = await rawConnection(portOf(server.uri));
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    socket.write(Buffer.concat([PREFACE, SETTINGS]));
    // A DATA frame on stream 0 is a connection error (PROTOCOL_ERROR).
    socket.write(frame(0, 0, 0, Buffer.from('garbage')));
    assert.equal(await closedWithin(socket, 3000), true, 'the socket stayed open after GOAWAY');
    const bytes = Buffer.concat(received);
    let goaway = false;
    for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3)) if (bytes[at + 3] === 7) goaway = true;
    assert.ok(goaway, 'a GOAWAY frame came first');
  });

  test('while one address holds its maximum of connections, a client from another address connects and logs in', async () => {
    const port = portOf(server.uri);
    const held: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const s = await rawConnection(port);
      s.on('data', () => undefined);
      s.write(Buffer.concat([PREFACE, SETTINGS]));
      held.push(s);
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(held.filter((s) => !s.destroyed).length, 20, 'the first 20 are admitted');
    const extra = await rawConnection(port);
    assert.equal(await closedWithin(extra, 2000), true, 'the 21st from the same address is refused');
    const other = await h2(server.uri, { localAddress: '127.0.0.2' });
    const login = grpcRequest(other, 'Handshake', { authorization: basic('admin', 'admin123') });
    const done = outcome(login);
    login.end();
    const r = await done;
    assert.equal(r.status, '0', JSON.stringify(r));
    assert.match(String(r.headers.authorization ?? r.trailers.authorization), /^Bearer fgs_/);
    other.destroy();
    for (const s of held) s.destroy();
  });
});

describe('headers past what the server serves', () => {
  let server: CliServer;
  const dir = tempDir();
  before(async () => {
    server = await startCliServer(['--demo', '--data-dir', dir], { FLIGHTGATE_AUDIT_FILE: '/dev/null', FLIGHTGATE_DEMO_NUMBERS_ROWS: '10' });
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a grpc-timeout beyond 2^31 ms is a long deadline, not an immediate failure or a warning', async () => {
    const session = await h2(server.uri);
    for (const timeout of ['3000000S', '99999999H', '2147483648m']) {
      const s = grpcRequest(session, 'Handshake', { authorization: basic('admin', 'admin123'), 'grpc-timeout': timeout });
      const done = outcome(s);
      s.end();
      const r = await done;
      assert.equal(r.status, '0', `${timeout}: ${JSON.stringify(r)}`);
    }
    session.destroy();
    assert.doesNotMatch(server.output.join(''), /TimeoutOverflowWarning/);
  });

  test('content types other than application/grpc and application/grpc+proto get HTTP 415', async () => {
    const session = await h2(server.uri);
    for (const type of ['application/grpc-web', 'application/grpc-web+proto', 'application/grpc+json', 'text/plain']) {
      const s = session.request({ ':method': 'POST', ':path': `${SERVICE}/ListActions`, 'content-type': type, te: 'trailers' });
      const r = await outcome(s);
      assert.equal(r.headers[':status'], 415, type);
      assert.equal(r.status, undefined, `${type}: no gRPC status`);
    }
    for (const type of ['application/grpc', 'application/grpc+proto', 'application/grpc; charset=utf-8']) {
      const s = session.request({ ':method': 'POST', ':path': `${SERVICE}/Handshake`, 'content-type': type, te: 'trailers', authorization: basic('admin', 'admin123') });
      const done = outcome(s);
      s.end();
      const r = await done;
      assert.equal(r.status, '0', type);
    }
    session.destroy();
  });
});
