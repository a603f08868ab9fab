/**
 * FlightClient: a Flight client for Node on our gRPC channel. Every RPC; DoGet as an async
 * iterable of record batches or a whole Table; DoPut from a Table or batches; per-call headers.
 */
import { RecordBatchReader, RecordBatchStreamWriter, Table, type RecordBatch, type Schema } from 'apache-arrow';
import { invalidArgument } from '../../core/errors.js';
import { decodeEncapsulatedSchema, EOS, framedHeader, schemaMessage, splitIpcStream, summarize, type IpcMessage } from '../../ipc/message.js';
import { flightDataHead, readFlightData, type IncomingFlightData } from '../codec.js';
import {
  decodeActionType,
  decodeFlightInfo,
  decodeHandshake,
  decodePollInfo,
  decodeSingleBytes,
  DescriptorType,
  encodeAction,
  encodeDescriptor,
  encodeHandshake,
  encodeSingleBytes,
  encodeTicket,
  type ActionType,
  type FlightDescriptor,
  type FlightInfo,
  type PollInfo,
} from '../proto/messages.js';
import { GrpcChannel, RefusedStreamError, type ChannelTlsOptions, type ClientCall } from '../transport/client.js';
import { Metadata } from '../transport/metadata.js';

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

export const descriptors = {
  path: (...path: string[]): FlightDescriptor => ({ type: DescriptorType.PATH, cmd: new Uint8Array(0), path }),
  command: (cmd: string | Uint8Array): FlightDescriptor => ({
    type: DescriptorType.CMD,
    cmd: typeof cmd === 'string' ? Buffer.from(cmd) : cmd,
    path: [],
  }),
};

type DescriptorInput = FlightDescriptor | string | string[];

function toDescriptor(d: DescriptorInput): FlightDescriptor {
  if (typeof d === 'string') return descriptors.path(d);
  if (Array.isArray(d)) return descriptors.path(...d);
  return d;
}

export type BatchSource = Table | Iterable<RecordBatch> | AsyncIterable<RecordBatch>;

/** IPC messages for a sequence of batches: the schema once, then each batch with its dictionaries. */
async function* ipcMessages(schema: Schema, batches: BatchSource): AsyncGenerator<IpcMessage> {
  yield schemaMessage(schema);
  const source = batches instanceof Table ? batches.batches : batches;
  for await (const batch of source) {
    for (const m of splitIpcStream(RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true))) {
      if (summarize(m.header).kind !== 'schema') yield m;
    }
  }
}

/** Turns a stream of FlightData back into IPC stream bytes for Arrow JS's reader. */
async function* ipcBytes(data: AsyncIterable<IncomingFlightData>): AsyncGenerator<Uint8Array> {
  for await (const fd of data) {
    if (!fd.kind) continue;
    yield framedHeader(fd.header);
    if (fd.body.length) yield fd.body;
  }
  yield EOS;
}

/** The result of DoGet: iterate it for record batches, or read it whole. */
export class FlightRecordBatchStream implements AsyncIterable<RecordBatch> {
  private reader: Promise<RecordBatchReader> | undefined;
  constructor(private readonly call: ClientCall) {}

  private async *flightData(): AsyncGenerator<IncomingFlightData> {
    for await (const m of this.call.messages()) yield readFlightData(m);
  }

  private open(): Promise<RecordBatchReader> {
    this.reader ??= (async () => {
      const reader = await RecordBatchReader.from(ipcBytes(this.flightData()));
      await reader.open();
      return reader as RecordBatchReader;
    })();
    return this.reader;
  }

  async schema(): Promise<Schema> {
    return (await this.open()).schema;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordBatch> {
    const reader = await this.open();
    for await (const batch of reader as AsyncIterable<RecordBatch>) yield batch;
  }

  async readAll(): Promise<Table> {
    const reader = await this.open();
    const batches: RecordBatch[] = [];
    for await (const b of reader as AsyncIterable<RecordBatch>) batches.push(b);
    return batches.length ? new Table(batches) : new Table(reader.schema);
  }

  cancel(): void {
    this.call.cancel();
  }
}

/** A DoExchange call: write batches or metadata, read what the server sends back. */
export class FlightExchange {
  private schemaSent = false;
  constructor(
    private readonly call: ClientCall,
    private readonly descriptor: FlightDescriptor,
  ) {}

  private async sendMessage(m: IpcMessage | undefined, appMetadata?: Uint8Array): Promise<void> {
    const descriptor = this.schemaSent || m ? (this.schemaSent ? undefined : this.descriptor) : this.descriptor;
    await this.call.send(flightDataHead({ descriptor, header: m?.header, appMetadata, body: m?.body }), m?.body);
  }

  async write(data: Table | RecordBatch): Promise<void> {
    const schema = data.schema;
    const batches = data instanceof Table ? data.batches : [data];
    for await (const m of ipcMessages(schema, batches)) {
      if (summarize(m.header).kind === 'schema') {
        if (this.schemaSent) continue;
        await this.sendMessage(m);
        this.schemaSent = true;
        continue;
      }
      await this.sendMessage(m);
    }
  }

  async writeMetadata(appMetadata: Uint8Array): Promise<void> {
    await this.sendMessage(undefined, appMetadata);
    this.schemaSent = true;
  }

  end(): void {
    this.call.end();
  }

  /** The raw FlightData the server sends. */
  async *messages(): AsyncGenerator<IncomingFlightData> {
    for await (const m of this.call.messages()) yield readFlightData(m);
  }

  /** Reads all batches the server sends back, as a Table. */
  async readAll(): Promise<Table> {
    const reader = await RecordBatchReader.from(ipcBytes(this.messages()));
    await reader.open();
    const batches: RecordBatch[] = [];
    for await (const b of reader as AsyncIterable<RecordBatch>) batches.push(b);
    return batches.length ? new Table(batches) : new Table(reader.schema);
  }
}

export interface HandshakeResult {
  payloads: Uint8Array[];
  headers: Metadata;
  trailers: Metadata;
}

export class FlightClient {
  private readonly channel: GrpcChannel;
  private readonly defaultHeaders: Record<string, string>;
  private tokenSource: { readonly accessToken: string } | undefined;

  constructor(
    readonly uri: string,
    options: FlightClientOptions = {},
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

  private async unary(method: string, request: Uint8Array, options?: CallOptions): Promise<Uint8Array> {
    const results = await this.serverStream(method, request, options);
    if (results.length !== 1) throw invalidArgument(`${method} returned ${results.length} messages, expected one`);
    return results[0]!;
  }

  /**
   * Calls whose whole request is in hand are sent once more, on a new connection, when the
   * server refused the stream unprocessed (it was closing the old connection): gRPC's transparent retry.
   */
  private async serverStream(method: string, request: Uint8Array, options?: CallOptions): Promise<Uint8Array[]> {
    try {
      return await this.serverStreamOnce(method, request, options);
    } catch (err) {
      if (err instanceof RefusedStreamError) return this.serverStreamOnce(method, request, options);
      throw err;
    }
  }

  private async serverStreamOnce(method: string, request: Uint8Array, options?: CallOptions): Promise<Uint8Array[]> {
    const call = this.start(method, options);
    await call.send(request);
    call.end();
    const out: Uint8Array[] = [];
    for await (const m of call.messages()) out.push(m);
    return out;
  }

  /** Sends handshake payloads and collects the server's answers and headers. */
  async handshake(payloads: Uint8Array[] = [new Uint8Array(0)], options?: CallOptions): Promise<HandshakeResult> {
    try {
      return await this.handshakeOnce(payloads, options);
    } catch (err) {
      if (err instanceof RefusedStreamError) return this.handshakeOnce(payloads, options);
      throw err;
    }
  }

  private async handshakeOnce(payloads: Uint8Array[], options?: CallOptions): Promise<HandshakeResult> {
    const call = this.start('Handshake', options);
    for (const payload of payloads) await call.send(encodeHandshake({ protocolVersion: 0, payload }));
    call.end();
    const answers: Uint8Array[] = [];
    for await (const m of call.messages()) answers.push(decodeHandshake(m).payload);
    return { payloads: answers, headers: await call.headers, trailers: call.trailers };
  }

  async *listFlights(criteria: string | Uint8Array = '', options?: CallOptions): AsyncGenerator<FlightInfo> {
    const expression = typeof criteria === 'string' ? Buffer.from(criteria) : criteria;
    const call = this.start('ListFlights', options);
    await call.send(encodeSingleBytes(expression));
    call.end();
    for await (const m of call.messages()) yield decodeFlightInfo(m);
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
    const call = this.start('DoGet', options);
    call.send(encodeTicket(ticket)).then(
      () => call.end(),
      () => undefined,
    );
    return new FlightRecordBatchStream(call);
  }

  /** Reads a dataset whole: GetFlightInfo, then DoGet of every endpoint in order. */
  async readTable(descriptor: DescriptorInput, options?: CallOptions): Promise<Table> {
    const info = await this.getFlightInfo(descriptor, options);
    const tables: Table[] = [];
    for (const e of info.endpoints) tables.push(await this.doGet(e.ticket, options).readAll());
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
      for await (const m of ipcMessages(resolved, rest())) {
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
    const results = await this.serverStream('DoAction', encodeAction({ type, body: raw }), options);
    return results.map((r) => decodeSingleBytes(r, 'Result'));
  }

  async listActions(options?: CallOptions): Promise<ActionType[]> {
    return (await this.serverStream('ListActions', new Uint8Array(0), options)).map(decodeActionType);
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
