/**
 * Flight SQL on top of the Flight service, as one registered command (CMD descriptors and
 * tickets holding Flight SQL `Any` messages) and the Flight SQL actions. It decides nothing
 * about access itself: the tables a statement sees are the datasets the AccessControl lets the
 * caller read, found afresh on every call (a ticket or handle carries no authority of its own),
 * and the engine is given exactly those.
 */
import { createHash, randomBytes } from 'node:crypto';
import { tableFromIPC, type Schema, type Table } from 'apache-arrow';
import type { Catalog } from '../../catalog/catalog.js';
import { checkDatasetName } from '../../catalog/names.js';
import { FlightgateError, invalidArgument, permissionDenied, resourceExhausted, unimplemented } from '../../core/errors.js';
import { principalKey, type Principal } from '../../core/principal.js';
import { Status } from '../../core/status.js';
import { messagesFromBatches } from '../../ipc/batch-messages.js';
import { encapsulate, schemaMessage, type IpcMessage } from '../../ipc/message.js';
import type { SqlEngine, SqlTable } from '../../sql/engine.js';
import type { ParameterValue } from '../../sql/native.js';
import type { AccessControl } from '../access.js';
import type { ActionDefinition } from '../actions.js';
import type { ReadAccess } from '../read-access.js';
import type { AuthenticatedCall } from '../binding.js';
import { flightDataHead, readFlightData } from '../codec.js';
import type { CommandStream, FlightCommand } from '../commands.js';
import { receiveUpload } from '../upload-stream.js';
import { CancelStatus, encodeSingleBytes, timestampFromDate, type FlightDescriptor, type FlightInfo } from '../proto/messages.js';
import type { TicketCodec } from '../ticket.js';
import type { ServerCall } from '../transport/call.js';
import { decodeStatementIngest, ingestMode } from './ingest-command.js';
import { SQL_CATALOG, SQL_SCHEMA, TABLE_TYPES } from './layout.js';
import { compileLike } from './like-pattern.js';
import {
  catalogsTable, CATALOGS_SCHEMA, dbSchemasTable, DB_SCHEMAS_SCHEMA, FOREIGN_KEYS_SCHEMA, PRIMARY_KEYS_SCHEMA, tablesSchema, tablesTable,
  tableTypesTable, TABLE_TYPES_SCHEMA, type TableListing,
} from './metadata-results.js';
import { MAX_PARAMETER_BYTES, parameterRow } from './parameters.js';
import {
  decodeGetCrossReference, decodeGetDbSchemas, decodeGetSqlInfo, decodeGetTables, decodeGetXdbcTypeInfo, decodePreparedStatementHandle,
  decodeStatementQuery, decodeTableRef, decodeTicketStatementQuery, encodeCreatePreparedStatementResult, encodeDoPutPreparedStatementResult,
  encodePutUpdateResult, encodeTicketStatementQuery, packSql, sqlMessageOf, unpackSql, type SqlMessageName,
} from './protocol.js';
import { serverInfo } from './server-info.js';
import {
  decodeSetSessionOptionsRequest, encodeGetSessionOptionsResult, encodeSetSessionOptionsResult, SessionOptionError, SessionOptionsStore,
  type SessionOptionValue,
} from './session-options.js';
import { SQL_INFO_SCHEMA, sqlInfoTable } from './sql-info.js';
import { XDBC_TYPE_INFO_SCHEMA, xdbcTypeInfoTable } from './xdbc-types.js';

export interface FlightSqlOptions {
  engine: SqlEngine;
  catalog: Catalog;
  access: AccessControl;
  /** Every table a statement sees comes from here, as the caller may read it. */
  reads: ReadAccess;
  tickets: TicketCodec;
  ticketTtlMs: number;
  advertisedUri?: string;
  serverVersion: string;
  arrowVersion: string;
}

/** Sealed-value purposes (see TicketCodec.seal). */
const QUERY_HANDLE = 'sqlq';
const PREPARED_HANDLE = 'sqlp';
const REUSE_CONNECTION = 'arrow-flight-reuse-connection://?';
/** Longest statement text kept in an audit line. */
const AUDITED_STATEMENT_CHARS = 1000;
/** Parameters kept per principal for prepared statements, and in all. */
const MAX_BOUND_PER_PRINCIPAL = 256;
const MAX_BOUND = 100_000;
/** Bytes a parameter upload may hold. */
const MAX_PARAMETER_UPLOAD = 16 * MAX_PARAMETER_BYTES;

/** Metadata commands: their result schemas; their tickets are the commands themselves. */
const METADATA: Partial<Record<SqlMessageName, (cmd: Uint8Array) => Schema>> = {
  CommandGetSqlInfo: () => SQL_INFO_SCHEMA,
  CommandGetXdbcTypeInfo: () => XDBC_TYPE_INFO_SCHEMA,
  CommandGetCatalogs: () => CATALOGS_SCHEMA,
  CommandGetDbSchemas: () => DB_SCHEMAS_SCHEMA,
  CommandGetTables: (cmd) => tablesSchema(decodeGetTables(cmd).includeSchema),
  CommandGetTableTypes: () => TABLE_TYPES_SCHEMA,
  CommandGetPrimaryKeys: () => PRIMARY_KEYS_SCHEMA,
  CommandGetExportedKeys: () => FOREIGN_KEYS_SCHEMA,
  CommandGetImportedKeys: () => FOREIGN_KEYS_SCHEMA,
  CommandGetCrossReference: () => FOREIGN_KEYS_SCHEMA,
};

const READ_ONLY = 'flightgate SQL is read-only: change data by uploading (DoPut to a dataset, or CommandStatementIngest)';

/** A parameter value as sealed into a handle (JSON has no bigint or bytes). */
type SealedValue = null | boolean | number | string | { i: string } | { b: string };

interface QueryContent {
  q: string;
  v?: SealedValue[];
}

interface PreparedContent {
  id: string;
  q: string;
}

interface BoundParameters {
  owner: string;
  values: ParameterValue[];
  expiresAt: number;
}

export class FlightSqlService {
  private readonly sessions = new SessionOptionsStore();
  private readonly bound = new Map<string, BoundParameters>();
  /** Running queries by their ticket's hash, for CancelFlightInfo (from before they start executing). */
  private readonly running = new Map<string, Set<AbortController>>();
  /** Cancelled tickets (hash → expiry): refused if they come back. */
  private readonly cancelled = new Map<string, number>();

  constructor(private readonly o: FlightSqlOptions) {}

  /** The command that takes every Flight SQL message in descriptors and tickets. */
  command(): FlightCommand {
    return {
      name: 'Flight SQL (google.protobuf.Any of arrow.flight.protocol.sql.*)',
      claims: (cmd) => sqlMessageOf(cmd) !== undefined,
      claimsTicket: (ticket) => sqlMessageOf(ticket) !== undefined,
      getFlightInfo: (c, d) => this.getFlightInfo(c, d),
      getSchema: (c, d) => this.getSchema(c, d),
      doGet: (c, ticket) => this.doGet(c, ticket),
      doPut: (c, d, stream) => this.doPut(c, d, stream),
      cancelFlightInfo: (info, principal) => this.cancelFlightInfo(info, principal),
      sessionClosed: (principal) => this.sessions.clear(callerKey(principal)),
    };
  }

  actions(): ActionDefinition[] {
    return [
      {
        type: 'CreatePreparedStatement',
        description: 'Flight SQL: prepare a query. Body: Any(ActionCreatePreparedStatementRequest); result: Any(ActionCreatePreparedStatementResult) with the handle and the dataset and parameter schemas.',
        run: (body, principal, call) => this.createPrepared(body, principal, call),
      },
      {
        type: 'ClosePreparedStatement',
        description: 'Flight SQL: release a prepared statement. Body: Any(ActionClosePreparedStatementRequest).',
        run: async (body, principal) => {
          const handle = decodePreparedStatementHandle(unpackSql(body, 'ActionClosePreparedStatementRequest'), 'ActionClosePreparedStatementRequest').preparedStatementHandle;
          const p = this.openPrepared(handle, principal);
          this.bound.delete(p.id);
          return [];
        },
      },
      {
        type: 'SetSessionOptions',
        description: `Standard Flight action: set session options. Known: "catalog" (must be "${SQL_CATALOG}") and "schema" (must be "${SQL_SCHEMA}"). Result: SetSessionOptionsResult.`,
        run: async (body, principal) => {
          const errors: [string, number][] = [];
          for (const [name, value] of decodeSetSessionOptionsRequest(body)) {
            const code = checkSessionOption(name, value);
            if (code) errors.push([name, code]);
            else this.sessions.set(callerKey(principal), name, value);
          }
          return [encodeSetSessionOptionsResult(errors)];
        },
      },
      {
        type: 'GetSessionOptions',
        description: 'Standard Flight action: the session options in effect (catalog, schema). Result: GetSessionOptionsResult.',
        run: async (_body, principal) => {
          const set = this.sessions.get(callerKey(principal));
          const merged = new Map<string, SessionOptionValue>([
            ['catalog', { kind: 'string', value: SQL_CATALOG }],
            ['schema', { kind: 'string', value: SQL_SCHEMA }],
            ...set,
          ]);
          return [encodeGetSessionOptionsResult(merged)];
        },
      },
    ];
  }

  // ---- GetFlightInfo / GetSchema ----

  private async getFlightInfo(c: AuthenticatedCall, d: FlightDescriptor): Promise<FlightInfo> {
    const { name, value } = this.message(d.cmd);
    if (name === 'CommandStatementQuery') {
      const m = decodeStatementQuery(value);
      if (m.transactionId?.length) throw unimplemented('flightgate has no transactions; send the query without a transaction id');
      return this.statementInfo(c, d, m.query, undefined);
    }
    if (name === 'CommandPreparedStatementQuery') {
      const p = this.openPrepared(decodePreparedStatementHandle(value).preparedStatementHandle, c.principal);
      return this.statementInfo(c, d, p.q, this.bound.get(p.id)?.values);
    }
    const schemaOf = METADATA[name as SqlMessageName];
    if (schemaOf) return this.info(d, encapsulate(schemaMessage(schemaOf(value))), d.cmd, -1, undefined);
    throw this.notForGetFlightInfo(name);
  }

  private async getSchema(c: AuthenticatedCall, d: FlightDescriptor): Promise<Uint8Array> {
    const { name, value } = this.message(d.cmd);
    if (name === 'CommandStatementQuery') return encapsulate(schemaMessage((await this.describe(c, decodeStatementQuery(value).query)).schema));
    if (name === 'CommandPreparedStatementQuery') {
      const p = this.openPrepared(decodePreparedStatementHandle(value).preparedStatementHandle, c.principal);
      return encapsulate(schemaMessage((await this.describe(c, p.q)).schema));
    }
    const schemaOf = METADATA[name as SqlMessageName];
    if (schemaOf) return encapsulate(schemaMessage(schemaOf(value)));
    throw this.notForGetFlightInfo(name);
  }

  private notForGetFlightInfo(name: string): FlightgateError {
    if (name === 'CommandStatementUpdate' || name === 'CommandPreparedStatementUpdate') return unimplemented(READ_ONLY);
    if (name === 'CommandStatementIngest') return invalidArgument('CommandStatementIngest goes with DoPut, carrying the data');
    return unimplemented(`the Flight SQL command ${name} is not supported`);
  }

  private message(bytes: Uint8Array): { name: string; value: Uint8Array } {
    const m = sqlMessageOf(bytes);
    if (!m) throw invalidArgument('not a Flight SQL command');
    if (!m.known) throw unimplemented(`unknown Flight SQL message ${m.name.slice(0, 80)}`);
    return m;
  }

  /** The caller's tables: every dataset they may read, by its name, each as the policy shows it. */
  private async tablesFor(principal: Principal): Promise<SqlTable[]> {
    return (await this.o.reads.list(principal)).map((r) => r.table);
  }

  /** The policies (grant ids) a statement's tables were read through. */
  private policiesOf(sql: string, tables: readonly SqlTable[]): string[] {
    const mentioned = this.o.engine.mentionedTables(sql);
    const out = new Set<string>();
    for (const t of tables) if (t.view && (!mentioned || mentioned.has(t.name.toLowerCase()))) for (const g of t.view.grants) out.add(g);
    return [...out];
  }

  /** Plans a statement for the caller; one that is refused or fails is audited here (a run is audited by DoGet). */
  private async describe({ principal, call }: { principal: Principal; call: ServerCall }, sql: string): Promise<{ schema: Schema; parameters: Schema }> {
    const started = performance.now();
    try {
      return await this.o.engine.describe({ owner: principalKey(principal), tables: await this.tablesFor(principal), sql, signal: call.signal, deadline: call.deadline });
    } catch (err) {
      const status = err instanceof FlightgateError ? err : undefined;
      this.o.access.recordQuery?.({
        principal, peer: call.peer, rpc: call.method.slice(call.method.lastIndexOf('/') + 1), statement: sql.slice(0, AUDITED_STATEMENT_CHARS),
        statementHash: createHash('sha256').update(sql).digest('hex'), rows: 0, bytes: 0, durationMs: Math.round(performance.now() - started),
        outcome: status?.status === Status.PERMISSION_DENIED ? 'denied' : 'error', reason: status?.statusName ?? 'INTERNAL',
      });
      throw err;
    }
  }

  private async statementInfo(c: AuthenticatedCall, d: FlightDescriptor, sql: string, values: ParameterValue[] | undefined): Promise<FlightInfo> {
    const shape = await this.describe(c, sql);
    const expiresAt = Date.now() + this.o.ticketTtlMs;
    const content: QueryContent = { q: sql, ...(values ? { v: values.map(sealValue) } : {}) };
    const handle = this.o.tickets.seal(QUERY_HANDLE, content, principalKey(c.principal), expiresAt);
    const ticket = packSql('TicketStatementQuery', encodeTicketStatementQuery({ statementHandle: handle }));
    return this.info(d, encapsulate(schemaMessage(shape.schema)), ticket, -1, expiresAt);
  }

  private info(d: FlightDescriptor, schema: Uint8Array, ticket: Uint8Array, records: number, expiresAt: number | undefined): FlightInfo {
    return {
      schema,
      descriptor: d,
      endpoints: [
        {
          ticket,
          locations: [{ uri: this.o.advertisedUri ?? REUSE_CONNECTION }],
          ...(expiresAt !== undefined ? { expirationTime: timestampFromDate(new Date(expiresAt)) } : {}),
          appMetadata: new Uint8Array(0),
        },
      ],
      totalRecords: records,
      totalBytes: -1,
      ordered: true,
      appMetadata: new Uint8Array(0),
    };
  }

  // ---- DoGet ----

  private async doGet(c: AuthenticatedCall, ticket: Uint8Array): Promise<void> {
    const { name, value } = this.message(ticket);
    if (name === 'TicketStatementQuery') return this.runStatement(c, decodeTicketStatementQuery(value).statementHandle);
    const results = await this.metadata(c.principal, name, value);
    if (!results) throw invalidArgument(`a ${name} is not a ticket; use the ticket from GetFlightInfo`);
    await this.send(c, messagesFromBatches(results.schema, results.batches, c.call.signal));
  }

  private async send({ out }: AuthenticatedCall, messages: AsyncIterable<IpcMessage & { release?: () => void }>): Promise<void> {
    for await (const m of messages) await out.send(flightDataHead({ header: m.header, body: m.body }), m.body, m.release);
  }

  private async runStatement(c: AuthenticatedCall, handle: Uint8Array): Promise<void> {
    const { principal, call } = c;
    const content = this.o.tickets.open(QUERY_HANDLE, handle, principalKey(principal), 'statement handle', 8 * 1024 * 1024) as QueryContent;
    if (typeof content?.q !== 'string') throw invalidArgument('statement handle is corrupt');
    const hash = ticketHash(handle);
    if (this.cancelled.has(hash)) throw new FlightgateError(Status.CANCELLED, 'this query was cancelled (CancelFlightInfo); run it again for a new ticket');
    const started = performance.now();
    let rows = 0;
    let bytes = 0;
    let outcome: 'ok' | 'denied' | 'error' = 'error';
    let reason: string | undefined;
    const cancel = new AbortController();
    let tables: SqlTable[] = [];
    const runs = this.running.get(hash) ?? new Set();
    runs.add(cancel);
    this.running.set(hash, runs);
    try {
      tables = await this.tablesFor(principal);
      const run = await this.o.engine.query({
        owner: principalKey(principal),
        tables,
        sql: content.q,
        parameters: content.v?.map(openValue),
        signal: AbortSignal.any([call.signal, cancel.signal]),
        deadline: call.deadline,
      });
      try {
        await this.send(c, run.messages());
      } finally {
        rows = run.rows;
        bytes = run.bytes;
        await run.close();
      }
      outcome = 'ok';
    } catch (err) {
      if (err instanceof FlightgateError) {
        reason = err.statusName;
        if (err.status === Status.PERMISSION_DENIED) outcome = 'denied';
      }
      throw err;
    } finally {
      runs.delete(cancel);
      if (!runs.size) this.running.delete(hash);
      this.o.access.recordQuery?.({
        principal, peer: call.peer, rpc: 'DoGet', statement: content.q.slice(0, AUDITED_STATEMENT_CHARS),
        statementHash: createHash('sha256').update(content.q).digest('hex'), rows, bytes, durationMs: Math.round(performance.now() - started), outcome, reason,
        policies: this.policiesOf(content.q, tables),
      });
    }
  }

  // ---- metadata ----

  private async metadata(principal: Principal, name: string, value: Uint8Array): Promise<Table | undefined> {
    switch (name) {
      case 'CommandGetSqlInfo': {
        const wanted = decodeGetSqlInfo(value).info;
        const all = serverInfo({
          serverVersion: this.o.serverVersion,
          arrowVersion: this.o.arrowVersion,
          maxStatementBytes: this.o.engine.settings.maxStatementBytes,
          statementTimeoutMs: this.o.ticketTtlMs,
        });
        return sqlInfoTable(wanted.length ? all.filter(([id]) => wanted.includes(id)) : all);
      }
      case 'CommandGetXdbcTypeInfo':
        return xdbcTypeInfoTable(decodeGetXdbcTypeInfo(value).dataType);
      case 'CommandGetCatalogs':
        return catalogsTable([SQL_CATALOG]);
      case 'CommandGetDbSchemas': {
        const m = decodeGetDbSchemas(value);
        const show = catalogMatches(m.catalog) && compileLike(m.dbSchemaFilterPattern)(SQL_SCHEMA);
        return dbSchemasTable(show ? [{ catalog: SQL_CATALOG, dbSchema: SQL_SCHEMA }] : []);
      }
      case 'CommandGetTables': {
        const m = decodeGetTables(value);
        const tableMatches = compileLike(m.tableNameFilterPattern);
        const typeMatches = m.tableTypes.length === 0 || m.tableTypes.some((t) => TABLE_TYPES.includes(t.toUpperCase() as (typeof TABLE_TYPES)[number]));
        const show = catalogMatches(m.catalog) && compileLike(m.dbSchemaFilterPattern)(SQL_SCHEMA) && typeMatches;
        const rows: TableListing[] = [];
        if (show) {
          for (const r of await this.o.reads.list(principal)) {
            if (!tableMatches(r.name)) continue;
            rows.push({ catalog: SQL_CATALOG, dbSchema: SQL_SCHEMA, table: r.name, type: TABLE_TYPES[0], ...(m.includeSchema ? { schema: await this.o.reads.schema(r, principal, undefined, 'sql') } : {}) });
          }
        }
        rows.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
        return tablesTable(rows, m.includeSchema);
      }
      case 'CommandGetTableTypes':
        return tableTypesTable([...TABLE_TYPES]);
      case 'CommandGetPrimaryKeys':
      case 'CommandGetExportedKeys':
      case 'CommandGetImportedKeys':
        decodeTableRef(value, name);
        // Datasets have no keys: the result is empty, in the schema clients expect.
        return emptyTable(name === 'CommandGetPrimaryKeys' ? PRIMARY_KEYS_SCHEMA : FOREIGN_KEYS_SCHEMA);
      case 'CommandGetCrossReference':
        decodeGetCrossReference(value);
        return emptyTable(FOREIGN_KEYS_SCHEMA);
      default:
        return undefined;
    }
  }

  // ---- DoPut ----

  private async doPut(c: AuthenticatedCall, d: FlightDescriptor, stream: CommandStream): Promise<void> {
    const { name, value } = this.message(d.cmd);
    if (name === 'CommandStatementUpdate' || name === 'CommandPreparedStatementUpdate') throw unimplemented(READ_ONLY);
    if (name === 'CommandPreparedStatementQuery') return this.bindParameters(c, decodePreparedStatementHandle(value).preparedStatementHandle, stream);
    if (name === 'CommandStatementIngest') return this.ingest(c, value, stream);
    throw unimplemented(`DoPut does not take the Flight SQL command ${name}`);
  }

  private async bindParameters({ principal, out, call }: AuthenticatedCall, handle: Uint8Array, { first, rest }: CommandStream): Promise<void> {
    const p = this.openPrepared(handle, principal);
    const parts: Uint8Array[] = [];
    let size = 0;
    const add = (header: Uint8Array, body: Uint8Array): void => {
      size += header.length + body.length;
      if (size > MAX_PARAMETER_UPLOAD) throw resourceExhausted(`parameters may take at most ${MAX_PARAMETER_UPLOAD} bytes`);
      parts.push(encapsulate({ header, body }));
    };
    if (first.header.length) add(first.header, first.body);
    for (let next = await rest.next(); !next.done; next = await rest.next()) {
      const fd = readFlightData(next.value);
      if (fd.header.length) add(fd.header, fd.body);
      call.release(next.value);
    }
    let values: ParameterValue[] = [];
    if (parts.length) {
      let table: Table;
      try {
        table = tableFromIPC(Buffer.concat(parts));
      } catch (err) {
        throw invalidArgument('the parameters are not a valid Arrow IPC stream', err);
      }
      values = parameterRow(table);
    }
    const owner = principalKey(principal);
    this.keepBound(p.id, { owner, values, expiresAt: Date.now() + this.o.ticketTtlMs });
    // Newer clients use the handle we return; older ones keep theirs, which now has these values.
    await out.send(encodeSingleBytes(encodeDoPutPreparedStatementResult(handle)));
  }

  private keepBound(id: string, b: BoundParameters): void {
    const now = Date.now();
    let mine = 0;
    for (const [k, v] of this.bound) {
      if (v.expiresAt < now) this.bound.delete(k);
      else if (v.owner === b.owner && k !== id) mine++;
    }
    if (mine >= MAX_BOUND_PER_PRINCIPAL) throw resourceExhausted(`you hold ${mine} prepared statements with parameters; close some (at most ${MAX_BOUND_PER_PRINCIPAL})`);
    if (this.bound.size >= MAX_BOUND) throw resourceExhausted('too many prepared statements hold parameters on this server; try again later');
    this.bound.set(id, b);
  }

  private async ingest(c: AuthenticatedCall, value: Uint8Array, stream: CommandStream): Promise<void> {
    const { principal, call } = c;
    const m = decodeStatementIngest(value);
    if (m.catalog !== undefined && m.catalog !== '' && m.catalog !== SQL_CATALOG) throw invalidArgument(`unknown catalog "${m.catalog.slice(0, 80)}"; datasets are in "${SQL_CATALOG}"`);
    if (m.schema !== undefined && m.schema !== '' && m.schema !== SQL_SCHEMA) throw invalidArgument(`unknown schema "${m.schema.slice(0, 80)}"; datasets are in "${SQL_SCHEMA}"`);
    const dataset = checkDatasetName(m.table);
    await this.o.access.authorize(principal, 'write', dataset, call);
    const exists = (await this.o.catalog.list()).some((d) => d.name === dataset);
    const mode = ingestMode(m, exists);
    await receiveUpload(this.o, c, dataset, mode, stream, (_result, rows) => c.out.send(encodeSingleBytes(encodePutUpdateResult({ recordCount: rows }))));
  }

  // ---- prepared statements ----

  private async createPrepared(body: Uint8Array, principal: Principal, call: ServerCall): Promise<Uint8Array[]> {
    const m = decodeStatementQuery(unpackSql(body, 'ActionCreatePreparedStatementRequest'), 'ActionCreatePreparedStatementRequest');
    if (m.transactionId?.length) throw unimplemented('flightgate has no transactions; prepare without a transaction id');
    const shape = await this.describe({ principal, call }, m.query);
    const content: PreparedContent = { id: randomBytes(16).toString('base64url'), q: m.query };
    const handle = this.o.tickets.seal(PREPARED_HANDLE, content, principalKey(principal), Date.now() + this.o.ticketTtlMs);
    const result = encodeCreatePreparedStatementResult({
      preparedStatementHandle: handle,
      datasetSchema: encapsulate(schemaMessage(shape.schema)),
      parameterSchema: encapsulate(schemaMessage(shape.parameters)),
    });
    return [packSql('ActionCreatePreparedStatementResult', result)];
  }

  /** A prepared statement's content, if the handle is ours, unexpired and the caller's. */
  private openPrepared(handle: Uint8Array, principal: Principal): PreparedContent {
    const c = this.o.tickets.open(PREPARED_HANDLE, handle, principalKey(principal), 'prepared statement handle', 8 * 1024 * 1024) as PreparedContent;
    if (typeof c?.id !== 'string' || typeof c.q !== 'string') throw invalidArgument('prepared statement handle is corrupt');
    return c;
  }

  // ---- CancelFlightInfo ----

  private async cancelFlightInfo(info: FlightInfo, principal: Principal): Promise<number | undefined> {
    let ours = false;
    for (const e of info.endpoints) {
      const m = sqlMessageOf(e.ticket);
      if (!m || m.name !== 'TicketStatementQuery') continue;
      const handle = decodeTicketStatementQuery(m.value).statementHandle;
      // Only the principal the query was issued to may cancel it.
      try {
        this.o.tickets.open(QUERY_HANDLE, handle, principalKey(principal), 'statement handle', 8 * 1024 * 1024);
      } catch (err) {
        if (err instanceof FlightgateError && err.status === Status.PERMISSION_DENIED) throw permissionDenied('this query was issued to another principal');
        throw err;
      }
      ours = true;
      const hash = ticketHash(handle);
      this.forgetExpiredCancels();
      this.cancelled.set(hash, Date.now() + this.o.ticketTtlMs);
      for (const run of this.running.get(hash) ?? []) run.abort();
    }
    return ours ? CancelStatus.CANCELLED : undefined;
  }

  private forgetExpiredCancels(): void {
    const now = Date.now();
    for (const [k, at] of this.cancelled) if (at < now) this.cancelled.delete(k);
    // Bounded whatever a caller does: the oldest entries go first.
    while (this.cancelled.size > MAX_BOUND) this.cancelled.delete(this.cancelled.keys().next().value!);
  }
}

function callerKey(principal: Principal): string {
  return principal.sessionId ? `session:${principal.sessionId}` : principalKey(principal);
}

function catalogMatches(catalog: string | undefined): boolean {
  return catalog === undefined || catalog === SQL_CATALOG;
}

function checkSessionOption(name: string, value: SessionOptionValue): number {
  if (name !== 'catalog' && name !== 'schema') return SessionOptionError.INVALID_NAME;
  if (value.kind === 'unset') return 0;
  const want = name === 'catalog' ? SQL_CATALOG : SQL_SCHEMA;
  return value.kind === 'string' && value.value.toLowerCase() === want ? 0 : SessionOptionError.INVALID_VALUE;
}

const ticketHash = (handle: Uint8Array): string => createHash('sha256').update(handle).digest('hex');

function emptyTable(schema: Schema): Table {
  return tableFromIPC(messagesToBytes([schemaMessage(schema)]));
}

function messagesToBytes(messages: IpcMessage[]): Uint8Array {
  return Buffer.concat([...messages.map((m) => encapsulate(m)), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])]);
}

function sealValue(v: ParameterValue): SealedValue {
  if (typeof v === 'bigint') return { i: v.toString() };
  if (v instanceof Uint8Array) return { b: Buffer.from(v).toString('base64') };
  return v;
}

function openValue(v: SealedValue): ParameterValue {
  if (v !== null && typeof v === 'object') {
    if ('i' in v) return BigInt(v.i);
    return new Uint8Array(Buffer.from(v.b, 'base64'));
  }
  return v;
}
