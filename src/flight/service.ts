/**
 * The Flight service: every RPC of arrow.flight.protocol.FlightService, bound to our gRPC
 * transport. Each handler authenticates through the AccessControl seam first, then authorizes
 * the dataset it touches; it holds no auth logic of its own.
 */
import type { Schema } from 'apache-arrow';
import type { Catalog } from '../catalog/catalog.js';
import { FlightgateError, invalidArgument, unimplemented } from '../core/errors.js';
import { principalKey, type Principal } from '../core/principal.js';
import { Status } from '../core/status.js';
import { BufferPool } from '../core/buffer-pool.js';
import { encapsulate, schemaMessage, type IpcMessage } from '../ipc/message.js';
import { compileGlob } from '../core/glob.js';
import type { AccessControl } from './access.js';
import { ActionRegistry, type ActionDefinition } from './actions.js';
import { flightDataHead, readFlightData, type IncomingFlightData } from './codec.js';
import { datasetOfPath, isJsonCommand, parseDatasetCommand, type DatasetRequest } from './descriptor.js';
import { CommandRegistry, type CommandCall, type CommandStream, type FlightCommand } from './commands.js';
import {
  decodeAction,
  decodeDescriptor,
  decodeHandshake,
  decodeSingleBytes,
  decodeTicket as decodeTicketMessage,
  DescriptorType,
  encodeActionType,
  encodeFlightInfo,
  encodeHandshake,
  encodePollInfo,
  encodeSingleBytes,
  timestampFromDate,
  type FlightDescriptor,
  type FlightEndpoint,
  type FlightInfo,
} from './proto/messages.js';
import { ReadAccess, type ReadableDataset } from './read-access.js';
import type { Dataset, SegmentRange } from '../catalog/dataset.js';
import { ManagedDataset } from '../catalog/managed/managed-dataset.js';
import type { Segment } from '../catalog/managed/manifest.js';
import { TicketCodec } from './ticket.js';
import { receiveUpload } from './upload-stream.js';
import type { MessageSink, MethodRegistry, ServerCall } from './transport/call.js';
import { FlightBinding, type AuthenticatedCall } from './binding.js';

export const FLIGHT_SERVICE = 'arrow.flight.protocol.FlightService';
export const REUSE_CONNECTION_URI = 'arrow-flight-reuse-connection://?';

export interface FlightServiceOptions {
  catalog: Catalog;
  access: AccessControl;
  /** Location put in FlightInfo endpoints; the reuse-connection URI when unset. */
  advertisedUri?: string;
  /** How long tickets from GetFlightInfo stay valid. */
  ticketTtlMs: number;
  /** Signs and checks tickets; replicas must share its key. A random key when unset. */
  tickets?: TicketCodec;
  /** CMD commands besides the built-in ones (the JSON dataset command, `echo`). */
  commands?: readonly FlightCommand[];
  /** DoAction types besides the built-in ones. */
  actions?: readonly ActionDefinition[];
  /** Every read goes through it; by default one without a SQL engine (restricted reads refused). */
  reads?: ReadAccess;
  /**
   * The Flight locations of the replicas that can serve this catalog's datasets now (this one
   * included), when replicas share it: a dataset of several segments is then described as one
   * endpoint per range of segments, spread over them.
   */
  replicaLocations?: () => Promise<readonly string[]>;
}

export class FlightService {
  readonly actions: ActionRegistry;
  readonly commands = new CommandRegistry();
  private readonly bodies = new BufferPool();
  private readonly tickets: TicketCodec;
  private readonly schemas = new WeakMap<Schema, Uint8Array>();
  private readonly reads: ReadAccess;

  constructor(private readonly options: FlightServiceOptions) {
    this.tickets = options.tickets ?? new TicketCodec();
    this.reads = options.reads ?? new ReadAccess(options.catalog, options.access, undefined);
    this.actions = new ActionRegistry(
      {
        catalog: options.catalog,
        access: options.access,
        tickets: this.tickets,
        issueTicket: (dataset, principal, segments) => this.issueTicket(dataset, principal, true, segments),
        cancelFlight: async (info, principal) => {
          for (const c of this.commands.list()) {
            const status = await c.cancelFlightInfo?.(info, principal);
            if (status !== undefined) return status;
          }
          return undefined;
        },
        sessionClosed: (principal) => {
          for (const c of this.commands.list()) c.sessionClosed?.(principal);
        },
      },
      async (name, principal, call) => {
        const r = await this.readable(name, principal, call);
        return { info: await this.describe(r, principal, call), schema: await this.reads.schema(r, principal, call), dataset: r.dataset };
      },
    );
    for (const a of options.actions ?? []) this.actions.register(a);
    this.commands.register(this.datasetCommand());
    this.commands.register(ECHO_COMMAND);
    for (const c of options.commands ?? []) this.commands.register(c);
  }

  /** The JSON dataset command: `{"dataset": …, "mode": …}` for GetFlightInfo, GetSchema and DoPut. */
  private datasetCommand(): FlightCommand {
    return {
      name: 'JSON {"dataset": "name", "mode": "create" | "append" | "replace"}',
      claims: isJsonCommand,
      getFlightInfo: ({ call, principal }, d) => this.flightInfo(parseDatasetCommand(d.cmd).dataset, principal, call, d),
      getSchema: async ({ call, principal }, d) => this.encodedSchema(await this.reads.schema(await this.readable(parseDatasetCommand(d.cmd).dataset, principal, call), principal, call)),
      doPut: (c, d, stream) => this.upload(c, parseDatasetCommand(d.cmd), stream),
    };
  }

  /** A call as commands get it: datasets are read through the same policy as DoGet. */
  private commandCall(c: AuthenticatedCall): CommandCall {
    return {
      ...c,
      readDataset: async (name) => {
        const r = await this.readable(name, c.principal, c.call);
        const schema = await this.reads.schema(r, c.principal, c.call);
        const { principal, call } = c;
        const access = this.access;
        const reads = this.reads;
        // Audited like a DoGet once the command has read it (or stopped reading).
        async function* audited(): AsyncGenerator<IpcMessage & { release?: () => void }> {
          let rows = 0;
          let bytes = 0;
          let outcome: 'ok' | 'error' = 'error';
          try {
            for await (const m of reads.messages(r, principal, call, (n) => Buffer.allocUnsafe(n), (n) => (rows = n))) {
              bytes += m.header.length + m.body.length;
              yield m;
            }
            outcome = 'ok';
          } finally {
            const rpc = call.method.slice(call.method.lastIndexOf('/') + 1);
            access.recordDataAccess?.({ rpc, principal, peer: call.peer, dataset: r.name, rows, bytes, outcome, grants: r.grants, restricted: r.view !== undefined });
          }
        }
        return { schema, messages: audited(), grants: r.grants, restricted: r.view !== undefined };
      },
    };
  }

  /** GetFlightInfo for any descriptor: a PATH names a dataset, a CMD goes to the command that claims it. */
  private info(c: AuthenticatedCall, d: FlightDescriptor): Promise<FlightInfo> {
    if (d.type === DescriptorType.PATH) return this.flightInfo(datasetOfPath(d), c.principal, c.call, d);
    if (d.type === DescriptorType.CMD) return this.commands.resolve(d.cmd, 'getFlightInfo').getFlightInfo(this.commandCall(c), d);
    throw invalidArgument(`unsupported descriptor type ${d.type}; use PATH [dataset] or a CMD`);
  }

  /** Binds every RPC; authentication is applied by the binding, and only Handshake is public. */
  bind(server: MethodRegistry): void {
    const b = new FlightBinding(server, FLIGHT_SERVICE, this.options.access);
    b.publicLogin('Handshake', (call, requests, out) => this.handshake(call, requests, out));
    b.serverStreaming('ListFlights', (c, request) => this.listFlights(c, request));
    b.unary('GetFlightInfo', (c, request) => this.getFlightInfo(c, request));
    b.unary('PollFlightInfo', (c, request) => this.pollFlightInfo(c, request));
    b.unary('GetSchema', (c, request) => this.getSchema(c, request));
    b.serverStreaming('DoGet', (c, request) => this.doGet(c, request));
    b.streaming('DoPut', (c, requests) => this.doPut(c, requests));
    b.streaming('DoExchange', (c, requests) => this.doExchange(c, requests));
    b.serverStreaming('DoAction', (c, request) => this.doAction(c, request));
    b.serverStreaming('ListActions', (c) => this.listActions(c));
  }

  private get access(): AccessControl {
    return this.options.access;
  }

  /**
   * Handshake: a login with Basic credentials in the headers (the token comes back in the
   * `authorization` response header and trailer) or a BasicAuth payload (the token comes back as
   * the response payload). Requests after the first are echoed.
   */
  private async handshake(call: ServerCall, requests: AsyncIterable<Uint8Array>, out: MessageSink): Promise<void> {
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    const req = first.done ? undefined : decodeHandshake(first.value);
    const { response } = await this.access.handshake(call, req?.payload);
    if (response !== undefined) await out.send(encodeHandshake({ protocolVersion: req?.protocolVersion ?? 0, payload: response }));
    else call.flushHeaders();
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const r = decodeHandshake(next.value);
      await out.send(encodeHandshake({ protocolVersion: r.protocolVersion, payload: r.payload }));
    }
  }

  /** Looks a dataset up for `principal` as they may read it, hiding whether it exists from those who may not. */
  private readable(name: string, principal: Principal, call: ServerCall): Promise<ReadableDataset> {
    return this.reads.open(principal, name, call);
  }

  async flightInfo(name: string, principal: Principal, call: ServerCall, descriptor?: FlightDescriptor): Promise<FlightInfo> {
    return this.describe(await this.readable(name, principal, call), principal, call, descriptor);
  }

  /**
   * A ticket for `dataset`, bound to `principal`, expiring after the ticket lifetime: in whole
   * seconds, so that repeated requests within a second get the same (cached) ticket, unless
   * `exact` (a renewal must outlast the ticket it renews).
   */
  private issueTicket(dataset: string, principal: Principal, exact = false, segments?: SegmentRange): { ticket: Uint8Array; expiresAt: number } {
    const at = Date.now() + this.options.ticketTtlMs;
    const expiresAt = exact ? at : Math.floor(at / 1000) * 1000;
    return { ticket: this.tickets.encode({ dataset, expiresAt, principal: principalKey(principal), ...(segments ? { segments } : {}) }), expiresAt };
  }

  /**
   * The endpoints of a read: one, on this connection or the advertised location; or, for a
   * dataset of several segments read whole (no policy view) while other replicas share the
   * catalog, one per range of segments (ranges of about equal bytes), each listing every replica,
   * rotated so that clients taking the first location spread the read over them.
   */
  private async endpoints(r: ReadableDataset, principal: Principal): Promise<FlightEndpoint[]> {
    const locations = !r.view && r.dataset instanceof ManagedDataset && r.dataset.segments.length > 1 ? await this.replicaLocations() : [];
    if (locations.length < 2 || !(r.dataset instanceof ManagedDataset)) {
      const { ticket, expiresAt } = this.issueTicket(r.name, principal);
      return [{ ticket, locations: [{ uri: this.options.advertisedUri ?? REUSE_CONNECTION_URI }], expirationTime: timestampFromDate(new Date(expiresAt)), appMetadata: new Uint8Array(0) }];
    }
    const ranges = splitSegments(r.dataset.segments, locations.length);
    return ranges.map((range, i) => {
      const { ticket, expiresAt } = this.issueTicket(r.name, principal, false, range);
      const rotated = [...locations.slice(i % locations.length), ...locations.slice(0, i % locations.length)];
      return { ticket, locations: rotated.map((uri) => ({ uri })), expirationTime: timestampFromDate(new Date(expiresAt)), appMetadata: new Uint8Array(0) };
    });
  }

  private locationsCache: { at: number; locations: Promise<readonly string[]> } | undefined;

  /** The replicas' locations, asked at most once a second (a GetFlightInfo must not cost a database query). */
  private replicaLocations(): Promise<readonly string[]> {
    const source = this.options.replicaLocations;
    if (!source) return Promise.resolve([]);
    const now = Date.now();
    if (!this.locationsCache || now - this.locationsCache.at > 1000) {
      // A failure to ask leaves this replica serving alone, as if the others were not there.
      this.locationsCache = { at: now, locations: source().catch(() => []) };
    }
    return this.locationsCache.locations;
  }

  /** Schemas are immutable objects, so each is encoded once (it is most of a GetFlightInfo's work). */
  private encodedSchema(schema: Schema): Uint8Array {
    let bytes = this.schemas.get(schema);
    if (!bytes) {
      bytes = encapsulate(schemaMessage(schema));
      this.schemas.set(schema, bytes);
    }
    return bytes;
  }

  private async describe(r: ReadableDataset, principal: Principal, call: ServerCall, descriptor?: FlightDescriptor): Promise<FlightInfo> {
    const [schema, stats, endpoints] = await Promise.all([this.reads.schema(r, principal, call), this.reads.stats(r), this.endpoints(r, principal)]);
    return {
      schema: this.encodedSchema(schema),
      descriptor: descriptor ?? { type: DescriptorType.PATH, cmd: new Uint8Array(0), path: [r.name] },
      endpoints,
      totalRecords: stats.records,
      totalBytes: stats.bytes,
      ordered: true,
      appMetadata: new Uint8Array(0),
    };
  }

  /**
   * ListFlights: the datasets the caller may list, filtered by the criteria glob. Permissions are
   * checked before the glob is matched, so names the caller may not see cost them nothing and
   * tell them nothing. Whoever may only list gets names, not schemas, counts or tickets.
   */
  private async listFlights({ principal, out, call }: AuthenticatedCall, request: Uint8Array): Promise<void> {
    const criteria = decodeSingleBytes(request, 'Criteria');
    if (criteria.length > MAX_CRITERIA_BYTES) throw invalidArgument(`ListFlights criteria is too long (${criteria.length} bytes; at most ${MAX_CRITERIA_BYTES})`);
    const expression = Buffer.from(criteria).toString('utf8');
    const matches = expression ? compileGlob(expression) : () => true;
    const listed: Dataset[] = [];
    for (const ds of await this.options.catalog.list()) {
      if ((await this.access.may(principal, 'list', ds.name)) && matches(ds.name)) listed.push(ds);
    }
    // Each FlightInfo waits on its file's stat: many are asked at once (in order, a window at a
    // time), so a catalog of thousands is not listed one file system round trip after another.
    // Datasets under a policy are described one at a time: each may be a statement of the caller's.
    for (let at = 0; at < listed.length; at += LIST_WINDOW) {
      const window = listed.slice(at, at + LIST_WINDOW);
      const readable = await Promise.all(window.map((ds) => this.reads.readable(principal, ds).catch(leaveOut)));
      const infos = await Promise.all(
        window.map(async (ds, k) => {
          const r = readable[k];
          if (r === null) return undefined;
          if (r === undefined) return nameOnly(ds.name);
          return r.view ? undefined : this.describe(r, principal, call).catch(leaveOut);
        }),
      );
      for (let k = 0; k < window.length; k++) {
        const r = readable[k];
        const info = r?.view ? await this.describe(r, principal, call).catch(leaveOut) : infos[k];
        if (info) await out.send(encodeFlightInfo(info));
      }
    }
  }

  private async getFlightInfo(c: AuthenticatedCall, request: Uint8Array): Promise<void> {
    await c.out.send(encodeFlightInfo(await this.info(c, decodeDescriptor(request))));
  }

  /** Our flights are ready at once, so polling returns the complete info and no retry descriptor. */
  private async pollFlightInfo(c: AuthenticatedCall, request: Uint8Array): Promise<void> {
    await c.out.send(encodePollInfo({ info: await this.info(c, decodeDescriptor(request)), progress: 1 }));
  }

  private async getSchema(c: AuthenticatedCall, request: Uint8Array): Promise<void> {
    const d = decodeDescriptor(request);
    let schema: Uint8Array;
    if (d.type === DescriptorType.PATH) schema = this.encodedSchema(await this.reads.schema(await this.readable(datasetOfPath(d), c.principal, c.call), c.principal, c.call));
    else if (d.type === DescriptorType.CMD) schema = await this.commands.resolve(d.cmd, 'getSchema').getSchema(this.commandCall(c), d);
    else throw invalidArgument(`unsupported descriptor type ${d.type}; use PATH [dataset] or a CMD`);
    await c.out.send(encodeSingleBytes(schema));
  }

  private async doGet(c: AuthenticatedCall, request: Uint8Array): Promise<void> {
    const ticketBytes = decodeTicketMessage(request);
    const command = this.commands.forTicket(ticketBytes);
    if (command) return command.doGet(this.commandCall(c), ticketBytes);
    const { call, principal, out } = c;
    const ticket = this.tickets.decode(ticketBytes, principalKey(principal));
    // The ticket only names the dataset: who may read what of it is decided now, not when it was issued.
    const r = await this.readable(ticket.dataset, principal, call);
    let rows = 0;
    let bytes = 0;
    let outcome: 'ok' | 'error' = 'error';
    try {
      const pool = this.bodies;
      const messages = this.reads.messages(r, principal, call, (n) => pool.acquire(n), (n) => (rows = n), ticket.segments);
      for await (const m of messages) {
        const release = m.release ?? (() => pool.release(m.body));
        await out.send(flightDataHead({ header: m.header, body: m.body }), m.body, release);
        bytes += m.header.length + m.body.length;
      }
      outcome = 'ok';
    } finally {
      this.access.recordDataAccess?.({ rpc: 'DoGet', principal, peer: call.peer, dataset: r.name, rows, bytes, outcome, grants: r.grants, restricted: r.view !== undefined });
    }
  }

  /** DoPut: the first FlightData carries the descriptor; a PATH creates a dataset, a CMD goes to its command. */
  private async doPut(c: AuthenticatedCall, requests: AsyncIterable<Uint8Array>): Promise<void> {
    const rest = requests[Symbol.asyncIterator]();
    const next = await rest.next();
    if (next.done) throw invalidArgument('DoPut received no FlightData');
    const first = readFlightData(next.value);
    const d = first.descriptor;
    if (!d) throw invalidArgument('missing FlightDescriptor');
    const stream = { first, firstBytes: next.value.length, rest };
    if (d.type === DescriptorType.PATH) return this.upload(c, { dataset: datasetOfPath(d), mode: 'create' }, stream);
    if (d.type === DescriptorType.CMD) return this.commands.resolve(d.cmd, 'doPut').doPut(this.commandCall(c), d, stream);
    throw invalidArgument(`unsupported descriptor type ${d.type}; use PATH [dataset] or a CMD`);
  }

  /** Uploads into a dataset, atomically: nothing is visible until the stream ends well. */
  private async upload(c: AuthenticatedCall, { dataset, mode }: DatasetRequest, stream: CommandStream): Promise<void> {
    await this.access.authorize(c.principal, 'write', dataset, c.call);
    await receiveUpload(this.options, c, dataset, mode, stream, (result) => c.out.send(encodeSingleBytes(Buffer.from(JSON.stringify(result)))));
  }

  /** DoExchange: the first FlightData's CMD descriptor names the command (`echo` is built in). */
  private async doExchange(c: AuthenticatedCall, requests: AsyncIterable<Uint8Array>): Promise<void> {
    const rest = requests[Symbol.asyncIterator]();
    const next = await rest.next();
    if (next.done) return;
    const first = readFlightData(next.value);
    const d = first.descriptor;
    if (d?.type !== DescriptorType.CMD) {
      throw unimplemented(`DoExchange takes a CMD descriptor naming a command (got ${JSON.stringify(d?.path ?? null)}); the commands this server knows: ${this.commands.list().filter((x) => x.doExchange).map((x) => x.name).join('; ')}`);
    }
    await this.commands.resolve(d.cmd, 'doExchange').doExchange(this.commandCall(c), d, { first, firstBytes: next.value.length, rest });
  }

  private async doAction({ call, principal, out }: AuthenticatedCall, request: Uint8Array): Promise<void> {
    const action = decodeAction(request);
    for (const result of await this.actions.run(action, principal, call)) await out.send(encodeSingleBytes(result));
  }

  private async listActions({ out }: AuthenticatedCall): Promise<void> {
    for (const a of this.actions.list()) await out.send(encodeActionType(a));
  }
}

/** DoExchange `echo`: every FlightData comes back unchanged. */
const ECHO_COMMAND: FlightCommand = {
  name: '"echo" (DoExchange: every FlightData back unchanged)',
  claims: (cmd) => cmd.length === 4 && Buffer.from(cmd).toString('latin1') === 'echo',
  async doExchange({ out }, _d, { first, rest }) {
    const echo = async (fd: IncomingFlightData): Promise<void> => {
      await out.send(flightDataHead({ header: fd.header, appMetadata: fd.appMetadata, body: fd.body }), fd.body);
    };
    if (first.header.length || first.appMetadata.length) await echo(first);
    for (let next = await rest.next(); !next.done; next = await rest.next()) await echo(readFlightData(next.value));
  },
};

/** FlightInfos of ListFlights prepared at once. */
const LIST_WINDOW = 64;

/** A dataset whose file vanished since the catalog looked, or whose policy does not fit it (reading it says so), is left out of lists. */
function leaveOut(err: unknown): null {
  if (err instanceof FlightgateError && (err.status === Status.NOT_FOUND || err.status === Status.FAILED_PRECONDITION)) return null;
  throw err;
}

/** Longest ListFlights criteria accepted. */
const MAX_CRITERIA_BYTES = 256;

/** What a principal who may list but not read a dataset learns of it: its name. */
function nameOnly(name: string): FlightInfo {
  return {
    schema: new Uint8Array(0),
    descriptor: { type: DescriptorType.PATH, cmd: new Uint8Array(0), path: [name] },
    endpoints: [],
    totalRecords: -1,
    totalBytes: -1,
    ordered: false,
    appMetadata: new Uint8Array(0),
  };
}

/** Contiguous ranges of `segments`, at most `parts` of them, of about equal bytes each. */
export function splitSegments(segments: readonly Segment[], parts: number): SegmentRange[] {
  const total = segments.reduce((n, s) => n + s.bytes, 0);
  const count = Math.min(parts, segments.length);
  const ranges: SegmentRange[] = [];
  let from = 0;
  let done = 0;
  for (let k = 1; k <= count; k++) {
    // Each range ends where the running total first reaches k/count of the whole, leaving a segment at least for each range still to come.
    let to = from + 1;
    done += segments[from]!.bytes;
    while (to < segments.length - (count - k) && done + segments[to]!.bytes <= (total * k) / count) done += segments[to++]!.bytes;
    if (k === count) {
      while (to < segments.length) done += segments[to++]!.bytes;
    }
    ranges.push({ from, to, first: segments[from]!.file, last: segments[to - 1]!.file });
    from = to;
  }
  return ranges;
}
