/**
 * Flight methods bound to the transport with authentication applied here, once: a method
 * receives the authenticated principal, and is open to unauthenticated callers only when it is
 * registered as public (Handshake, which is the login). A new RPC cannot forget the check.
 * Methods whose client sends one message (unary, server-streaming) receive that message.
 */
import { invalidArgument } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { AccessControl } from './access.js';
import type { Handler, MessageSink, MethodRegistry, RequestKind, ServerCall } from './transport/call.js';

/** What an authenticated method works with. */
export interface AuthenticatedCall {
  readonly call: ServerCall;
  readonly principal: Principal;
  readonly out: MessageSink;
}

/** A method whose client sends exactly one message (unary or server-streaming). */
export type SingleRequestMethod = (c: AuthenticatedCall, request: Uint8Array) => Promise<void>;
/** A method whose client streams (client-streaming or bidirectional). */
export type StreamingMethod = (c: AuthenticatedCall, requests: AsyncIterable<Uint8Array>) => Promise<void>;

/** Reads exactly one request message, as unary and server-streaming calls carry. */
async function single(requests: AsyncIterable<Uint8Array>, method: string): Promise<Uint8Array> {
  let first: Uint8Array | undefined;
  for await (const m of requests) {
    if (first !== undefined) throw invalidArgument(`${method} takes exactly one request message`);
    first = m;
  }
  if (first === undefined) throw invalidArgument(`${method} received no request message`);
  return first;
}

export class FlightBinding {
  private readonly names = new Set<string>();

  constructor(
    private readonly registry: MethodRegistry,
    private readonly service: string,
    private readonly access: AccessControl,
  ) {}

  /** The methods bound so far (for tests and listings). */
  get methods(): readonly string[] {
    return [...this.names];
  }

  private bind(method: string, handler: Handler, kind: RequestKind): void {
    if (this.names.has(method)) throw new Error(`${this.service}/${method} is bound twice`);
    this.names.add(method);
    this.registry.register(this.service, method, handler, kind);
  }

  /** A unary method: one request, one answer. */
  unary(method: string, run: SingleRequestMethod): void {
    this.single(method, run);
  }

  /** A server-streaming method: one request, any number of answers. */
  serverStreaming(method: string, run: SingleRequestMethod): void {
    this.single(method, run);
  }

  private single(method: string, run: SingleRequestMethod): void {
    this.bind(
      method,
      async (call, requests, out) => {
        const principal = await this.access.authenticate(call, method);
        await run({ call, principal, out }, await single(requests, method));
      },
      'single',
    );
  }

  /** A client-streaming or bidirectional method. */
  streaming(method: string, run: StreamingMethod): void {
    this.bind(
      method,
      async (call, requests, out) => {
        const principal = await this.access.authenticate(call, method);
        await run({ call, principal, out }, requests);
      },
      'stream',
    );
  }

  /**
   * A method open to callers who have not authenticated: only a login may be one. It is read
   * with the small limits of a call made before any credential is checked.
   */
  publicLogin(method: string, handler: Handler): void {
    this.bind(method, handler, 'handshake');
  }
}
