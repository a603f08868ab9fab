/**
 * A Flight SQL client on top of FlightClient, so every way FlightClient signs in (Basic login,
 * bearer tokens, OAuth token sources, client certificates) works for SQL too: queries, prepared
 * statements with parameters, bulk ingest, metadata and session options.
 */
import { RecordBatch, Table, tableFromArrays, type Schema } from 'apache-arrow';
import { decodeEncapsulatedSchema } from '../../ipc/message.js';
import { decodeCancelFlightInfoResult, encodeCancelFlightInfoRequest, type FlightInfo } from '../proto/messages.js';
import { encodeStatementIngest, TableExists, TableNotExist } from '../sql/ingest-command.js';
import {
  decodeCreatePreparedStatementResult, decodeDoPutPreparedStatementResult, decodePutUpdateResult, encodeGetDbSchemas, encodeGetSqlInfo,
  encodeGetTables, encodeGetXdbcTypeInfo, encodePreparedStatementHandle, encodeStatementQuery, encodeTableRef, packSql, unpackSql,
} from '../sql/protocol.js';
import {
  decodeGetSessionOptionsResult, decodeSetSessionOptionsResult, encodeSetSessionOptionsRequest, type SessionOptionValue,
} from '../sql/session-options.js';
import { descriptors } from './descriptors.js';
import type { CallOptions, FlightClient } from './flight-client.js';

/** How `ingest` treats a table that exists or not (ADBC's ingest modes). */
export type IngestMode = 'create' | 'append' | 'replace' | 'create_append';

const INGEST_OPTIONS: Record<IngestMode, { ifNotExist: number; ifExists: number }> = {
  create: { ifNotExist: TableNotExist.CREATE, ifExists: TableExists.FAIL },
  append: { ifNotExist: TableNotExist.FAIL, ifExists: TableExists.APPEND },
  replace: { ifNotExist: TableNotExist.CREATE, ifExists: TableExists.REPLACE },
  create_append: { ifNotExist: TableNotExist.CREATE, ifExists: TableExists.APPEND },
};

export interface TablesFilter {
  catalog?: string;
  dbSchemaPattern?: string;
  tableNamePattern?: string;
  tableTypes?: string[];
  includeSchema?: boolean;
}

/** A statement prepared on the server; bind parameters, run it, close it. */
export class PreparedStatement {
  constructor(
    private readonly sql: FlightSqlClient,
    /** The handle the server gave (and replaces when parameters are bound). */
    public handle: Uint8Array,
    readonly datasetSchema: Schema | undefined,
    readonly parameterSchema: Schema | undefined,
  ) {}

  /** Binds one row of parameters, by position (`$1`, `?`…). */
  async bind(values: Record<string, unknown[]> | Table | RecordBatch): Promise<void> {
    this.handle = await this.sql.bindParameters(this.handle, values);
  }

  query(options?: CallOptions): Promise<Table> {
    return this.sql.readAll(this.sql.commandDescriptor('CommandPreparedStatementQuery', encodePreparedStatementHandle({ preparedStatementHandle: this.handle })), options);
  }

  async close(options?: CallOptions): Promise<void> {
    await this.sql.client.doAction('ClosePreparedStatement', packSql('ActionClosePreparedStatementRequest', encodePreparedStatementHandle({ preparedStatementHandle: this.handle })), options);
  }
}

export class FlightSqlClient {
  constructor(readonly client: FlightClient) {}

  commandDescriptor(name: Parameters<typeof packSql>[0], message: Uint8Array) {
    return descriptors.command(packSql(name, message));
  }

  /** Every endpoint of a FlightInfo, read in order into one Table. */
  async readAll(descriptor: ReturnType<typeof descriptors.command>, options?: CallOptions): Promise<Table> {
    return this.client.readTable(descriptor, options);
  }

  /** Plans a query: the FlightInfo whose tickets stream its result (for parallel or later reads, or CancelFlightInfo). */
  execute(query: string, options?: CallOptions): Promise<FlightInfo> {
    return this.client.getFlightInfo(this.commandDescriptor('CommandStatementQuery', encodeStatementQuery({ query })), options);
  }

  /** Runs a query and reads its whole result. */
  query(query: string, options?: CallOptions): Promise<Table> {
    return this.readAll(this.commandDescriptor('CommandStatementQuery', encodeStatementQuery({ query })), options);
  }

  /** The result schema of a query, without running it. */
  getQuerySchema(query: string, options?: CallOptions): Promise<Schema> {
    return this.client.getSchema(this.commandDescriptor('CommandStatementQuery', encodeStatementQuery({ query })), options);
  }

  /** Stops a query started from `info` (CancelFlightInfo); resolves with the CancelStatus. */
  async cancel(info: FlightInfo, options?: CallOptions): Promise<number> {
    const [result] = await this.client.doAction('CancelFlightInfo', encodeCancelFlightInfoRequest(info), options);
    return decodeCancelFlightInfoResult(result ?? new Uint8Array(0));
  }

  async prepare(query: string, options?: CallOptions): Promise<PreparedStatement> {
    const [result] = await this.client.doAction('CreatePreparedStatement', packSql('ActionCreatePreparedStatementRequest', encodeStatementQuery({ query })), options);
    const r = decodeCreatePreparedStatementResult(unpackSql(result ?? new Uint8Array(0), 'ActionCreatePreparedStatementResult'));
    const schema = (bytes: Uint8Array): Schema | undefined => (bytes.length ? decodeEncapsulatedSchema(bytes) : undefined);
    return new PreparedStatement(this, r.preparedStatementHandle, schema(r.datasetSchema), schema(r.parameterSchema));
  }

  /** DoPut of parameters for a prepared statement; resolves with the handle to use from now on. */
  async bindParameters(handle: Uint8Array, values: Record<string, unknown[]> | Table | RecordBatch, options?: CallOptions): Promise<Uint8Array> {
    const table = values instanceof Table ? values : values instanceof RecordBatch ? new Table([values]) : tableFromArrays(values as never);
    const results = await this.client.doPut(this.commandDescriptor('CommandPreparedStatementQuery', encodePreparedStatementHandle({ preparedStatementHandle: handle })), table, options);
    const answer = results[0];
    return (answer && decodeDoPutPreparedStatementResult(answer)) || handle;
  }

  /** Bulk ingest (CommandStatementIngest) into a dataset; resolves with the rows written. */
  async ingest(table: string, data: Table, mode: IngestMode = 'create', options?: CallOptions): Promise<number> {
    const results = await this.client.doPut(this.commandDescriptor('CommandStatementIngest', encodeStatementIngest({ table, ...INGEST_OPTIONS[mode] })), data, options);
    return decodePutUpdateResult(results[0] ?? new Uint8Array(0)).recordCount;
  }

  getSqlInfo(info: number[] = [], options?: CallOptions): Promise<Table> {
    return this.readAll(this.commandDescriptor('CommandGetSqlInfo', encodeGetSqlInfo({ info })), options);
  }

  getXdbcTypeInfo(dataType?: number, options?: CallOptions): Promise<Table> {
    return this.readAll(this.commandDescriptor('CommandGetXdbcTypeInfo', encodeGetXdbcTypeInfo({ dataType })), options);
  }

  getCatalogs(options?: CallOptions): Promise<Table> {
    return this.readAll(this.commandDescriptor('CommandGetCatalogs', new Uint8Array(0)), options);
  }

  getDbSchemas(filter: { catalog?: string; dbSchemaPattern?: string } = {}, options?: CallOptions): Promise<Table> {
    return this.readAll(this.commandDescriptor('CommandGetDbSchemas', encodeGetDbSchemas({ catalog: filter.catalog, dbSchemaFilterPattern: filter.dbSchemaPattern })), options);
  }

  getTables(filter: TablesFilter = {}, options?: CallOptions): Promise<Table> {
    const m = encodeGetTables({
      catalog: filter.catalog,
      dbSchemaFilterPattern: filter.dbSchemaPattern,
      tableNameFilterPattern: filter.tableNamePattern,
      tableTypes: filter.tableTypes ?? [],
      includeSchema: filter.includeSchema ?? false,
    });
    return this.readAll(this.commandDescriptor('CommandGetTables', m), options);
  }

  getTableTypes(options?: CallOptions): Promise<Table> {
    return this.readAll(this.commandDescriptor('CommandGetTableTypes', new Uint8Array(0)), options);
  }

  getPrimaryKeys(table: string, options?: CallOptions): Promise<Table> {
    return this.readAll(this.commandDescriptor('CommandGetPrimaryKeys', encodeTableRef({ table })), options);
  }

  /** SetSessionOptions; resolves with the options the server refused, by name (SetSessionOptionsResult.ErrorValue). */
  async setSessionOptions(values: Record<string, string | boolean | number | string[]>, options?: CallOptions): Promise<Map<string, number>> {
    const entries: [string, SessionOptionValue][] = Object.entries(values).map(([k, v]) => [
      k,
      typeof v === 'string' ? { kind: 'string', value: v } : typeof v === 'boolean' ? { kind: 'bool', value: v } : typeof v === 'number' ? { kind: 'double', value: v } : { kind: 'stringList', value: v },
    ]);
    const [result] = await this.client.doAction('SetSessionOptions', encodeSetSessionOptionsRequest(entries), options);
    return decodeSetSessionOptionsResult(result ?? new Uint8Array(0));
  }

  async getSessionOptions(options?: CallOptions): Promise<Map<string, SessionOptionValue>> {
    const [result] = await this.client.doAction('GetSessionOptions', new Uint8Array(0), options);
    return decodeGetSessionOptionsResult(result ?? new Uint8Array(0));
  }
}
