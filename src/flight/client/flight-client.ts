/**
 * FlightClient: a Flight client for Node on our gRPC channel. Every RPC; DoGet as an async
 * iterable of record batches or a whole Table; DoPut from a Table or batches; per-call headers.
 * The parts it is made of live beside it: descriptors, the record-batch stream, the exchange,
 * and the transparent retry that every RPC with its whole request in hand goes through.
 */
import { Table, type RecordBatch, type Schema } from 'apache-arrow';
import { invalidArgument } from '../../core/errors.js';
import { messagesFromBatches } from '../../ipc/batch-messages.js';
import { decodeEncapsulatedSchema } from '../../ipc/message.js';
import { flightDataHead } from '../codec.js';
import {
  decodeActionType,
  decodeFlightInfo,
  decodeHandshake,
  decodePollInfo,
  decodeSingleBytes,
  encodeAction,
  encodeDescriptor,
  encodeHandshake,
  encodeSingleBytes,
  encodeTicket,
  type ActionType,
  type FlightInfo,
  type PollInfo,
} from '../proto/messages.js';
import { GrpcChannel, type ChannelTlsOptions, type ClientCall } from '../transport/client.js';
import { Metadata } from '../transport/metadata.js';
import { toDescriptor, type DescriptorInput } from './descriptors.js';
import { FlightExchange } from './exchange.js';
import { FlightRecordBatchStream } from './record-batch-stream.js';
import { collect, ReplayableCall } from './replayable-call.js';

export { descriptors, type DescriptorInput } from './descriptors.js';
export { FlightExchange } from './exchange.js';
export { FlightRecordBatchStream } from './record-batch-stream.js';

const SERVICE = 'arrow.flight.protocol.FlightService';

export interface FlightClientOptions {
  tls?: ChannelTlsOptions;
  /** Headers sent on every call, e.g. `{ authorization: 'Bearer …' }`. */
  headers?: Record<string, string>;
  /** Where bearer tokens come from when they are renewed in the background (e.g. an OAuthTokenSource). */
  tokenSource?: { readonly accessToken: string };
  maxReceiveMessageBytes?: number;
  receiveWindowBytes?: number;
}

export interface CallOptions {
  /** Headers for this call only; they override the client's headers of the same name. */
  headers?: Record<string, string | Uint8Array>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type BatchSource = Table | Iterable<RecordBatch> | AsyncIterable<RecordBatch>;

export interface HandshakeResult {
  payloads: Uint8Array[];
  headers: Metadata;
  trailers: Metadata;
}

export class FlightClient {
  private readonly channel: GrpcChannel;
  private readonly defaultHeaders: Record<string, string>;
  private tokenSource: { readonly accessToken: string } | undefined;

  /** Clients of the other locations endpoints named (replicas), made as needed, closed with this one. */
  private readonly peers = new Map<string, FlightClient>();

  constructor(
    readonly uri: string,
    private readonly options: FlightClientOptions = {},
  ) {
    this.channel = new GrpcChannel(uri, options);
    this.defaultHeaders = { ...(options.headers ?? {}) };
    this.tokenSource = options.tokenSource;
  }

  /** Sends `authorization: Bearer <source.accessToken>` on every later call, reading it anew each time. */
  useTokenSource(source: { readonly accessToken: string } | undefined): void {
    this.tokenSource = source;
  }

  /** Sets a header sent on every later call (e.g. a bearer token); undefined removes it. */
  setHeader(name: string, value: string | undefined): void {
    if (value === undefined) delete this.defaultHeaders[name.toLowerCase()];
    else this.defaultHeaders[name.toLowerCase()] = value;
  }

  private start(method: string, options: CallOptions = {}): ClientCall {
    const md = new Metadata();
    for (const [k, v] of Object.entries(this.defaultHeaders)) md.set(k, v);
    if (this.tokenSource) md.set('authorization', `Bearer ${this.tokenSource.accessToken}`);
    for (const [k, v] of Object.entries(options.headers ?? {})) md.set(k, v);
    const call = this.channel.call(SERVICE, method, { metadata: md, timeoutMs: options.timeoutMs, signal: options.signal });
    if (!this.tokenSource && this.defaultHeaders.authorization?.startsWith('Bearer ')) {
      // The server rotates session tokens by answering with a fresh one: keep using the newest.
      call.headers.then((h) => this.adoptBearer(h), () => undefined);
    }
    return call;
  }

  private adoptBearer(headers: Metadata): void {
    const value = headers.get('authorization');
    if (value?.startsWith('Bearer ') && this.defaultHeaders.authorization?.startsWith('Bearer ')) {
      this.defaultHeaders.authorization = value;
    }
  }

  /**
   * Logs in with a user name and password (Handshake with `authorization: Basic`) and sends the
   * session token it returns on every later call. Returns the token.
   */
  async login(user: string, password: string, options?: CallOptions): Promise<string> {
    const basic = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
    const result = await this.handshake([], { ...options, headers: { ...options?.headers, authorization: `Basic ${basic}` } });
    const bearer = result.headers.get('authorization') ?? result.trailers.get('authorization');
    if (!bearer?.startsWith('Bearer ')) throw invalidArgument('the server did not return a session token after login');
    this.defaultHeaders.authorization = bearer;
    return bearer.slice('Bearer '.length);
  }

  /** A call whose request is the given messages, sent whole and retried once if refused. */
  private replayable(method: string, requests: readonly Uint8Array[], options?: CallOptions): ReplayableCall {
    return new ReplayableCall(() => {
      const call = this.start(method, options);
      void (async () => {
        for (const r of requests) await call.send(r);
        call.end();
      })().catch(() => undefined);
      return call;
    });
  }

  private async unary(method: string, request: Uint8Array, options?: CallOptions): Promise<Uint8Array> {
    const results = await collect(this.replayable(method, [request], options));
    if (results.length !== 1) throw invalidArgument(`${method} returned ${results.length} messages, expected one`);
    return results[0]!;
  }

  /** Sends handshake payloads and collects the server's answers and headers. */
  async handshake(payloads: Uint8Array[] = [new Uint8Array(0)], options?: CallOptions): Promise<HandshakeResult> {
    const requests = payloads.map((payload) => encodeHandshake({ protocolVersion: 0, payload }));
    const call = this.replayable('Handshake', requests, options);
    const answers = (await collect(call)).map((m) => decodeHandshake(m).payload);
    return { payloads: answers, headers: await call.headers, trailers: call.trailers };
  }

  async *listFlights(criteria: string | Uint8Array = '', options?: CallOptions): AsyncGenerator<FlightInfo> {
    const expression = typeof criteria === 'string' ? Buffer.from(criteria) : criteria;
    for await (const m of this.replayable('ListFlights', [encodeSingleBytes(expression)], options).messages()) yield decodeFlightInfo(m);
  }

  async getFlightInfo(descriptor: DescriptorInput, options?: CallOptions): Promise<FlightInfo> {
    return decodeFlightInfo(await this.unary('GetFlightInfo', encodeDescriptor(toDescriptor(descriptor)), options));
  }

  async pollFlightInfo(descriptor: DescriptorInput, options?: CallOptions): Promise<PollInfo> {
    return decodePollInfo(await this.unary('PollFlightInfo', encodeDescriptor(toDescriptor(descriptor)), options));
  }

  async getSchema(descriptor: DescriptorInput, options?: CallOptions): Promise<Schema> {
    const result = await this.unary('GetSchema', encodeDescriptor(toDescriptor(descriptor)), options);
    return decodeEncapsulatedSchema(decodeSingleBytes(result, 'SchemaResult'));
  }

  /** Starts a DoGet; iterate the result for batches or call `readAll()` for a Table. */
  doGet(ticket: Uint8Array, options?: CallOptions): FlightRecordBatchStream {
    const call = this.replayable('DoGet', [encodeTicket(ticket)], options);
    return new FlightRecordBatchStream(call.messages(), () => call.cancel());
  }

  /**
   * Reads a dataset whole: GetFlightInfo, then DoGet of every endpoint, all at once, each from the
   * first location it names (another replica, say; this connection when it names none or the
   * reuse-connection URI), with this client's headers and token; the parts in endpoint order.
   */
  async readTable(descriptor: DescriptorInput, options?: CallOptions): Promise<Table> {
    const info = await this.getFlightInfo(descriptor, options);
    const tables = await Promise.all(info.endpoints.map((e) => this.clientFor(e.locations[0]?.uri).doGet(e.ticket, options).readAll()));
    if (tables.length === 1) return tables[0]!;
    if (tables.length === 0) return new Table(decodeEncapsulatedSchema(info.schema));
    return tables[0]!.concat(...tables.slice(1));
  }

  /**
   * Uploads `data` to `descriptor`; resolves with the PutResult metadata the server sent.
   * `schema` is needed only when `data` is a bare (possibly empty) sequence of batches.
   */
  async doPut(descriptor: DescriptorInput, data: BatchSource, options?: CallOptions & { schema?: Schema }): Promise<Uint8Array[]> {
    const schema = data instanceof Table ? data.schema : options?.schema;
    const call = this.start('DoPut', options);
    const results: Uint8Array[] = [];
    const reading = (async () => {
      for await (const m of call.messages()) results.push(decodeSingleBytes(m, 'PutResult'));
    })();
    reading.catch(() => undefined);
    try {
      let first = true;
      let resolved = schema;
      const source: BatchSource = data;
      const iterate = async function* (): AsyncGenerator<RecordBatch> {
        for await (const b of data instanceof Table ? data.batches : (source as AsyncIterable<RecordBatch>)) yield b;
      };
      // A bare batch sequence takes its schema from its first batch.
      const it = iterate();
      const peek = await it.next();
      if (!resolved) {
        if (peek.done) throw invalidArgument('doPut needs a schema when there are no batches');
        resolved = peek.value.schema;
      }
      const rest = async function* (): AsyncGenerator<RecordBatch> {
        if (!peek.done) yield peek.value;
        yield* it;
      };
      for await (const m of messagesFromBatches(resolved, rest())) {
        await call.send(flightDataHead({ descriptor: first ? toDescriptor(descriptor) : undefined, header: m.header, body: m.body }), m.body);
        first = false;
      }
      call.end();
    } catch (err) {
      call.cancel();
      await reading.catch(() => undefined);
      throw err;
    }
    await reading;
    return results;
  }

  doExchange(descriptor: DescriptorInput, options?: CallOptions): FlightExchange {
    return new FlightExchange(this.start('DoExchange', options), toDescriptor(descriptor));
  }

  async doAction(type: string, body: string | Uint8Array = new Uint8Array(0), options?: CallOptions): Promise<Uint8Array[]> {
    const raw = typeof body === 'string' ? Buffer.from(body) : body;
    const results = await collect(this.replayable('DoAction', [encodeAction({ type, body: raw })], options));
    return results.map((r) => decodeSingleBytes(r, 'Result'));
  }

  async listActions(options?: CallOptions): Promise<ActionType[]> {
    return (await collect(this.replayable('ListActions', [new Uint8Array(0)], options))).map(decodeActionType);
  }

  /** The client for an endpoint's location: this one for none, the reuse-connection URI, or this client's own URI. */
  private clientFor(location: string | undefined): FlightClient {
    if (!location || location.startsWith('arrow-flight-reuse-connection:') || location === this.uri) return this;
    let peer = this.peers.get(location);
    if (!peer) {
      peer = new FlightClient(location, { ...this.options, headers: { ...this.defaultHeaders } });
      this.peers.set(location, peer);
    }
    if (this.tokenSource) peer.useTokenSource(this.tokenSource);
    else if (this.defaultHeaders.authorization) peer.setHeader('authorization', this.defaultHeaders.authorization);
    return peer;
  }

  async close(): Promise<void> {
    await Promise.all([...this.peers.values()].map((p) => p.close()));
    await this.channel.close();
  }
}
