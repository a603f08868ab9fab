/**
 * The seam between Flight and its transport: what a call looks like to a handler, how a
 * handler answers, and what the transport needs to know about a method. The service binding,
 * access control and the composition root import this; `server.ts` (our gRPC on node:http2)
 * implements it.
 */
import type { ClientCertificateState } from '../../core/client-certificate.js';
import type { Metadata, MetadataValue } from './metadata.js';

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
  /**
   * Says the caller has been authenticated: from then on the call is no longer held to the
   * deadline for an unauthenticated call's first message.
   */
  markAuthenticated(): void;
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

/**
 * What a method's client sends, which sets how it is read and how large its messages may be:
 * `handshake` (a login, before any credential is checked: transport.maxHandshakeBytes),
 * `single` (one request message: a descriptor, ticket, action or criteria; transport.maxRequestBytes)
 * or `stream` (FlightData of an authenticated call: transport.maxMessageBytes).
 */
export type RequestKind = 'handshake' | 'single' | 'stream';


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

/** Where a service registers its methods: the gRPC server, as the binding sees it. */
export interface MethodRegistry {
  register(service: string, method: string, handler: Handler, kind: RequestKind): void;
}
