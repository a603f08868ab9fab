/**
 * A gRPC server written directly on node:http2. It owns the gRPC semantics Flight relies on:
 * length-prefixed messages, status and message in trailers, `-bin` metadata, `grpc-timeout`
 * deadlines, cancellation, message-size limits and refusing compression we do not support.
 *
 * Why not grpc-js: it copies every outgoing message to prepend the 5-byte prefix. Here a
 * message goes out as two writes, the prefix with the small head, then the body untouched.
 */
import http2, {
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FlightgateError, toFlightgateError } from '../../core/errors.js';
import { Status } from '../../core/status.js';
import { ByteBudget } from './byte-budget.js';
import { chunksOf, deframe, encodeGrpcMessage, parseGrpcTimeout, prefixed, PREFIX_LENGTH, unaryRequest, type ReadLimits } from './framing.js';
import { Metadata, type MetadataValue } from './metadata.js';
import type { Handler, RequestKind, ServerCall, TransportTls } from './call.js';
import { BufferPool } from '../../core/buffer-pool.js';
import type { ClientCertificateState } from '../../core/client-certificate.js';

export type { Handler, MessageSink, RequestKind, ServerCall, TransportTls } from './call.js';
import { clientCertificateOf } from './peer-certificate.js';

export interface TransportOptions {
  /** Largest FlightData message of a streaming call (DoPut, DoExchange). */
  maxReceiveMessageBytes: number;
  /** Largest Handshake message: it is read before any credential is checked. */
  maxHandshakeBytes: number;
  /** Largest request of a single-request call (descriptor, ticket, action, criteria). */
  maxRequestBytes: number;
  /** Bytes of Handshake and single-request messages still arriving, per connection. */
  maxPendingRequestBytesPerConnection: number;
  /** Bytes of all messages still arriving, for the whole server. */
  maxPendingBytes: number;
  /** HTTP/2 receive window for each stream and the connection; large values speed uploads. */
  receiveWindowBytes: number;
  maxConcurrentStreams: number;
  /** Largest request metadata, counted as HTTP/2 counts a header list (name + value + 32 per entry). */
  maxMetadataBytes: number;
  /** Connections with no call in progress this long are closed (GOAWAY); 0 never. Traffic without a call does not count. */
  idleTimeoutMs: number;
  /** A new connection must have sent the headers of its first call within this; 0 never. */
  headersTimeoutMs: number;
  /** A call not yet authenticated must have sent its first message within this; 0 never. */
  firstMessageTimeoutMs: number;
  /** Open connections, in all and per client address; more are refused at once. */
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Called for errors that are not the caller's fault, to be logged. */
  onInternalError?: (method: string, err: unknown) => void;
  tls?: TransportTls;
  /** Called once per call as it ends: the method's name (`unknown` for unregistered paths), its status and duration. */
  onCallEnd?: (rpc: string, status: number, seconds: number) => void;
}


export const DEFAULT_TRANSPORT_OPTIONS: TransportOptions = {
  maxReceiveMessageBytes: 1024 * 1024 * 1024,
  maxHandshakeBytes: 64 * 1024,
  maxRequestBytes: 4 * 1024 * 1024,
  maxPendingRequestBytesPerConnection: 16 * 1024 * 1024,
  maxPendingBytes: 2 * 1024 * 1024 * 1024,
  receiveWindowBytes: 32 * 1024 * 1024,
  maxConcurrentStreams: 100,
  maxMetadataBytes: 16 * 1024,
  idleTimeoutMs: 300_000,
  headersTimeoutMs: 10_000,
  firstMessageTimeoutMs: 10_000,
  maxConnections: 1000,
  maxConnectionsPerAddress: 100,
};

/** The longest timer Node can arm (about 24.8 days); a longer deadline is no deadline in practice. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long a connection told to go away (GOAWAY) may stay open without calls before its socket is destroyed. */
const GOAWAY_CLOSE_MS = 1000;

/** gRPC over HTTP/2 content types we serve (gRPC-Web and others are refused with HTTP 415). */
const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?(\s*;.*)?$/i;

/** The size of a header list as HTTP/2 defines it (RFC 9113 §6.5.2): name + value + 32 per field. */
function metadataSize(headers: IncomingHttpHeaders): number {
  let size = 0;
  for (const name in headers) {
    const v = headers[name];
    if (Array.isArray(v)) for (const x of v) size += name.length + x.length + 32;
    else if (v !== undefined) size += name.length + String(v).length + 32;
  }
  return size;
}

/** A refused request still arriving is reset this long after its status, or once this much more of it has come. */
const STOP_REQUEST_DELAY_MS = 50;
const STOP_REQUEST_DISCARD_BYTES = 64 * 1024;

/** Per connection: its budget for requests still arriving and how many calls it has open. */
interface ConnectionState {
  readonly requests: ByteBudget;
  openCalls: number;
  idleTimer?: NodeJS.Timeout;
  headersTimer?: NodeJS.Timeout;
  hadCall: boolean;
}

class CallState implements ServerCall {
  readonly metadata: Metadata;
  readonly controller = new AbortController();
  readonly deadline: number | undefined;
  private headers: OutgoingHttpHeaders = {};
  private trailers = new Metadata();
  headersSent = false;
  finished = false;
  private timer: NodeJS.Timeout | undefined;
  private firstMessageTimer: NodeJS.Timeout | undefined;
  private authenticated = false;
  private onAuthenticated: (() => void) | undefined;
  /** Settles once the call is authenticated, or has ended without it. */
  readonly authenticatedOrEnded = new Promise<void>((resolve) => (this.onAuthenticated = resolve));
  /** Run when the call ends, to let go of what reading it holds. */
  private readonly cleanups: (() => void)[] = [];

  onFinished(cleanup: () => void): void {
    if (this.finished) cleanup();
    else this.cleanups.push(cleanup);
  }

  /** The call is over (finished, or cancelled by the client): timers stop and reading lets go. */
  cleanUp(): void {
    this.firstMessageArrived();
    this.onAuthenticated?.();
    for (const c of this.cleanups.splice(0)) c();
  }

  constructor(
    readonly method: string,
    readonly stream: ServerHttp2Stream,
    incoming: IncomingHttpHeaders,
    readonly peer: string,
    readonly secure: boolean,
    readonly clientCertificate: ClientCertificateState,
    private readonly pool: BufferPool,
    private readonly onEnd?: (status: number) => void,
  ) {
    this.metadata = Metadata.fromHeaders(incoming);
    const timeout = parseGrpcTimeout(incoming['grpc-timeout'] as string | undefined);
    // A deadline beyond what a timer can hold (weeks away) is kept as a date but needs no timer.
    if (timeout !== undefined) {
      this.deadline = Date.now() + timeout;
      if (timeout < MAX_TIMER_MS) {
        this.timer = setTimeout(() => this.fail(new FlightgateError(Status.DEADLINE_EXCEEDED, 'deadline exceeded')), timeout);
        this.timer.unref();
      }
    }
  }

  /** Fails the call unless its first message arrives, or it is authenticated, within `ms`. */
  armFirstMessageDeadline(ms: number): void {
    if (ms <= 0 || ms >= MAX_TIMER_MS) return;
    this.firstMessageTimer = setTimeout(() => {
      if (this.authenticated) return;
      this.fail(new FlightgateError(Status.DEADLINE_EXCEEDED, `no request message within ${ms / 1000} s of the call starting, before authentication (transport.firstMessageTimeoutSeconds)`));
    }, ms);
    this.firstMessageTimer.unref();
  }

  firstMessageArrived(): void {
    if (this.firstMessageTimer) clearTimeout(this.firstMessageTimer);
    this.firstMessageTimer = undefined;
  }

  markAuthenticated(): void {
    this.authenticated = true;
    this.firstMessageArrived();
    this.onAuthenticated?.();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  setHeader(key: string, value: MetadataValue): void {
    if (this.headersSent) return;
    new Metadata().set(key, value).writeTo(this.headers);
  }

  setTrailer(key: string, value: MetadataValue): void {
    this.trailers.set(key, value);
  }

  release(message: Uint8Array): void {
    this.pool.release(message);
  }

  flushHeaders(): void {
    if (!this.headersSent && !this.finished && !this.stream.destroyed) this.sendHeaders();
  }

  private sendHeaders(extra: OutgoingHttpHeaders = {}, endStream = false): void {
    this.headersSent = true;
    this.stream.respond(
      { ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': 'identity', ...this.headers, ...extra },
      endStream ? { endStream: true } : { waitForTrailers: true },
    );
  }

  async send(head: Uint8Array, body?: Uint8Array, onFlushed?: () => void): Promise<void> {
    if (this.finished || this.stream.destroyed) throw new FlightgateError(Status.CANCELLED, 'call is no longer active');
    if (!this.headersSent) this.sendHeaders();
    const bodyLength = body?.length ?? 0;
    const first = prefixed(head, head.length + bodyLength);
    let ok = this.stream.write(first);
    // The write callback also runs when the stream is destroyed, so `onFlushed` always runs once.
    if (bodyLength > 0) ok = this.stream.write(body, onFlushed && (() => onFlushed()));
    else onFlushed?.();
    if (!ok) await this.drained();
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onAbort = (): void => {
        cleanup();
        reject(new FlightgateError(Status.CANCELLED, 'call was cancelled'));
      };
      const cleanup = (): void => {
        this.stream.off('drain', onDrain);
        this.signal.removeEventListener('abort', onAbort);
      };
      if (this.signal.aborted) return onAbort();
      this.stream.on('drain', onDrain);
      this.signal.addEventListener('abort', onAbort);
    });
  }

  /** Ends the call with a status. Safe to call more than once; the first one wins. */
  finish(status: number, message: string): void {
    if (this.finished) return;
    this.finished = true;
    this.onEnd?.(status);
    if (this.timer) clearTimeout(this.timer);
    this.cleanUp();
    if (this.stream.destroyed || this.stream.closed) return;
    const trailerHeaders: OutgoingHttpHeaders = this.trailers.writeTo({});
    trailerHeaders['grpc-status'] = String(status);
    if (message) trailerHeaders['grpc-message'] = encodeGrpcMessage(message);
    if (!this.headersSent) {
      // Trailers-only response: status rides on the single HEADERS frame.
      this.sendHeaders(trailerHeaders, true);
      this.stopRequest();
      return;
    }
    this.stream.once('wantTrailers', () => {
      try {
        this.stream.sendTrailers(trailerHeaders);
        this.stopRequest();
      } catch {
        // The peer went away between the last write and the trailers; nothing left to tell it.
      }
    });
    this.stream.end();
  }

  /**
   * After a complete response, a client still sending (e.g. a DoPut refused early) is told to
   * stop without error (RFC 9113 §8.1: RST_STREAM NO_ERROR), instead of the stream hanging open.
   * What still arrives meanwhile is discarded, and the reset comes soon: a client that keeps
   * pumping must not make the server read (and allocate) for long.
   */
  private stopRequest(): void {
    const stream = this.stream;
    if (stream.readableEnded || stream.destroyed) return;
    let discarded = 0;
    let resetting = false;
    const reset = (): void => {
      if (resetting) return;
      resetting = true;
      clearTimeout(timer);
      // On a later turn, so the status is written to the socket before the reset.
      setImmediate(() => {
        if (!stream.destroyed && !stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
      });
    };
    stream.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > STOP_REQUEST_DISCARD_BYTES) reset();
    });
    stream.resume();
    const timer = setTimeout(reset, STOP_REQUEST_DELAY_MS);
    timer.unref();
    stream.once('close', () => clearTimeout(timer));
  }

  /** Fails the call from outside the handler (deadline, shutdown). */
  fail(err: FlightgateError): void {
    if (this.finished) return;
    this.controller.abort(err);
    const trailersOnly = !this.headersSent;
    this.finish(err.status, err.message);
    // Once data has gone out, the trailers queue behind it and a client that stopped reading
    // would never see them: reset the stream so the call ends now either way.
    if (!trailersOnly && !this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

export class GrpcServer {
  private server: Http2Server | Http2SecureServer | undefined;
  private readonly handlers = new Map<string, { handler: Handler; kind: RequestKind }>();
  private readonly calls = new Set<CallState>();
  private readonly sessions = new Map<Http2Session, ConnectionState>();
  private readonly options: TransportOptions;
  /** Messages still arriving, on every connection together. */
  private readonly pending: ByteBudget;
  private connections = 0;
  private readonly connectionsByAddress = new Map<string, number>();
  /**
   * Buffers for reassembling large received messages; handlers hand them back with
   * `call.release` (DoPut does, once a batch is on disk), which spares the garbage collector.
   */
  private readonly messageBuffers = new BufferPool();

  constructor(options: Partial<TransportOptions> = {}) {
    this.options = { ...DEFAULT_TRANSPORT_OPTIONS, ...options };
    this.pending = new ByteBudget(this.options.maxPendingBytes, 'transport.maxPendingBytes', 'messages still arriving on this server');
  }

  /** Registers `handler` for `/service/method`; `kind` says what its client sends (see RequestKind). */
  register(service: string, method: string, handler: Handler, kind: RequestKind): void {
    this.handlers.set(`/${service}/${method}`, { handler, kind });
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  get openConnections(): number {
    return this.connections;
  }

  /** Bytes reserved for messages still arriving and for what unauthenticated calls sent, on all connections. */
  get pendingBytes(): number {
    return this.pending.inUse;
  }

  /** Admits a TCP connection, or destroys it at once when the server or its address holds the maximum. */
  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const byAddress = this.connectionsByAddress.get(address) ?? 0;
    if (this.connections >= this.options.maxConnections || byAddress >= this.options.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    this.connections++;
    this.connectionsByAddress.set(address, byAddress + 1);
    socket.once('close', () => {
      this.connections--;
      const n = (this.connectionsByAddress.get(address) ?? 1) - 1;
      if (n > 0) this.connectionsByAddress.set(address, n);
      else this.connectionsByAddress.delete(address);
    });
    socket.setNoDelay(true);
  }

  /** Sends GOAWAY and, if the peer keeps the connection open without calls, destroys it shortly after. */
  private closeConnection(session: Http2Session): void {
    try {
      session.close();
    } catch {
      // already closing
    }
    const timer = setTimeout(() => {
      const state = this.sessions.get(session);
      if (!session.destroyed && (!state || state.openCalls === 0)) session.destroy();
    }, GOAWAY_CLOSE_MS);
    timer.unref();
  }

  private armIdle(session: Http2Session, state: ConnectionState): void {
    if (this.options.idleTimeoutMs <= 0) return;
    state.idleTimer = setTimeout(() => {
      if (state.openCalls === 0) this.closeConnection(session);
    }, this.options.idleTimeoutMs);
    state.idleTimer.unref();
  }

  private callStarted(session: Http2Session | undefined): ConnectionState | undefined {
    const state = session && this.sessions.get(session);
    if (!state) return undefined;
    state.openCalls++;
    state.hadCall = true;
    if (state.idleTimer) clearTimeout(state.idleTimer);
    if (state.headersTimer) clearTimeout(state.headersTimer);
    state.idleTimer = state.headersTimer = undefined;
    return state;
  }

  private callEnded(session: Http2Session | undefined, state: ConnectionState | undefined): void {
    if (!state || !session) return;
    state.openCalls--;
    if (state.openCalls === 0 && !session.destroyed && !session.closed) this.armIdle(session, state);
  }

  private onSession(session: Http2Session): void {
    const state: ConnectionState = {
      requests: new ByteBudget(this.options.maxPendingRequestBytesPerConnection, 'transport.maxPendingRequestBytesPerConnection', 'requests still arriving on this connection', this.pending),
      openCalls: 0,
      hadCall: false,
    };
    this.sessions.set(session, state);
    session.on('close', () => {
      this.sessions.delete(session);
      if (state.idleTimer) clearTimeout(state.idleTimer);
      if (state.headersTimer) clearTimeout(state.headersTimer);
    });
    // A connection that never completes the headers of a call (slowly sent fragments, or nothing)
    // is closed: frames alone do not keep it.
    if (this.options.headersTimeoutMs > 0) {
      state.headersTimer = setTimeout(() => {
        if (!state.hadCall) this.closeConnection(session);
      }, this.options.headersTimeoutMs);
      state.headersTimer.unref();
    }
    this.armIdle(session, state);
    // After a protocol error the HTTP/2 layer sends GOAWAY; the socket must not stay open behind it.
    session.on('error', () => this.closeConnection(session));
    // The connection-level window is not a SETTINGS value: it has to be raised per session.
    try {
      session.setLocalWindowSize(Math.min(this.options.receiveWindowBytes * 2, 2 ** 31 - 1));
    } catch {
      // The session closed before it finished connecting.
    }
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    const settings: http2.Settings = {
      initialWindowSize: Math.min(this.options.receiveWindowBytes, 2 ** 31 - 1),
      maxConcurrentStreams: this.options.maxConcurrentStreams,
      maxFrameSize: 1 << 20,
      // Room above our own limit, so a client a little over it gets RESOURCE_EXHAUSTED with a
      // message from us rather than a reset stream from the HTTP/2 layer.
      maxHeaderListSize: this.options.maxMetadataBytes * 4 + 65536,
    };
    const common = { settings, maxSessionMemory: 1024, maxHeaderListPairs: 1024 };
    const tls = this.options.tls;
    const server = tls
      ? http2.createSecureServer({
          ...common,
          cert: tls.cert,
          key: tls.key,
          ...(tls.clientCa
            ? // A certificate is always asked for; a missing or invalid one is refused per call, in
              // required mode too: refusing the TLS handshake reaches clients as an unexplained
              // transport error (pyarrow: "Could not finish writing before closing").
              { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false, ...(tls.clientCrl ? { crl: tls.clientCrl } : {}) }
            : {}),
          minVersion: 'TLSv1.2',
          allowHTTP1: false,
          ALPNProtocols: ['h2'],
        })
      : http2.createServer(common);
    this.server = server;
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('session', (session: Http2Session) => this.onSession(session));
    server.on('stream', (stream, headers) => this.onStream(stream, headers));
    server.on('sessionError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const path = String(headers[':path'] ?? '');
    const socket = stream.session?.socket;
    const peer = socket ? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}` : 'unknown';
    const entry = this.handlers.get(path);
    const onCallEnd = this.options.onCallEnd;
    const started = onCallEnd ? performance.now() : 0;
    const rpc = entry ? path.slice(path.lastIndexOf('/') + 1) : 'unknown';
    const onEnd = onCallEnd && ((status: number): void => onCallEnd(rpc, status, (performance.now() - started) / 1000));
    const call = new CallState(path, stream, headers, peer, Boolean(this.options.tls), clientCertificateOf(stream.session), this.messageBuffers, onEnd);

    const refuse = (status: number, message: string): void => call.finish(status, message);
    if (headers[':method'] !== 'POST') return refuse(Status.UNIMPLEMENTED, 'gRPC requires POST');
    const contentType = String(headers['content-type'] ?? '');
    if (!GRPC_CONTENT_TYPE.test(contentType)) {
      // gRPC-Web, JSON and the rest are other protocols: refused before any gRPC handling.
      stream.respond({ ':status': 415, 'content-type': 'text/plain; charset=utf-8' });
      stream.end(`unsupported content type ${JSON.stringify(contentType.slice(0, 80))}: this is a gRPC endpoint (application/grpc or application/grpc+proto)\n`);
      return;
    }
    const size = metadataSize(headers);
    if (size > this.options.maxMetadataBytes) {
      return refuse(Status.RESOURCE_EXHAUSTED, `request metadata is ${size} bytes, over the limit of ${this.options.maxMetadataBytes} (transport.maxMetadataBytes)`);
    }
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      call.setHeader('grpc-accept-encoding', 'identity');
      return refuse(Status.UNIMPLEMENTED, `message encoding "${String(encoding)}" is not supported; use identity`);
    }
    if (!entry) return refuse(Status.UNIMPLEMENTED, `unknown method ${path.slice(0, 200)}`);
    if (this.options.tls?.requireClientCertificate && call.clientCertificate.kind !== 'verified') {
      const cert = call.clientCertificate;
      return refuse(
        Status.UNAUTHENTICATED,
        cert.kind === 'rejected'
          ? `the client certificate was not accepted: ${cert.reason} (this server requires a valid one: tls.clientCertificates is "required")`
          : 'this server requires a client certificate (mutual TLS; tls.clientCertificates is "required"): connect with one its client CA issued',
      );
    }

    this.calls.add(call);
    const session = stream.session;
    const connection = this.callStarted(session);
    stream.on('close', () => {
      this.calls.delete(call);
      this.callEnded(session, connection);
      if (!call.finished) {
        call.finished = true;
        onEnd?.(Status.CANCELLED);
        call.controller.abort(new FlightgateError(Status.CANCELLED, 'call cancelled by the client'));
        call.cleanUp();
      }
    });
    const requests = this.requestsOf(call, entry.kind, stream, connection);
    entry.handler(call, requests, call).then(
      () => call.finish(Status.OK, ''),
      (err: unknown) => {
        const e = toFlightgateError(err);
        if (e.status === Status.INTERNAL || e.status === Status.UNKNOWN) this.options.onInternalError?.(path, err);
        call.finish(e.status, e.message);
      },
    );
  }

  /**
   * The request messages of a call, read as its kind asks, each message held to its kind's size
   * limit and every unfinished one to the connection's and the server's budgets.
   */
  private requestsOf(call: CallState, kind: RequestKind, stream: ServerHttp2Stream, connection: ConnectionState | undefined): AsyncIterable<Uint8Array> {
    const o = this.options;
    const firstMessage = (): void => call.firstMessageArrived();
    if (kind === 'single') {
      return unaryRequest(stream, { maxMessageBytes: o.maxRequestBytes, limitSetting: 'transport.maxRequestBytes', budget: connection?.requests ?? this.pending });
    }
    call.armFirstMessageDeadline(o.firstMessageTimeoutMs);
    const limits: ReadLimits = kind === 'handshake'
      ? { maxMessageBytes: o.maxHandshakeBytes, limitSetting: 'transport.maxHandshakeBytes', budget: connection?.requests ?? this.pending, onFirstMessage: firstMessage }
      : { maxMessageBytes: o.maxReceiveMessageBytes, limitSetting: 'transport.maxMessageBytes', budget: this.pending, onFirstMessage: firstMessage };
    // Read at once, so nothing waits unread in the HTTP/2 layer while the caller is being
    // authenticated: until then what arrives counts against the connection's request budget.
    // (A handler that stops reading early must still get its status out: the default iterator
    // would destroy the stream, and the client would see a bare RST_STREAM.)
    const chunks = chunksOf(stream, undefined, {
      budget: connection?.requests ?? this.pending,
      authenticated: call.authenticatedOrEnded,
      onExceeded: (err) => call.fail(toFlightgateError(err)),
    });
    call.onFinished(() => chunks.dispose());
    return deframe(chunks, limits, kind === 'stream' ? (n) => this.messageBuffers.acquire(n) : undefined);
  }

  /**
   * Swaps in new TLS material (a renewed certificate, a new CRL) for new connections, and asks
   * the open ones to close once their calls end (GOAWAY), so clients reconnect and are verified
   * again: a certificate revoked by the new CRL does not live on in an old connection.
   */
  updateTls(tls: TransportTls): void {
    const server = this.server;
    if (!server || !('setSecureContext' in server)) throw new Error('this server does not use TLS');
    server.setSecureContext({ cert: tls.cert, key: tls.key, ...(tls.clientCa ? { ca: tls.clientCa } : {}), ...(tls.clientCrl ? { crl: tls.clientCrl } : {}) });
    for (const s of this.sessions.keys()) {
      try {
        s.close();
      } catch {
        // already closing
      }
    }
  }

  /**
   * Stops accepting calls, lets running calls finish for up to `graceMs`, then cancels the rest.
   */
  async close(graceMs = 10_000): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sessions.keys()) {
      try {
        s.close();
      } catch {
        // already closing
      }
    }
    const deadline = Date.now() + graceMs;
    while (this.calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const call of this.calls) call.fail(new FlightgateError(Status.UNAVAILABLE, 'server is shutting down'));
    for (const s of this.sessions.keys()) s.destroy();
    await closed;
    this.server = undefined;
  }
}

export { PREFIX_LENGTH };
