/**
 * The Flight SQL message codec against another protobuf runtime: what we encode, Python's
 * protobuf (from a .proto with FlightSql.proto's field numbers) decodes to the same values, and
 * what it encodes we decode the same way, presence of `optional` fields included. Malformed bytes
 * are INVALID_ARGUMENT; bytes that are no Flight SQL Any are left to other commands.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import * as sql from '../../src/flight/sql/protocol.js';
import { PYTHON, ROOT } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';

let generated: string;
before(() => {
  generated = tempDir('fg-sqlproto-');
  execFileSync(PYTHON, ['-m', 'grpc_tools.protoc', `-I${join(ROOT, 'test/interop/proto')}`, `--python_out=${generated}`, 'flight_sql_subset.proto']);
});

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (s: string): Uint8Array => Buffer.from(s);

function python(items: unknown[]): unknown[] {
  const out = execFileSync(PYTHON, [join(ROOT, 'test/interop/py/flight_sql_codec.py'), generated], { input: JSON.stringify(items) });
  return JSON.parse(out.toString()) as unknown[];
}

interface Case {
  name: sql.SqlMessageName;
  encoded: Uint8Array;
  /** The message as Python's runtime sees it: proto field names, bytes as hex, only present fields. */
  fields: Record<string, unknown>;
  decode: (value: Uint8Array) => unknown;
  expected: unknown;
}

const handle = bytes('handle-\u0000-\u00ff');
const CASES: Case[] = [
  {
    name: 'CommandStatementQuery',
    encoded: sql.encodeStatementQuery({ query: 'SELECT name, count(*) FROM numbers GROUP BY name', transactionId: new Uint8Array(0) }),
    fields: { query: 'SELECT name, count(*) FROM numbers GROUP BY name', transaction_id: '' },
    decode: (v) => sql.decodeStatementQuery(v),
    expected: { query: 'SELECT name, count(*) FROM numbers GROUP BY name', transactionId: new Uint8Array(0) },
  },
  {
    name: 'CommandStatementUpdate',
    encoded: sql.encodeStatementQuery({ query: "INSERT INTO t VALUES ('é')" }),
    fields: { query: "INSERT INTO t VALUES ('é')" },
    decode: (v) => sql.decodeStatementQuery(v, 'CommandStatementUpdate'),
    expected: { query: "INSERT INTO t VALUES ('é')" },
  },
  {
    name: 'CommandPreparedStatementQuery',
    encoded: sql.encodePreparedStatementHandle({ preparedStatementHandle: handle }),
    fields: { prepared_statement_handle: hex(handle) },
    decode: (v) => sql.decodePreparedStatementHandle(v),
    expected: { preparedStatementHandle: handle },
  },
  {
    name: 'TicketStatementQuery',
    encoded: sql.encodeTicketStatementQuery({ statementHandle: handle }),
    fields: { statement_handle: hex(handle) },
    decode: (v) => sql.decodeTicketStatementQuery(v),
    expected: { statementHandle: handle },
  },
  {
    name: 'CommandGetSqlInfo',
    encoded: sql.encodeGetSqlInfo({ info: [0, 1, 2, 3, 504, 4_294_967_295] }),
    fields: { info: [0, 1, 2, 3, 504, 4_294_967_295] },
    decode: (v) => sql.decodeGetSqlInfo(v),
    expected: { info: [0, 1, 2, 3, 504, 4_294_967_295] },
  },
  {
    name: 'CommandGetSqlInfo',
    encoded: sql.encodeGetSqlInfo({ info: [] }),
    fields: {},
    decode: (v) => sql.decodeGetSqlInfo(v),
    expected: { info: [] },
  },
  {
    name: 'CommandGetXdbcTypeInfo',
    encoded: sql.encodeGetXdbcTypeInfo({ dataType: -5 }),
    fields: { data_type: -5 },
    decode: (v) => sql.decodeGetXdbcTypeInfo(v),
    expected: { dataType: -5 },
  },
  {
    name: 'CommandGetXdbcTypeInfo',
    encoded: sql.encodeGetXdbcTypeInfo({ dataType: 0 }),
    fields: { data_type: 0 },
    decode: (v) => sql.decodeGetXdbcTypeInfo(v),
    expected: { dataType: 0 },
  },
  {
    name: 'CommandGetCatalogs',
    encoded: new Uint8Array(0),
    fields: {},
    decode: () => ({}),
    expected: {},
  },
  {
    name: 'CommandGetDbSchemas',
    encoded: sql.encodeGetDbSchemas({ catalog: '', dbSchemaFilterPattern: 'pub%' }),
    fields: { catalog: '', db_schema_filter_pattern: 'pub%' },
    decode: (v) => sql.decodeGetDbSchemas(v),
    expected: { catalog: '', dbSchemaFilterPattern: 'pub%' },
  },
  {
    name: 'CommandGetTables',
    encoded: sql.encodeGetTables({ catalog: 'flightgate', tableNameFilterPattern: 'db_', tableTypes: ['TABLE', 'VIEW'], includeSchema: true }),
    fields: { catalog: 'flightgate', table_name_filter_pattern: 'db_', table_types: ['TABLE', 'VIEW'], include_schema: true },
    decode: (v) => sql.decodeGetTables(v),
    expected: { catalog: 'flightgate', tableNameFilterPattern: 'db_', tableTypes: ['TABLE', 'VIEW'], includeSchema: true },
  },
  {
    name: 'CommandGetPrimaryKeys',
    encoded: sql.encodeTableRef({ dbSchema: 'main', table: 'numbers' }),
    fields: { db_schema: 'main', table: 'numbers' },
    decode: (v) => sql.decodeTableRef(v, 'CommandGetPrimaryKeys'),
    expected: { dbSchema: 'main', table: 'numbers' },
  },
  {
    name: 'CommandGetCrossReference',
    encoded: sql.encodeGetCrossReference({ pkCatalog: 'a', pkTable: 'p', fkDbSchema: 's', fkTable: 'f' }),
    fields: { pk_catalog: 'a', pk_table: 'p', fk_db_schema: 's', fk_table: 'f' },
    decode: (v) => sql.decodeGetCrossReference(v),
    expected: { pkCatalog: 'a', pkTable: 'p', fkDbSchema: 's', fkTable: 'f' },
  },
  {
    name: 'ActionCreatePreparedStatementResult',
    encoded: sql.encodeCreatePreparedStatementResult({ preparedStatementHandle: handle, datasetSchema: bytes('schema'), parameterSchema: new Uint8Array(0) }),
    fields: { prepared_statement_handle: hex(handle), dataset_schema: hex(bytes('schema')) },
    decode: (v) => sql.decodeCreatePreparedStatementResult(v),
    expected: { preparedStatementHandle: handle, datasetSchema: bytes('schema'), parameterSchema: new Uint8Array(0) },
  },
  {
    name: 'DoPutUpdateResult',
    encoded: sql.encodePutUpdateResult({ recordCount: -1 }),
    fields: { record_count: -1 },
    decode: (v) => sql.decodePutUpdateResult(v),
    expected: { recordCount: -1 },
  },
  {
    name: 'DoPutUpdateResult',
    encoded: sql.encodePutUpdateResult({ recordCount: 9_007_199_254_740_991 }),
    fields: { record_count: 9_007_199_254_740_991 },
    decode: (v) => sql.decodePutUpdateResult(v),
    expected: { recordCount: 9_007_199_254_740_991 },
  },
];

/** Uint8Arrays and Buffers compare by content. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${hex(v)}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

test('what we encode, Python protobuf decodes to the same message, optional presence included', () => {
  const decoded = python(CASES.map((c) => ({ any: hex(sql.packSql(c.name, c.encoded)) })));
  CASES.forEach((c, i) => {
    assert.deepEqual(decoded[i], { type_url: sql.SQL_TYPE_URL_PREFIX + c.name, fields: c.fields }, c.name);
  });
});

test('what Python protobuf encodes, we decode to the same message', () => {
  const encoded = python(CASES.map((c) => ({ encode: c.name, fields: c.fields }))) as string[];
  CASES.forEach((c, i) => {
    const any = Buffer.from(encoded[i]!, 'hex');
    const found = sql.sqlMessageOf(any);
    assert.deepEqual(found && { name: found.name, known: found.known }, { name: c.name, known: true }, c.name);
    assert.deepEqual(plain(c.decode(sql.unpackSql(any, c.name))), plain(c.expected), c.name);
  });
});

test('bytes that are not a Flight SQL Any are left to other commands; a foreign message in the Any is refused by name', () => {
  assert.equal(sql.sqlMessageOf(Buffer.from('{"dataset":"t","mode":"append"}')), undefined);
  assert.equal(sql.sqlMessageOf(Buffer.from('echo')), undefined);
  assert.equal(sql.sqlMessageOf(sql.encodeAny('type.googleapis.com/google.protobuf.StringValue', new Uint8Array(0))), undefined);
  assert.deepEqual(sql.sqlMessageOf(sql.encodeAny(`${sql.SQL_TYPE_URL_PREFIX}CommandFromTheFuture`, new Uint8Array(0))), {
    name: 'CommandFromTheFuture',
    known: false,
    value: new Uint8Array(0),
  });
  const wrong = sql.packSql('CommandGetTables', new Uint8Array(0));
  assert.throws(() => sql.unpackSql(wrong, 'CommandStatementQuery'), (e: unknown) => e instanceof FlightgateError && e.status === Status.INVALID_ARGUMENT && /CommandStatementQuery.*CommandGetTables/.test(e.message));
});

test('malformed messages are INVALID_ARGUMENT, never a crash or a wrong value', () => {
  const invalid = (e: unknown): boolean => e instanceof FlightgateError && e.status === Status.INVALID_ARGUMENT;
  const query = sql.encodeStatementQuery({ query: 'SELECT 1' });
  for (let cut = 1; cut < query.length; cut++) assert.throws(() => sql.decodeStatementQuery(query.subarray(0, cut)), invalid, `cut at ${cut}`);
  // A packed uint32 list holding a value past 2^32 - 1.
  assert.throws(() => sql.decodeGetSqlInfo(Uint8Array.from([0x0a, 0x05, 0x80, 0x80, 0x80, 0x80, 0x10])), invalid);
  // A string field that is not UTF-8.
  assert.throws(() => sql.decodeGetTables(Uint8Array.from([0x0a, 0x02, 0xc3, 0x28])), invalid);
  // A varint where a string belongs.
  assert.throws(() => sql.decodeGetTables(Uint8Array.from([0x0a ^ 0x02, 0x01])), invalid);
  // Unknown fields are skipped, as protobuf requires.
  assert.deepEqual(sql.decodeStatementQuery(Uint8Array.from([...query, 0x78, 0x01])), { query: 'SELECT 1' });
});
