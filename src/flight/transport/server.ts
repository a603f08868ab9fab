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
import { chunksOf, deframe, encodeGrpcMessage, parseGrpcTimeout, prefixed, PREFIX_LENGTH, unaryRequest } from './framing.js';
import { Metadata, type MetadataValue } from './metadata.js';
import { BufferPool } from '../../core/buffer-pool.js';
import type { ClientCertificateState } from '../../core/client-certificate.js';
import { clientCertificateOf } from './peer-certificate.js';

export interface ServerCall {
  readonly method: string;
  readonly metadata: Metadata;
  /** `ip:port` of the client. */
  readonly peer: string;
  /** Aborted when the client cancels, the deadline passes or the server shuts down. */
  readonly signal: AbortSignal;
  /** Absolute deadline in ms since the epoch, if the client sent one. */
  readonly deadline: number | undefined;
  /** Whether the connection is TLS. */
  readonly secure: boolean;
  /** The connection's client certificate (mutual TLS), read once per connection. */
  readonly clientCertificate: ClientCertificateState;
  /** Adds a response header; effective until the first message is sent. */
  setHeader(key: string, value: MetadataValue): void;
  setTrailer(key: string, value: MetadataValue): void;
  /** Sends the response headers now, so they arrive as initial metadata even if no message follows. */
  flushHeaders(): void;
  /** Hands a received message back for reuse once the handler is done with it (an optimisation). */
  release(message: Uint8Array): void;
}

export interface MessageSink {
  /**
   * Sends one message made of `head` and an optional `body`, written without copying `body`.
   * `onFlushed` runs once the transport no longer needs `body` (it may then be reused).
   */
  send(head: Uint8Array, body?: Uint8Array, onFlushed?: () => void): Promise<void>;
}

/** One RPC. Unary and server-streaming methods read a single request from `requests`. */
export type Handler = (call: ServerCall, requests: AsyncIterable<Uint8Array>, out: MessageSink) => Promise<void>;

export interface TransportOptions {
  maxReceiveMessageBytes: number;
  /** HTTP/2 receive window for each stream and the connection; large values speed uploads. */
  receiveWindowBytes: number;
  maxConcurrentStreams: number;
  /** Largest request metadata, counted as HTTP/2 counts a header list (name + value + 32 per entry). */
  maxMetadataBytes: number;
  /** Connections with no call in progress and no traffic this long are closed (GOAWAY); 0 never. */
  idleTimeoutMs: number;
  /** Called for errors that are not the caller's fault, to be logged. */
  onInternalError?: (method: string, err: unknown) => void;
  tls?: TransportTls;
  /** Called once per call as it ends: the method's name (`unknown` for unregistered paths), its status and duration. */
  onCallEnd?: (rpc: string, status: number, seconds: number) => void;
}

export interface TransportTls {
  cert: Buffer | string;
  key: Buffer | string;
  /** CA bundle client certificates are verified against; without it none is asked for. */
  clientCa?: Buffer | string;
  /** With `clientCa`: refuse the TLS handshake of a client without a valid certificate. */
  requireClientCertificate?: boolean;
  /** PEM CRLs of the client CA: certificates they list are refused. */
  clientCrl?: Buffer | string;
}

export const DEFAULT_TRANSPORT_OPTIONS: TransportOptions = {
  maxReceiveMessageBytes: 1024 * 1024 * 1024,
  receiveWindowBytes: 32 * 1024 * 1024,
  maxConcurrentStreams: 1000,
  maxMetadataBytes: 16 * 1024,
  idleTimeoutMs: 300_000,
};

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

const STOP_REQUEST_DELAY_MS = 1000;

/** The setting behind `maxReceiveMessageBytes`, named in the error of a message over it. */
const MESSAGE_LIMIT_SETTING = 'transport.maxMessageBytes';

class CallState implements ServerCall {
  readonly metadata: Metadata;
  readonly controller = new AbortController();
  readonly deadline: number | undefined;
  private headers: OutgoingHttpHeaders = {};
  private trailers = new Metadata();
  headersSent = false;
  finished = false;
  private timer: NodeJS.Timeout | undefined;

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
    if (timeout !== undefined) {
      this.deadline = Date.now() + timeout;
      this.timer = setTimeout(() => this.fail(new FlightgateError(Status.DEADLINE_EXCEEDED, 'deadline exceeded')), timeout);
      this.timer.unref();
    }
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
   */
  private stopRequest(): void {
    const stream = this.stream;
    if (stream.readableEnded || stream.destroyed) return;
    // Discard what still arrives, and give the status a moment to reach the client before the
    // reset: a RST_STREAM can overtake the HEADERS frame that carries it.
    stream.on('data', () => undefined);
    stream.resume();
    const timer = setTimeout(() => {
      if (!stream.destroyed && !stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    }, STOP_REQUEST_DELAY_MS);
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
  private readonly handlers = new Map<string, { handler: Handler; unaryRequest: boolean }>();
  private readonly calls = new Set<CallState>();
  private readonly sessions = new Set<Http2Session>();
  private readonly options: TransportOptions;
  /**
   * Buffers for reassembling large received messages; handlers hand them back with
   * `call.release` (DoPut does, once a batch is on disk), which spares the garbage collector.
   */
  private readonly messageBuffers = new BufferPool();

  constructor(options: Partial<TransportOptions> = {}) {
    this.options = { ...DEFAULT_TRANSPORT_OPTIONS, ...options };
  }

  /**
   * Registers `handler` for `/service/method`. `unaryRequest`: the client sends exactly one
   * message (unary and server-streaming RPCs), which takes a cheaper reading path.
   */
  register(service: string, method: string, handler: Handler, options: { unaryRequest?: boolean } = {}): void {
    this.handlers.set(`/${service}/${method}`, { handler, unaryRequest: options.unaryRequest ?? false });
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  private hasCallsOn(session: Http2Session): boolean {
    for (const c of this.calls) if (c.stream.session === session) return true;
    return false;
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
            ? // Optional mode still asks for a certificate; an invalid one is refused per call (see peer-certificate.ts).
              { ca: tls.clientCa, requestCert: true, rejectUnauthorized: tls.requireClientCertificate ?? false, ...(tls.clientCrl ? { crl: tls.clientCrl } : {}) }
            : {}),
          minVersion: 'TLSv1.2',
          allowHTTP1: false,
          ALPNProtocols: ['h2'],
        })
      : http2.createServer(common);
    this.server = server;
    server.on('connection', (socket: Socket) => socket.setNoDelay(true));
    server.on('secureConnection', (socket: Socket) => socket.setNoDelay(true));
    server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      if (this.options.idleTimeoutMs > 0) {
        // No frames for the timeout: close unless a call is still open (a stream may be quiet while its handler works).
        const onIdle = (): void => {
          if (!this.hasCallsOn(session)) session.close();
          else session.setTimeout(this.options.idleTimeoutMs, onIdle); // the timer fires once: arm it again
        };
        session.setTimeout(this.options.idleTimeoutMs, onIdle);
      }
      session.on('error', () => undefined);
      // The connection-level window is not a SETTINGS value: it has to be raised per session.
      try {
        session.setLocalWindowSize(Math.min(this.options.receiveWindowBytes * 2, 2 ** 31 - 1));
      } catch {
        // The session closed before it finished connecting.
      }
    });
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
    if (!contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
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

    this.calls.add(call);
    stream.on('close', () => {
      this.calls.delete(call);
      if (!call.finished) {
        call.finished = true;
        onEnd?.(Status.CANCELLED);
        call.controller.abort(new FlightgateError(Status.CANCELLED, 'call cancelled by the client'));
      }
    });
    // A handler that stops reading early (e.g. on a bad request) must still get its status out:
    // the default iterator would destroy the stream, and the client would see a bare RST_STREAM.
    const requests = entry.unaryRequest
      ? unaryRequest(stream, this.options.maxReceiveMessageBytes, MESSAGE_LIMIT_SETTING)
      : deframe(chunksOf(stream), this.options.maxReceiveMessageBytes, (n) => this.messageBuffers.acquire(n), MESSAGE_LIMIT_SETTING);
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
   * Swaps in new TLS material (a renewed certificate, a new CRL) for new connections, and asks
   * the open ones to close once their calls end (GOAWAY), so clients reconnect and are verified
   * again: a certificate revoked by the new CRL does not live on in an old connection.
   */
  updateTls(tls: TransportTls): void {
    const server = this.server;
    if (!server || !('setSecureContext' in server)) throw new Error('this server does not use TLS');
    server.setSecureContext({ cert: tls.cert, key: tls.key, ...(tls.clientCa ? { ca: tls.clientCa } : {}), ...(tls.clientCrl ? { crl: tls.clientCrl } : {}) });
    for (const s of this.sessions) {
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
    for (const s of this.sessions) {
      try {
        s.close();
      } catch {
        // already closing
      }
    }
    const deadline = Date.now() + graceMs;
    while (this.calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const call of this.calls) call.fail(new FlightgateError(Status.UNAVAILABLE, 'server is shutting down'));
    for (const s of this.sessions) s.destroy();
    await closed;
    this.server = undefined;
  }
}

export { PREFIX_LENGTH };
