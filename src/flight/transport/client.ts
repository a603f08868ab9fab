/**
 * A gRPC client channel on node:http2: one HTTP/2 session per channel, one stream per call.
 * It speaks the same framing as our server and is what FlightClient runs on.
 */
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { FlightgateError } from '../../core/errors.js';
import { Status } from '../../core/status.js';
import { decodeGrpcMessage, deframe, formatGrpcTimeout, prefixed } from './framing.js';
import { Metadata } from './metadata.js';

/**
 * The server refused the stream before doing anything with it (HTTP/2 REFUSED_STREAM, e.g. it
 * had just sent GOAWAY): the call may be sent again on a new connection (gRPC's transparent retry).
 */
export class RefusedStreamError extends FlightgateError {
  constructor() {
    super(Status.UNAVAILABLE, 'the server refused the stream before processing it (HTTP/2 REFUSED_STREAM)');
  }
}

export interface ChannelTlsOptions {
  /** PEM root certificates to trust instead of the system store. */
  ca?: string | Buffer;
  /** PEM client certificate and key, for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name to verify the server certificate against, when it differs from the host. */
  servername?: string;
  /** Skip server certificate verification (testing only). */
  insecureSkipVerify?: boolean;
}

export interface ChannelOptions {
  tls?: ChannelTlsOptions;
  maxReceiveMessageBytes?: number;
  /** HTTP/2 receive window; grpc-js's 64 KiB default halves download throughput. */
  receiveWindowBytes?: number;
}

export interface CallOptions {
  metadata?: Metadata;
  /** Milliseconds before the call fails with DEADLINE_EXCEEDED. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Parses `grpc://`, `grpc+tcp://` and `grpc+tls://` URIs. */
export function parseFlightUri(uri: string): { secure: boolean; authority: string; host: string; port: number } {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new FlightgateError(Status.INVALID_ARGUMENT, `not a Flight URI: ${uri}`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!['grpc', 'grpc+tcp', 'grpc+tls'].includes(scheme)) {
    throw new FlightgateError(Status.INVALID_ARGUMENT, `unsupported Flight URI scheme "${scheme}" (use grpc://, grpc+tcp:// or grpc+tls://)`);
  }
  const secure = scheme === 'grpc+tls';
  const port = url.port ? Number(url.port) : secure ? 443 : 80;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { secure, host, port, authority: `${secure ? 'https' : 'http'}://${url.host}` };
}

export class ClientCall {
  private readonly stream: ClientHttp2Stream;
  private statusCode: number | undefined;
  private statusMessage = '';
  private responseMetadata = new Metadata();
  private gotResponse = false;
  private trailerMetadata = new Metadata();
  readonly headers: Promise<Metadata>;
  private readonly finished: Promise<void>;
  private localError: FlightgateError | undefined;

  constructor(
    session: ClientHttp2Session,
    path: string,
    options: CallOptions,
    private readonly maxReceiveMessageBytes: number,
  ) {
    const headers = options.metadata?.writeTo({}) ?? {};
    Object.assign(headers, {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      'user-agent': 'flightgate-client/0.1',
    });
    if (options.timeoutMs !== undefined) headers['grpc-timeout'] = formatGrpcTimeout(options.timeoutMs);
    this.stream = session.request(headers);
    this.stream.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => this.cancel(new FlightgateError(Status.DEADLINE_EXCEEDED, 'deadline exceeded')), options.timeoutMs);
      timer.unref();
    }
    if (options.signal) {
      const onAbort = (): void => this.cancel(new FlightgateError(Status.CANCELLED, 'call cancelled'));
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
    this.headers = new Promise<Metadata>((resolve) => {
      this.stream.once('response', (h: IncomingHttpHeaders) => {
        this.gotResponse = true;
        this.responseMetadata = Metadata.fromHeaders(h);
        this.readStatus(h);
        resolve(this.responseMetadata);
      });
      this.stream.once('close', () => resolve(this.responseMetadata));
    });
    this.stream.on('trailers', (h: IncomingHttpHeaders) => {
      this.trailerMetadata = Metadata.fromHeaders(h);
      this.readStatus(h);
    });
    this.finished = new Promise<void>((resolve, reject) => {
      this.stream.once('close', () => {
        if (timer) clearTimeout(timer);
        if (this.localError) return reject(this.localError);
        if (this.statusCode === undefined) {
          const code = this.stream.rstCode;
          if (code === http2.constants.NGHTTP2_REFUSED_STREAM && !this.gotResponse) {
            return reject(new RefusedStreamError());
          }
          return reject(
            new FlightgateError(Status.UNAVAILABLE, `stream closed without a gRPC status (HTTP/2 code ${code ?? 'none'})`),
          );
        }
        if (this.statusCode !== Status.OK) {
          return reject(new FlightgateError(this.statusCode as Status_, this.statusMessage || `status ${this.statusCode}`));
        }
        resolve();
      });
    });
    this.finished.catch(() => undefined);
  }

  private readStatus(h: IncomingHttpHeaders): void {
    const status = h['grpc-status'];
    if (status === undefined) {
      if (h[':status'] !== undefined && Number(h[':status']) !== 200) {
        this.statusCode = Status.UNAVAILABLE;
        this.statusMessage = `server answered HTTP ${String(h[':status'])}, not gRPC`;
      }
      return;
    }
    const code = Number(status);
    this.statusCode = Number.isInteger(code) && code >= 0 && code <= 16 ? code : Status.UNKNOWN;
    this.statusMessage = decodeGrpcMessage(h['grpc-message'] as string | undefined);
  }

  /** Response trailers, complete once the call has ended. */
  get trailers(): Metadata {
    return this.trailerMetadata;
  }

  async send(head: Uint8Array, body?: Uint8Array): Promise<void> {
    if (this.stream.destroyed || this.stream.closed) {
      await this.finished;
      throw new FlightgateError(Status.CANCELLED, 'call already ended');
    }
    const bodyLength = body?.length ?? 0;
    let ok = this.stream.write(prefixed(head, head.length + bodyLength));
    if (bodyLength > 0) ok = this.stream.write(body);
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('close', done);
      });
    }
  }

  /** Half-closes the request side. */
  end(): void {
    if (!this.stream.destroyed) this.stream.end();
  }

  cancel(reason?: FlightgateError): void {
    if (this.stream.destroyed || this.stream.closed) return;
    this.localError = reason ?? new FlightgateError(Status.CANCELLED, 'call cancelled');
    this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  /** Response messages; throws the call's status if it ends in an error. */
  async *messages(): AsyncGenerator<Uint8Array> {
    try {
      yield* deframe(this.stream, { maxMessageBytes: this.maxReceiveMessageBytes, limitSetting: 'the client option maxReceiveMessageBytes' });
    } catch (err) {
      await this.finished;
      throw err;
    }
    await this.finished;
  }

  /** Waits for the end of the call; resolves on OK, rejects with the status otherwise. */
  done(): Promise<void> {
    return this.finished;
  }
}

type Status_ = (typeof Status)[keyof typeof Status];

export class GrpcChannel {
  private session: ClientHttp2Session | undefined;
  private readonly target: ReturnType<typeof parseFlightUri>;

  constructor(
    readonly uri: string,
    private readonly options: ChannelOptions = {},
  ) {
    this.target = parseFlightUri(uri);
  }

  private connect(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const window = this.options.receiveWindowBytes ?? 32 * 1024 * 1024;
    const tls = this.options.tls;
    const session = http2.connect(this.target.authority, {
      settings: { initialWindowSize: Math.min(window, 2 ** 31 - 1), maxFrameSize: 1 << 20 },
      maxSessionMemory: 1024,
      ...(this.target.secure
        ? {
            ca: tls?.ca,
            cert: tls?.cert,
            key: tls?.key,
            servername: tls?.servername ?? (/^[\d.:]+$/.test(this.target.host) ? undefined : this.target.host),
            rejectUnauthorized: !tls?.insecureSkipVerify,
            ALPNProtocols: ['h2'],
          }
        : {}),
    });
    session.on('error', () => undefined);
    session.once('connect', () => {
      try {
        session.setLocalWindowSize(Math.min(window * 2, 2 ** 31 - 1));
      } catch {
        // closed while connecting
      }
      const socket = session.socket as unknown as { setNoDelay?: (v: boolean) => void };
      try {
        socket.setNoDelay?.(true);
      } catch {
        // some socket wrappers refuse it; latency only
      }
    });
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    // The server will take no new streams on this connection: the next call opens another.
    session.once('goaway', () => {
      if (this.session === session) this.session = undefined;
    });
    session.unref();
    this.session = session;
    return session;
  }

  call(service: string, method: string, options: CallOptions = {}): ClientCall {
    const session = this.connect();
    this.active++;
    session.ref();
    const call = new ClientCall(session, `/${service}/${method}`, options, this.options.maxReceiveMessageBytes ?? 1024 * 1024 * 1024);
    call.done().then(
      () => this.release(session),
      () => this.release(session),
    );
    return call;
  }

  private active = 0;
  private release(session: ClientHttp2Session): void {
    // Only an idle channel may let the process exit.
    this.active--;
    if (this.active === 0 && !session.destroyed) session.unref();
  }

  close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (!s || s.destroyed) return Promise.resolve();
    // The session is unref'd while idle; closing must keep the process alive until it is done,
    // or `await client.close()` would be left unsettled when nothing else holds the event loop.
    s.ref();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        s.destroy();
        resolve();
      }, 2000);
      s.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
