/**
 * The Flight SQL messages (FlightSql.proto, Arrow format 1.x) that travel inside Flight: commands
 * in CMD descriptors, tickets and action bodies, each wrapped in a `google.protobuf.Any` whose type
 * URL names it. Decoding is bounds-checked like the rest of our protobuf code: malformed bytes are
 * INVALID_ARGUMENT, unknown fields are skipped, and an Any naming another message is refused with
 * both names.
 */
import { invalidArgument } from '../../core/errors.js';
import { intField, lenField, ProtoReader, ProtoWriter, readFields, strField, WireType } from '../proto/wire.js';

export const SQL_TYPE_URL_PREFIX = 'type.googleapis.com/arrow.flight.protocol.sql.';

/** The message names of FlightSql.proto that may arrive wrapped in an Any. */
export const SQL_MESSAGES = [
  'CommandStatementQuery',
  'CommandStatementUpdate',
  'CommandPreparedStatementQuery',
  'CommandPreparedStatementUpdate',
  'TicketStatementQuery',
  'CommandGetSqlInfo',
  'CommandGetXdbcTypeInfo',
  'CommandGetCatalogs',
  'CommandGetDbSchemas',
  'CommandGetTables',
  'CommandGetTableTypes',
  'CommandGetPrimaryKeys',
  'CommandGetExportedKeys',
  'CommandGetImportedKeys',
  'CommandGetCrossReference',
  'ActionCreatePreparedStatementRequest',
  'ActionCreatePreparedStatementResult',
  'ActionClosePreparedStatementRequest',
  'DoPutUpdateResult',
  'DoPutPreparedStatementResult',
  'CommandStatementIngest',
  'CommandStatementSubstraitPlan',
  'CommandPreparedSubstraitPlan',
  'ActionBeginTransactionRequest',
  'ActionEndTransactionRequest',
  'ActionBeginSavepointRequest',
  'ActionEndSavepointRequest',
  'ActionCancelQueryRequest',
] as const;
export type SqlMessageName = (typeof SQL_MESSAGES)[number];

const KNOWN: ReadonlySet<string> = new Set(SQL_MESSAGES);

export interface PackedAny {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/** google.protobuf.Any: type_url = 1, value = 2. */
export function encodeAny(typeUrl: string, value: Uint8Array): Uint8Array {
  return new ProtoWriter(typeUrl.length + value.length + 8).string(1, typeUrl).bytes(2, value).finish();
}

export function decodeAny(buf: Uint8Array): PackedAny {
  let typeUrl = '';
  let value: Uint8Array = new Uint8Array(0);
  readFields(buf, 'google.protobuf.Any', (r, f, w) => {
    if (f === 1) typeUrl = strField(r, w, f);
    else if (f === 2) value = lenField(r, w, f);
    else return false;
    return true;
  });
  return { typeUrl, value };
}

/**
 * Which Flight SQL message an Any holds, or undefined when it is not a Flight SQL Any at all (so
 * the bytes may be another command's). A Flight SQL type URL naming a message we do not know is
 * UNIMPLEMENTED's business, not ours: it comes back as its bare name.
 */
export function sqlMessageOf(buf: Uint8Array): { name: string; known: boolean; value: Uint8Array } | undefined {
  // Cheap first test: an Any starts with field 1 (type_url), tag byte 0x0a.
  if (buf.length < 2 || buf[0] !== 0x0a) return undefined;
  let any: PackedAny;
  try {
    any = decodeAny(buf);
  } catch {
    return undefined;
  }
  if (!any.typeUrl.startsWith(SQL_TYPE_URL_PREFIX)) return undefined;
  const name = any.typeUrl.slice(SQL_TYPE_URL_PREFIX.length);
  return { name, known: KNOWN.has(name), value: any.value };
}

/** Wraps a Flight SQL message in its Any. */
export const packSql = (name: SqlMessageName, value: Uint8Array): Uint8Array => encodeAny(SQL_TYPE_URL_PREFIX + name, value);

/** Unwraps an Any that must hold `name`. */
export function unpackSql(buf: Uint8Array, name: SqlMessageName): Uint8Array {
  const any = decodeAny(buf);
  if (any.typeUrl !== SQL_TYPE_URL_PREFIX + name) {
    throw invalidArgument(`expected a ${name} in the Any, got "${any.typeUrl.slice(0, 120)}"`);
  }
  return any.value;
}

// ---- the messages ----

export interface StatementQuery {
  query: string;
  transactionId?: Uint8Array;
}
export type StatementUpdate = StatementQuery;
export type CreatePreparedStatementRequest = StatementQuery;

export interface PreparedStatementHandle {
  preparedStatementHandle: Uint8Array;
}

export interface TicketStatementQuery {
  statementHandle: Uint8Array;
}

export interface GetSqlInfo {
  /** Empty: every item the server knows. */
  info: number[];
}

export interface GetXdbcTypeInfo {
  dataType?: number;
}

export interface GetDbSchemas {
  catalog?: string;
  dbSchemaFilterPattern?: string;
}

export interface GetTables extends GetDbSchemas {
  tableNameFilterPattern?: string;
  tableTypes: string[];
  includeSchema: boolean;
}

export interface TableRef {
  catalog?: string;
  dbSchema?: string;
  table: string;
}

export interface GetCrossReference {
  pkCatalog?: string;
  pkDbSchema?: string;
  pkTable: string;
  fkCatalog?: string;
  fkDbSchema?: string;
  fkTable: string;
}

export interface CreatePreparedStatementResult {
  preparedStatementHandle: Uint8Array;
  /** An encapsulated IPC schema message; empty when the statement returns no rows. */
  datasetSchema: Uint8Array;
  parameterSchema: Uint8Array;
}

export interface PutUpdateResult {
  /** -1 when unknown. */
  recordCount: number;
}

/** An `optional` (explicit presence) string: written when set, even when empty. */
const optionalString = (w: ProtoWriter, field: number, v: string | undefined): ProtoWriter => w.string(field, v, true);

export function encodeStatementQuery(m: StatementQuery): Uint8Array {
  return new ProtoWriter().string(1, m.query).bytes(2, m.transactionId, true).finish();
}
export function decodeStatementQuery(buf: Uint8Array, what = 'CommandStatementQuery'): StatementQuery {
  const m: StatementQuery = { query: '' };
  readFields(buf, what, (r, f, w) => {
    if (f === 1) m.query = strField(r, w, f);
    else if (f === 2) m.transactionId = lenField(r, w, f);
    else return false;
    return true;
  });
  return m;
}

function encodeBytesMessage(value: Uint8Array): Uint8Array {
  return new ProtoWriter(value.length + 8).bytes(1, value).finish();
}
function decodeBytesMessage(buf: Uint8Array, what: string): Uint8Array {
  let value: Uint8Array = new Uint8Array(0);
  readFields(buf, what, (r, f, w) => {
    if (f !== 1) return false;
    value = lenField(r, w, f);
    return true;
  });
  return value;
}

export const encodePreparedStatementHandle = (m: PreparedStatementHandle): Uint8Array => encodeBytesMessage(m.preparedStatementHandle);
export const decodePreparedStatementHandle = (buf: Uint8Array, what = 'CommandPreparedStatementQuery'): PreparedStatementHandle => ({
  preparedStatementHandle: decodeBytesMessage(buf, what),
});
export const encodeTicketStatementQuery = (m: TicketStatementQuery): Uint8Array => encodeBytesMessage(m.statementHandle);
export const decodeTicketStatementQuery = (buf: Uint8Array): TicketStatementQuery => ({ statementHandle: decodeBytesMessage(buf, 'TicketStatementQuery') });

/** repeated uint32, packed (proto3's default) or not: both are accepted, as protobuf requires. */
function readUint32s(r: ProtoReader, wire: number, field: number, out: number[]): void {
  if (wire === WireType.VARINT) {
    out.push(checkedUint32(r.varint(), r));
    return;
  }
  r.expect(wire, WireType.LEN, field);
  const packed = r.bytes();
  const inner = new ProtoReader(packed, 'packed uint32 list');
  while (!inner.done()) out.push(checkedUint32(inner.varint(), inner));
}

function checkedUint32(v: number, r: ProtoReader): number {
  if (v > 0xffffffff) r.fail(`uint32 value ${v} out of range`);
  return v;
}

export function encodeGetSqlInfo(m: GetSqlInfo): Uint8Array {
  if (m.info.length === 0) return new Uint8Array(0);
  const packed = new ProtoWriter();
  for (const v of m.info) packed.rawVarint(v);
  return new ProtoWriter().bytes(1, packed.finish()).finish();
}
export function decodeGetSqlInfo(buf: Uint8Array): GetSqlInfo {
  const m: GetSqlInfo = { info: [] };
  readFields(buf, 'CommandGetSqlInfo', (r, f, w) => {
    if (f !== 1) return false;
    readUint32s(r, w, f, m.info);
    return true;
  });
  return m;
}

export function encodeGetXdbcTypeInfo(m: GetXdbcTypeInfo): Uint8Array {
  const w = new ProtoWriter();
  if (m.dataType !== undefined) w.presentVarint(1, m.dataType);
  return w.finish();
}
export function decodeGetXdbcTypeInfo(buf: Uint8Array): GetXdbcTypeInfo {
  const m: GetXdbcTypeInfo = {};
  readFields(buf, 'CommandGetXdbcTypeInfo', (r, f, w) => {
    if (f !== 1) return false;
    // int32: a negative value arrives sign-extended to 64 bits.
    m.dataType = Number(BigInt.asIntN(32, BigInt(intField(r, w, f))));
    return true;
  });
  return m;
}

export function encodeGetDbSchemas(m: GetDbSchemas): Uint8Array {
  const w = new ProtoWriter();
  optionalString(w, 1, m.catalog);
  optionalString(w, 2, m.dbSchemaFilterPattern);
  return w.finish();
}
export function decodeGetDbSchemas(buf: Uint8Array): GetDbSchemas {
  const m: GetDbSchemas = {};
  readFields(buf, 'CommandGetDbSchemas', (r, f, w) => {
    if (f === 1) m.catalog = strField(r, w, f);
    else if (f === 2) m.dbSchemaFilterPattern = strField(r, w, f);
    else return false;
    return true;
  });
  return m;
}

export function encodeGetTables(m: GetTables): Uint8Array {
  const w = new ProtoWriter();
  optionalString(w, 1, m.catalog);
  optionalString(w, 2, m.dbSchemaFilterPattern);
  optionalString(w, 3, m.tableNameFilterPattern);
  for (const t of m.tableTypes) w.string(4, t, true);
  return w.bool(5, m.includeSchema).finish();
}
export function decodeGetTables(buf: Uint8Array): GetTables {
  const m: GetTables = { tableTypes: [], includeSchema: false };
  readFields(buf, 'CommandGetTables', (r, f, w) => {
    if (f === 1) m.catalog = strField(r, w, f);
    else if (f === 2) m.dbSchemaFilterPattern = strField(r, w, f);
    else if (f === 3) m.tableNameFilterPattern = strField(r, w, f);
    else if (f === 4) m.tableTypes.push(strField(r, w, f));
    else if (f === 5) m.includeSchema = intField(r, w, f) !== 0;
    else return false;
    return true;
  });
  return m;
}

/** GetPrimaryKeys, GetExportedKeys and GetImportedKeys share one shape. */
export function encodeTableRef(m: TableRef): Uint8Array {
  const w = new ProtoWriter();
  optionalString(w, 1, m.catalog);
  optionalString(w, 2, m.dbSchema);
  return w.string(3, m.table).finish();
}
export function decodeTableRef(buf: Uint8Array, what: 'CommandGetPrimaryKeys' | 'CommandGetExportedKeys' | 'CommandGetImportedKeys'): TableRef {
  const m: TableRef = { table: '' };
  readFields(buf, what, (r, f, w) => {
    if (f === 1) m.catalog = strField(r, w, f);
    else if (f === 2) m.dbSchema = strField(r, w, f);
    else if (f === 3) m.table = strField(r, w, f);
    else return false;
    return true;
  });
  return m;
}

export function encodeGetCrossReference(m: GetCrossReference): Uint8Array {
  const w = new ProtoWriter();
  optionalString(w, 1, m.pkCatalog);
  optionalString(w, 2, m.pkDbSchema);
  w.string(3, m.pkTable);
  optionalString(w, 4, m.fkCatalog);
  optionalString(w, 5, m.fkDbSchema);
  return w.string(6, m.fkTable).finish();
}
export function decodeGetCrossReference(buf: Uint8Array): GetCrossReference {
  const m: GetCrossReference = { pkTable: '', fkTable: '' };
  readFields(buf, 'CommandGetCrossReference', (r, f, w) => {
    if (f === 1) m.pkCatalog = strField(r, w, f);
    else if (f === 2) m.pkDbSchema = strField(r, w, f);
    else if (f === 3) m.pkTable = strField(r, w, f);
    else if (f === 4) m.fkCatalog = strField(r, w, f);
    else if (f === 5) m.fkDbSchema = strField(r, w, f);
    else if (f === 6) m.fkTable = strField(r, w, f);
    else return false;
    return true;
  });
  return m;
}

export function encodeCreatePreparedStatementResult(m: CreatePreparedStatementResult): Uint8Array {
  return new ProtoWriter().bytes(1, m.preparedStatementHandle).bytes(2, m.datasetSchema).bytes(3, m.parameterSchema).finish();
}
export function decodeCreatePreparedStatementResult(buf: Uint8Array): CreatePreparedStatementResult {
  const empty = new Uint8Array(0);
  const m: CreatePreparedStatementResult = { preparedStatementHandle: empty, datasetSchema: empty, parameterSchema: empty };
  readFields(buf, 'ActionCreatePreparedStatementResult', (r, f, w) => {
    if (f === 1) m.preparedStatementHandle = lenField(r, w, f);
    else if (f === 2) m.datasetSchema = lenField(r, w, f);
    else if (f === 3) m.parameterSchema = lenField(r, w, f);
    else return false;
    return true;
  });
  return m;
}

export function encodePutUpdateResult(m: PutUpdateResult): Uint8Array {
  return new ProtoWriter().uint(1, m.recordCount).finish();
}
export function decodePutUpdateResult(buf: Uint8Array): PutUpdateResult {
  const m: PutUpdateResult = { recordCount: 0 };
  readFields(buf, 'DoPutUpdateResult', (r, f, w) => {
    if (f !== 1) return false;
    m.recordCount = intField(r, w, f);
    return true;
  });
  return m;
}

/** DoPutPreparedStatementResult: the handle to use from now on (parameters bound), optional. */
export const encodeDoPutPreparedStatementResult = (handle: Uint8Array): Uint8Array => new ProtoWriter(handle.length + 8).bytes(1, handle, true).finish();
export function decodeDoPutPreparedStatementResult(buf: Uint8Array): Uint8Array | undefined {
  let handle: Uint8Array | undefined;
  readFields(buf, 'DoPutPreparedStatementResult', (r, f, w) => {
    if (f !== 1) return false;
    handle = lenField(r, w, f);
    return true;
  });
  return handle;
}
